"""The registry's permissions (places, tree, residents, party, units) and the roles that hold them."""

from gongzhi.core import access
from gongzhi.core.access import Role


class Perm(access.Perm):
    PLACES_VIEW = "places.view"
    PLACES_EDIT = "places.edit"  # compounds, buildings, grids
    TREE_EDIT = "tree.edit"  # add, move and split org nodes
    REGISTRY_VIEW = "registry.view"
    REGISTRY_EDIT = "registry.edit"
    REGISTRY_EXPORT = "registry.export"
    PII_REVEAL = "pii.reveal"
    PARTY_VIEW = "party.view"
    PARTY_EDIT = "party.edit"
    UNITS_VIEW = "units.view"
    UNITS_EDIT = "units.edit"


_MINE = {v for k, v in vars(Perm).items() if k.isupper()}
_LOOK = {Perm.PLACES_VIEW, Perm.REGISTRY_VIEW, Perm.PARTY_VIEW, Perm.UNITS_VIEW}

access.declare("orgs", Perm, {
    Role.COUNTY_ADMIN: _MINE,
    Role.SUBDISTRICT_STAFF: _MINE,
    Role.COMMUNITY_STAFF: _LOOK | {
        Perm.PLACES_EDIT, Perm.TREE_EDIT, Perm.REGISTRY_EDIT, Perm.REGISTRY_EXPORT, Perm.PII_REVEAL, Perm.PARTY_EDIT,
    },
    Role.GRID_WORKER: _LOOK | {Perm.REGISTRY_EDIT, Perm.REGISTRY_EXPORT, Perm.PII_REVEAL},
    Role.BUILDING_STEWARD: {Perm.PLACES_VIEW, Perm.REGISTRY_VIEW},
    Role.PARTY_SECRETARY: {Perm.PLACES_VIEW, Perm.PARTY_VIEW, Perm.PARTY_EDIT},
    # Handlers of a unit see the appeals dispatched to their unit (see appeals.selectors), not the area's.
    Role.DEPARTMENT_HANDLER: {Perm.PLACES_VIEW, Perm.UNITS_VIEW},
    Role.PARTNER_CONTACT: {Perm.PLACES_VIEW, Perm.UNITS_VIEW},
    # A resident sees their own household and nothing else of the registry (see orgs.selectors).
})
