"""Participation's permissions (micro-wishes so far; service orders, volunteers and activities follow) and the
roles that hold them. Claiming a wish is not a role's permission: party members of the community (a resident
account with a party membership) and contacts of a partner unit serving it claim (``policies.can_claim``)."""

from gongzhi.core import access
from gongzhi.core.access import Role
from gongzhi.orgs import permissions as orgs_permissions


class Perm(orgs_permissions.Perm):
    WISHES_VIEW = "wishes.view"  # the area's wishes with who made them
    WISHES_COLLECT = "wishes.collect"  # take down a wish on a visit or from the wish wall
    WISHES_MANAGE = "wishes.manage"  # verify, publish, reject, record a claim or fulfilment made offline
    ORDERS_VIEW = "orders.view"  # the area's service orders
    ORDERS_PLACE = "orders.place"  # order a service for a resident (and record their rating on a call)
    ORDERS_DISPATCH = "orders.dispatch"  # 派单: to a party member, or open for taking
    SERVICES_EDIT = "services.edit"  # the community's service list


_MINE = {v for k, v in vars(Perm).items() if k.isupper() and k.split("_")[0] in ("WISHES", "ORDERS", "SERVICES")}

access.declare("participation", Perm, {
    Role.COUNTY_ADMIN: _MINE,
    Role.SUBDISTRICT_STAFF: _MINE,
    Role.COMMUNITY_STAFF: _MINE,
    Role.GRID_WORKER: {Perm.WISHES_VIEW, Perm.WISHES_COLLECT, Perm.ORDERS_VIEW, Perm.ORDERS_PLACE},
    Role.BUILDING_STEWARD: {Perm.WISHES_COLLECT, Perm.ORDERS_PLACE},
    # The branch dispatches the orders of its area (党支部派单).
    Role.PARTY_SECRETARY: {Perm.WISHES_VIEW, Perm.ORDERS_VIEW, Perm.ORDERS_DISPATCH},
})
