"""The roles a user can hold at an org node, and the permissions each role grants there."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("County administrator")
    SUBDISTRICT_STAFF = "subdistrict_staff", _("Subdistrict staff")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    BUILDING_STEWARD = "building_steward", _("Building steward")
    PARTY_SECRETARY = "party_secretary", _("Party branch secretary")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    PARTNER_CONTACT = "partner_contact", _("Partner-unit contact")
    RESIDENT = "resident", _("Resident")


class Perm:
    """Permission names. A role grants them inside the subtree of the node it is held at."""

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
    AUDIT_VIEW = "audit.view"
    USERS_MANAGE = "users.manage"
    WORKBENCH = "workbench"  # the staff pages at all
    APPEALS_VIEW = "appeals.view"  # appeals whose place is in the subtree
    APPEALS_FILE = "appeals.file"  # file an appeal for a resident (window, visit, hotline, meeting)
    APPEALS_DISPATCH = "appeals.dispatch"  # dispatch, merge, verify, close, approve extensions
    APPEALS_HANDLE = "appeals.handle"  # accept, resolve, return, ask for more time
    APPEALS_SUPERVISE = "appeals.supervise"  # supervise overdue appeals, approve voiding
    APPEALS_ADMIN = "appeals.admin"  # categories, routing, deadline policies, calendar, Open311 keys, webhooks


_ALL = {v for k, v in vars(Perm).items() if k.isupper()}
_STAFF_COMMON = {
    Perm.WORKBENCH, Perm.PLACES_VIEW, Perm.REGISTRY_VIEW, Perm.PARTY_VIEW, Perm.UNITS_VIEW,
    Perm.APPEALS_VIEW, Perm.APPEALS_FILE,
}
_HANDLER = {Perm.WORKBENCH, Perm.PLACES_VIEW, Perm.UNITS_VIEW, Perm.APPEALS_HANDLE}

ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.COUNTY_ADMIN: frozenset(_ALL),
    Role.SUBDISTRICT_STAFF: frozenset(_ALL),
    Role.COMMUNITY_STAFF: frozenset(
        _STAFF_COMMON
        | {Perm.PLACES_EDIT, Perm.TREE_EDIT, Perm.REGISTRY_EDIT, Perm.REGISTRY_EXPORT, Perm.PII_REVEAL, Perm.PARTY_EDIT,
           Perm.APPEALS_DISPATCH, Perm.APPEALS_HANDLE}
    ),
    Role.GRID_WORKER: frozenset(
        _STAFF_COMMON
        | {Perm.REGISTRY_EDIT, Perm.REGISTRY_EXPORT, Perm.PII_REVEAL, Perm.APPEALS_DISPATCH, Perm.APPEALS_HANDLE}
    ),
    Role.BUILDING_STEWARD: frozenset({Perm.WORKBENCH, Perm.PLACES_VIEW, Perm.REGISTRY_VIEW, Perm.APPEALS_FILE}),
    Role.PARTY_SECRETARY: frozenset(
        {Perm.WORKBENCH, Perm.PLACES_VIEW, Perm.PARTY_VIEW, Perm.PARTY_EDIT, Perm.APPEALS_FILE}
    ),
    # Handlers of a unit see the appeals dispatched to their unit (see appeals.selectors), not the area's.
    Role.DEPARTMENT_HANDLER: frozenset(_HANDLER),
    Role.PARTNER_CONTACT: frozenset(_HANDLER),
    # A resident sees their own household and nothing else of the registry (see orgs.selectors).
    Role.RESIDENT: frozenset(),
}

STAFF_ROLES = frozenset(r for r, perms in ROLE_PERMS.items() if Perm.WORKBENCH in perms)
