"""The one authentication backend: passwords checked under the login throttle (``accounts.throttle``)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied, AxesBackendRequestParameterRequired
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from . import throttle
from .models import RoleAssignment, User


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
        """The session's user with their active role assignments (``User.active_assignments``) in one query:
        every page reads both, the assignments to scope what it shows."""
        rows = list(RoleAssignment.objects.filter(user_id=user_id, is_active=True).select_related("user", "node", "unit"))
        if rows:
            user = rows[0].user
            for row in rows:
                row.user = user
            user.__dict__["active_assignments"] = rows  # fills the cached_property
        else:
            user = User._default_manager.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
