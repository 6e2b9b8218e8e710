"""The first login (and the first after a reset) leads to the password page: an account whose password someone
else set (``User.must_change_password``) reaches nothing else until its owner chooses one. The JSON API answers
403 meanwhile; bearer tokens of such an account are refused in ``actions.token_user``."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

# Paths that stay open: the password page itself, logging out, changing the language, static files.
_OPEN = ("accounts:password_change", "accounts:logout", "set_language")


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def _open_paths(self) -> tuple[str, ...]:
        if self._open is None:
            self._open = tuple(reverse(name) for name in _OPEN)
        return self._open

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            path = request.path
            if path.startswith("/api/"):
                if not path.startswith("/api/v1/docs") and not path.startswith("/api/v1/openapi.json"):
                    return JsonResponse(
                        {"detail": _("This account must choose a new password first: change it on the password page.")},
                        status=403)
            elif path not in self._open_paths() and not path.startswith(("/static/", "/favicon.ico", "/healthz")):
                if request.headers.get("HX-Request"):
                    # A fragment the page asks for by itself (the notices badge): nothing, rather than the
                    # password page swapped into it.
                    return HttpResponse(status=204)
                return redirect(reverse("accounts:password_change"))
        return self.get_response(request)
