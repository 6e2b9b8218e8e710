"""Account writes: API tokens, passwords, lifting login locks. Each is atomic and audited (roles and staff
accounts: ``users``)."""

from __future__ import annotations

import datetime as dt

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.api import TokenRefused

from .. import policies, selectors
from ..models import ApiToken, User


def token_expiry(days: int | None) -> dt.datetime | None:
    """When a token made now for ``days`` expires (None: never); ValidationError for a lifetime not offered."""
    choices = policies.token_day_choices()
    if days is None and policies.tokens_may_live_forever():
        return None
    if days not in choices:
        raise ValidationError(
            {"expires_in_days": _("Choose how many days the token lasts: %(choices)s.")
             % {"choices": ", ".join(str(d) for d in choices)}},
            code="token_days",
        )
    return timezone.now() + dt.timedelta(days=days)


DEFAULT_DAYS = object()  # token_create(days=...) left out: API_TOKEN_DEFAULT_DAYS


@transaction.atomic
def token_create(*, user: User, name: str, days=DEFAULT_DAYS) -> tuple[ApiToken, str]:
    """Make a token lasting ``days`` (default ``API_TOKEN_DEFAULT_DAYS``; None: never, where the settings
    allow); the raw value is returned once and never stored."""
    expires_at = token_expiry(settings.API_TOKEN_DEFAULT_DAYS if days is DEFAULT_DAYS else days)
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=raw[3:11], key_hash=ApiToken.hash_of(raw), expires_at=expires_at,
    )
    audit.record(actor=user, action="token.create", obj=token, org_path=selectors.home_path(user),
                 changes={"name": name, "expires_at": expires_at})
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke a token: its owner, or someone who manages the owner (``policies.can_revoke_token``)."""
    if not policies.can_revoke_token(by, token):
        raise PermissionDenied(_("You may not revoke this token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=by, action="token.revoke", obj=token, org_path=selectors.home_path(token.user),
                     changes={"user": token.user.username, "name": token.name})
    return token


@transaction.atomic
def password_change(*, user: User, new_password: str) -> User:
    """A user sets their own password (the form checked the old one and the password rules); a forced change
    after a reset or a first login is done with it."""
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit.record(actor=user, action="user.password_change", obj=user, org_path=selectors.home_path(user))
    return user


@transaction.atomic
def login_lock_lift(*, by: User, user: User, address: str) -> int:
    """Forget ``user``'s failed logins from ``address``, so they may log in from there again at once."""
    if not policies.can_manage_user(by, user):
        raise PermissionDenied(_("You may not lift this lock."))
    lock = selectors.account_lock(by, username=user.username, address=address)
    count = AxesProxyHandler.reset_attempts(ip_address=address, username=user.username)
    audit.record(actor=by, action="login.unlock", obj=user, org_path=selectors.home_path(user),
                 changes={"address": address, "failures": lock["failures"] if lock else 0})
    return count


@transaction.atomic
def login_address_unlock(*, by: User, address: str) -> int:
    """Forget every failed login from ``address`` (all user names), so logins from it are accepted again."""
    if not policies.can_lift_address_lock(by):
        raise PermissionDenied(_("You may not lift this lock."))
    lock = selectors.address_lock(by, address=address)
    count = AxesProxyHandler.reset_attempts(ip_address=address)
    audit.record(actor=by, action="login.unlock_address", object_type="login.address", object_id=address,
                 object_repr=address, org_path=selectors.top_manage_path(by),
                 changes={"address": address, "failures": lock["failures"] if lock else 0})
    return count


def token_user(raw: str) -> User | None:
    """The active user behind a bearer token, or None for an unknown one; a revoked or expired token raises
    ``TokenRefused`` with a message saying which and since when."""
    if not raw:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_of(raw)).first()
    if token is None or not token.user.is_active:
        return None
    if token.revoked_at is not None:
        raise TokenRefused(_("This API token was revoked on %(date)s. Make a new one on your account page.")
                           % {"date": formats.date_format(timezone.localtime(token.revoked_at), "Y-m-d H:i")})
    if token.is_expired:
        raise TokenRefused(_("This API token expired on %(date)s. Make a new one on your account page.")
                           % {"date": formats.date_format(timezone.localtime(token.expires_at), "Y-m-d H:i")})
    if token.user.must_change_password:
        raise TokenRefused(_("This account must choose a new password first: log in on the web and change it."))
    token.touch()
    return token.user
