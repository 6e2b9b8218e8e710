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
