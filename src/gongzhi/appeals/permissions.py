"""The appeals loop's permissions and the roles that hold them."""

from gongzhi.core import access
from gongzhi.core.access import Role
from gongzhi.orgs import permissions as orgs_permissions


class Perm(orgs_permissions.Perm):
    APPEALS_VIEW = "appeals.view"  # appeals whose place is in the subtree
    APPEALS_FILE = "appeals.file"  # file an appeal for a resident (window, visit, hotline, meeting)
    APPEALS_DISPATCH = "appeals.dispatch"  # dispatch, merge, verify, close, approve extensions
    APPEALS_HANDLE = "appeals.handle"  # accept, resolve, return, ask for more time
    APPEALS_SUPERVISE = "appeals.supervise"  # supervise overdue appeals, approve voiding
    APPEALS_ADMIN = "appeals.admin"  # categories, routing, deadline policies, calendar, Open311 keys, webhooks


_MINE = {v for k, v in vars(Perm).items() if k.isupper()}
_AREA = {Perm.APPEALS_VIEW, Perm.APPEALS_FILE, Perm.APPEALS_DISPATCH, Perm.APPEALS_HANDLE}

access.declare("appeals", Perm, {
    Role.COUNTY_ADMIN: _MINE,
    Role.SUBDISTRICT_STAFF: _MINE,
    Role.COMMUNITY_STAFF: _AREA,
    Role.GRID_WORKER: _AREA,
    Role.BUILDING_STEWARD: {Perm.APPEALS_FILE},
    Role.PARTY_SECRETARY: {Perm.APPEALS_FILE},
    # Handlers of a unit act on what is dispatched to their unit.
    Role.DEPARTMENT_HANDLER: {Perm.APPEALS_HANDLE},
    Role.PARTNER_CONTACT: {Perm.APPEALS_HANDLE},
})
