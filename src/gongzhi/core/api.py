"""API plumbing shared by every app's router: authentication, pagination and the error schema."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from ninja.errors import AuthenticationError
from ninja.pagination import LimitOffsetPagination
from ninja.security import HttpBearer, SessionAuth


class TokenRefused(AuthenticationError):
    """A known token that no longer works (revoked, expired): 401 with a message saying so."""

    def __init__(self, message: str):
        super().__init__(message=message)


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` for scripts and mobile clients; tokens come from ``POST /auth/token``."""

    def authenticate(self, request, token):
        from gongzhi.accounts.actions import token_user

        return token_user(token)


class SessionCookie(SessionAuth):
    """The browser's login session, with Django's CSRF check on unsafe methods.

    CSRF is only checked for a logged-in session: an anonymous call then gets
    the same 401 as everywhere else instead of a CSRF 403.
    """

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


class Page(LimitOffsetPagination):
    """``limit``/``offset`` paging; every list answers ``{"items": [...], "count": N}``."""

    class Input(Schema):
        limit: int = Field(25, ge=1, le=200, description="Items per page (at most 200).")
        offset: int = Field(0, ge=0, description="Items to skip.")


class ErrorOut(Schema):
    detail: Any = Field(
        description="What went wrong: a message, or for 422 a list of {loc, msg, type} entries."
    )


# The errors every authenticated data endpoint can answer with, for the OpenAPI description.
READ_ERRORS = {401: ErrorOut, 404: ErrorOut}
WRITE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
