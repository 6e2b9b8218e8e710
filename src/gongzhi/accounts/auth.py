"""API authentication by bearer token (the login session is core's ``SessionCookie``)."""

from ninja.security import HttpBearer


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` for scripts and mobile clients; tokens come from ``POST /auth/token``."""

    def authenticate(self, request, token):
        from .actions import token_user

        return token_user(token)
