"""Password login with lockout after repeated failures, shared by the login page and the token endpoint."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from .models import User


class LockedOut(Exception):
    def __init__(self, until):
        super().__init__("locked")
        self.until = until


def check_password_with_lockout(username: str, password: str) -> User | None:
    """The user for these credentials, or None; raises LockedOut while the account is locked.

    Counters are updated with single UPDATE statements so parallel attempts all count.
    """
    from django.db.models import F

    user = User.objects.filter(username=username).first()
    now = timezone.now()
    if user is None:
        User().set_password(password)  # same work as a real check, so timing says nothing
        return None
    if user.locked_until and user.locked_until > now:
        raise LockedOut(user.locked_until)
    if user.check_password(password) and user.is_active:
        if user.failed_logins or user.locked_until:
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        return user
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    user.refresh_from_db(fields=["failed_logins"])
    if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
        until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
        raise LockedOut(until)
    return None


class LockoutBackend(ModelBackend):
    def get_user(self, user_id):
        """The session's user with their active role assignments (``User.active_assignments``) in one query:
        every page reads both, the assignments to scope what it shows."""
        from .models import RoleAssignment

        rows = list(RoleAssignment.objects.filter(user_id=user_id, is_active=True).select_related("user", "node", "unit"))
        if rows:
            user = rows[0].user
            for row in rows:
                row.user = user
            user.__dict__["active_assignments"] = rows  # fills the cached_property
        else:
            user = User._default_manager.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        try:
            return check_password_with_lockout(username, password)
        except LockedOut as exc:
            if request is not None:
                request.gongzhi_locked_until = exc.until
            return None
