"""API plumbing shared by every app's router: session authentication, pagination and the error schema.

Token authentication is the accounts app's (``accounts.api.BearerToken``)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.security import SessionAuth


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
