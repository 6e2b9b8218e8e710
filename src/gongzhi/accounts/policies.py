"""Who may do what to accounts: manage a user (see and change their account and roles, lift their login locks,
revoke their tokens), give and withdraw roles, lift an address's lock, and which token lifetimes may be chosen.

A user is *managed* by someone holding ``users.manage`` over every place of the user's active roles (the node,
and for a department handler or partner-unit contact the unit's home too), each role being one the manager
could give there (``role_fits``): a community's staff manage its grid workers, not a county administrator who
also holds a role there. A user whose roles were all withdrawn is managed by whoever would manage the roles
they held; a user who never held one, and whole network addresses, are the business of those who manage a
whole tree (``users.manage`` at a top node) and of superusers. Nobody but a superuser manages a superuser.

A role is given (``assign_refusal``) only at a node inside the giver's ``users.manage`` subtree, at a node of
the kind the role belongs to (``ROLE_NODE_KINDS``), and only when every permission of the role is one the giver
holds at that node: no escalation. Unit roles need a unit of the giver's area.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from gongzhi.core.access import ROLE_PERMS, SYSTEM, UNIT_ROLES, Role
from gongzhi.orgs.models import NodeKind, OrgNode

from gongzhi.orgs.permissions import Perm

# The kinds of node each role is held at (a county administrator: the top of a tree, whatever its kind).
_GRIDS = (NodeKind.GRID, NodeKind.MICRO_GRID)
ROLE_NODE_KINDS: dict[str, tuple[str, ...]] = {
    Role.SUBDISTRICT_STAFF: (NodeKind.SUBDISTRICT,),
    Role.COMMUNITY_STAFF: (NodeKind.COMMUNITY,),
    Role.GRID_WORKER: _GRIDS,
    Role.BUILDING_STEWARD: _GRIDS,
    Role.PARTY_SECRETARY: (NodeKind.COMMUNITY, *_GRIDS),
    Role.RESIDENT: _GRIDS,
    Role.DEPARTMENT_HANDLER: tuple(NodeKind.values),
    Role.PARTNER_CONTACT: tuple(NodeKind.values),
}


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def manage_paths(user) -> list[str]:
    return user.paths_with(Perm.USERS_MANAGE) if _authenticated(user) else []


def can_manage_users(user) -> bool:
    """The staff pages for accounts, login locks and users' tokens at all."""
    return _authenticated(user) and (user.is_superuser or bool(manage_paths(user)))


def manages_everything(user) -> bool:
    return _authenticated(user) and (
        user.is_superuser or any(len(p) == OrgNode.steplen for p in manage_paths(user))
    )


def perms_at(user, path: str) -> frozenset[str]:
    """Every permission ``user`` holds at the node with ``path`` (from their roles there and above)."""
    if not _authenticated(user):
        return frozenset()
    held: set[str] = set()
    for a in user.active_assignments:
        if path.startswith(a.org_path):
            held |= ROLE_PERMS.get(a.role, frozenset())
    return frozenset(held)


def _inside(paths: list[str], path: str) -> bool:
    return any(path.startswith(p) for p in paths)


def role_fits(user, role: str, path: str, unit_path: str | None = None) -> bool:
    """Could ``user`` give ``role`` at the node with ``path`` (for a unit at ``unit_path``)? Inside their
    ``users.manage`` subtree, every permission of the role held there, and the unit of their area."""
    if not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    paths = manage_paths(user)
    if not _inside(paths, path):
        return False
    if unit_path is not None and not _inside(paths, unit_path):
        return False
    return ROLE_PERMS.get(role, frozenset()) <= perms_at(user, path)


def _places(target) -> list[tuple[str, str, str | None]]:
    """(role, path, unit path) of the target's active roles; of all their roles once none is active."""
    rows = list(target.role_assignments.filter(is_active=True).values_list("role", "org_path", "unit__org_path"))
    if not rows:
        rows = list(target.role_assignments.values_list("role", "org_path", "unit__org_path"))
    return rows


def can_manage_user(user, target) -> bool:
    if not _authenticated(user) or target is None:
        return False
    if user.is_superuser:
        return True
    if target.is_superuser:
        return False
    if not manage_paths(user):
        return False
    places = _places(target)
    if not places:
        return manages_everything(user)
    return all(role_fits(user, role, path, unit_path) for role, path, unit_path in places)


def can_change_account(user, target) -> bool:
    """Reset the password of, disable or enable ``target``: someone who manages them, never themselves (one's
    own password is changed on the password page)."""
    return can_manage_user(user, target) and target.pk != user.pk


def assign_refusal(by, role: str, node: OrgNode | None, unit=None) -> tuple[str, str] | None:
    """Why ``by`` may not give ``role`` at ``node`` (for ``unit``), or None when they may: ("denied", message)
    for a place or a role beyond the giver's own (403), ("invalid", message) for a role that does not belong
    there (422). SYSTEM may give any role anywhere."""
    if role not in Role.values:
        return "invalid", _("There is no such role.")
    if by is SYSTEM:
        return None
    if node is None or not _authenticated(by) or not (by.is_superuser or _inside(manage_paths(by), node.path)):
        return "denied", _("You may only give roles at places inside your own area.")
    if role in UNIT_ROLES and unit is None:
        return "invalid", _("A department handler or partner-unit contact is given for a unit: choose the unit.")
    if role not in UNIT_ROLES and unit is not None:
        return "invalid", _("Only department handlers and partner-unit contacts are given for a unit.")
    if not role_fits(by, role, node.path, unit.org_path if unit is not None else None):
        if unit is not None and not by.is_superuser and not _inside(manage_paths(by), unit.org_path):
            return "denied", _("You may only give roles for units of your own area.")
        return "denied", _("You may not give a role with more rights than you hold there.")
    kinds = ROLE_NODE_KINDS.get(role)
    if role == Role.COUNTY_ADMIN:
        if node.depth != 1:
            return "invalid", _("A county administrator is given at the top of the tree.")
    elif kinds is not None and node.kind not in kinds:
        return "invalid", _("The role %(role)s is held at: %(kinds)s; %(node)s is not one of these.") % {
            "role": Role(role).label, "kinds": " / ".join(str(NodeKind(k).label) for k in kinds), "node": node.name}
    return None


def can_withdraw(user, assignment) -> bool:
    """Withdraw a role: someone who manages its holder and could give it there; never one's own."""
    return (
        assignment.is_active and assignment.user_id != getattr(user, "pk", None)
        and can_manage_user(user, assignment.user)
        and role_fits(user, assignment.role, assignment.org_path,
                      assignment.unit.org_path if assignment.unit_id else None)
    )


def assignable_roles(user) -> list[str]:
    """The roles ``user`` may give somewhere (for the forms' choices)."""
    if not _authenticated(user):
        return []
    if user.is_superuser:
        return list(Role.values)
    return [r for r in Role.values
            if any(role_fits(user, r, a.org_path) for a in user.active_assignments if _inside(manage_paths(user), a.org_path))]


def can_link_party_member(user, member) -> bool:
    """Link or make the account of a party member: the branch's staff (``party.edit`` over the member)."""
    return _authenticated(user) and user.can(Perm.PARTY_EDIT, member.org_path)


def can_lift_address_lock(user) -> bool:
    """An address is shared by everyone behind it, whatever their area."""
    return manages_everything(user)


def can_revoke_token(user, token) -> bool:
    return _authenticated(user) and (token.user_id == user.pk or can_manage_user(user, token.user))


def token_day_choices() -> list[int]:
    """The lifetimes (days) a new token may be given; the default is always one of them."""
    return sorted({d for d in settings.API_TOKEN_DAY_CHOICES if d > 0} | {settings.API_TOKEN_DEFAULT_DAYS})


def tokens_may_live_forever() -> bool:
    return bool(settings.API_TOKEN_ALLOW_UNLIMITED)


# --- joining by real name (``actions.join``) ---------------------------------------------------------------------
# Linking an account to a registry record is a change to the registry: whoever may edit a household's records
# (``registry.edit`` over it: its grid worker, community and subdistrict staff, the county) issues its join codes,
# decides its join requests and unlinks a member who moved out. A party member's code is the branch's business:
# ``party.edit`` over the member (the party secretary, community staff).


def _may(user, perm: str, path: str) -> bool:
    """``user`` holds ``perm`` over ``path``; ``core.access.SYSTEM`` (the demo, the benchmarks) may."""
    from gongzhi.core.access import SYSTEM

    return user is SYSTEM or (_authenticated(user) and user.can(perm, path))


def can_issue_household_code(user, household) -> bool:
    return _may(user, Perm.REGISTRY_EDIT, household.org_path)


def can_issue_party_code(user, member) -> bool:
    return _may(user, Perm.PARTY_EDIT, member.org_path)


def can_revoke_join_code(user, code) -> bool:
    if code.kind == "party_member":
        return _may(user, Perm.PARTY_EDIT, code.org_path)
    return _may(user, Perm.REGISTRY_EDIT, code.org_path)


def join_request_perms(join_request) -> tuple[str, ...]:
    """The permissions that let someone decide a request: a party member's by the branch or the registry's
    editors, every other by the registry's editors."""
    if join_request.party_member_id:
        return (Perm.REGISTRY_EDIT, Perm.PARTY_EDIT)
    return (Perm.REGISTRY_EDIT,)


def can_decide_join_request(user, join_request) -> bool:
    return any(_may(user, p, join_request.org_path) for p in join_request_perms(join_request))


def can_link_resident(user, resident) -> bool:
    """Link an account to ``resident`` (approving a request) or unlink it (the resident moved out)."""
    return _may(user, Perm.REGISTRY_EDIT, resident.org_path)


def sees_join_requests(user) -> bool:
    """The join request pages at all."""
    return _authenticated(user) and (user.can(Perm.REGISTRY_EDIT) or user.can(Perm.PARTY_EDIT))


def join_code_day_choices() -> list[int]:
    return sorted({d for d in settings.JOIN_CODE_DAY_CHOICES if d > 0} | {settings.JOIN_CODE_DEFAULT_DAYS})
