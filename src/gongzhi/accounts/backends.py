"""The one authentication backend: passwords checked under the login throttle (``accounts.throttle``)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied, AxesBackendRequestParameterRequired
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

import time

from django.core.cache import cache

from . import throttle
from .models import RoleAssignment, User

# A session's user with their roles, kept in the cache this long at most; any change to the user, their
# roles or the tree drops it at once (``forget_user``, ``forget_all_users``, wired in ``apps.py``).
USER_CACHE_SECONDS = 300
_EPOCH_KEY = "accounts:users-epoch"


def _user_key(user_id) -> str | None:
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    epoch = cache.get(_EPOCH_KEY)
    if epoch is None:
        epoch = 0
        cache.add(_EPOCH_KEY, epoch, None)
    return f"accounts:user:{epoch}:{user_id}"


def forget_user(user_id) -> None:
    """Drop one user's cached copy (their account or one of their roles changed), and mark the user changed
    (``user_generation``), so that what was cached about them elsewhere (a bearer token's check) is checked
    again."""
    key = _user_key(user_id)
    if key:
        cache.delete(key)
        cache.set(generation_key(user_id), time.time_ns(), None)


def generation_key(user_id) -> str:
    return f"accounts:user-gen:{user_id}"


def forget_all_users(**kwargs) -> None:
    """Drop every cached user (the tree moved or a node or unit changed: their roles' places did)."""
    try:
        cache.incr(_EPOCH_KEY)
    except ValueError:  # not there yet
        cache.add(_EPOCH_KEY, 1, None)


class ThrottledBackend(AxesStandaloneBackend, ModelBackend):
    """``ModelBackend`` behind the throttle: a refused attempt never reaches the password check, and every
    checked one was counted first. ``authenticate`` needs the request (its address): without one it raises,
    as axes does, rather than check a password nobody counts."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        if not settings.AXES_ENABLED:
            return ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        if request is None:
            raise AxesBackendRequestParameterRequired("ThrottledBackend needs the request to count attempts")
        lock = throttle.reserve(request, username)
        if lock is not None:
            throttle.refuse(request, lock)
            # Django's authenticate() stops here and sends user_login_failed (ThrottleHandler).
            raise AxesBackendPermissionDenied("locked")
        user = ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)
        if user is not None:
            throttle.succeeded(request, username)
        return user

    def get_user(self, user_id):
        """The session's user with their active role assignments (``User.active_assignments``): every page
        reads both, the assignments to scope what it shows. Kept in the shared cache (``session_user``), so
        a page pays no database round trip for them; read in one query when not there."""
        key = _user_key(user_id)
        user = cache.get(key) if key else None
        if user is None:
            user = self._load_user(user_id)
            if user is not None and key:
                cache.set(key, user, USER_CACHE_SECONDS)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _load_user(self, user_id):
        rows = list(RoleAssignment.objects.filter(user_id=user_id, is_active=True).select_related("user", "node", "unit"))
        if rows:
            user = rows[0].user
            for row in rows:
                row.user = user
            user.__dict__["active_assignments"] = rows  # fills the cached_property
        else:
            user = User._default_manager.filter(pk=user_id).first()
        return user
