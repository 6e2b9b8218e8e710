"""Who may do what to accounts: manage a user (lift their login locks, revoke their tokens), lift an address's
lock, and which token lifetimes may be chosen.

A user is *managed* by someone holding ``users.manage`` over every org node where the user holds an active
role: a subdistrict's staff manage the subdistrict's grid workers, not a county administrator who also holds
a role there. Users with no role, and whole network addresses, are the business of those who manage a whole
tree (``users.manage`` at a top node) and of superusers. Nobody but a superuser manages a superuser.
"""

from __future__ import annotations

from django.conf import settings

from gongzhi.orgs.models import OrgNode

from gongzhi.orgs.permissions import Perm


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def manage_paths(user) -> list[str]:
    return user.paths_with(Perm.USERS_MANAGE) if _authenticated(user) else []


def can_manage_users(user) -> bool:
    """The staff pages for login locks and users' tokens at all."""
    return _authenticated(user) and (user.is_superuser or bool(manage_paths(user)))


def manages_everything(user) -> bool:
    return _authenticated(user) and (
        user.is_superuser or any(len(p) == OrgNode.steplen for p in manage_paths(user))
    )


def can_manage_user(user, target) -> bool:
    if not _authenticated(user) or target is None:
        return False
    if user.is_superuser:
        return True
    if target.is_superuser:
        return False
    paths = manage_paths(user)
    if not paths:
        return False
    held = list(target.role_assignments.filter(is_active=True).values_list("org_path", flat=True))
    if not held:
        return manages_everything(user)
    return all(any(path.startswith(p) for p in paths) for path in held)


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
