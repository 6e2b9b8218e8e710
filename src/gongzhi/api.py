"""The JSON API at /api/v1/: one NinjaAPI with token and session auth, uniform errors; each app adds its router."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.openapi.docs import Swagger
from ninja.responses import NinjaJSONEncoder

from gongzhi.accounts.api import router as accounts_router
from gongzhi.accounts.auth import BearerToken
from gongzhi.core.api import SessionCookie, StrictJSON, TokenRefused
from gongzhi.orgs.api import router as orgs_router

OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.json"

api = NinjaAPI(
    title="Gongzhi API",
    version="1",
    description=(
        "Scoped read and write access to the organisation tree and the registry. "
        "Authenticate with a login session (browser, CSRF token on writes) or with "
        "`Authorization: Bearer <token>` from `POST /api/v1/auth/token`. "
        "Lists answer `{\"items\": [...], \"count\": N, \"count_capped\": false}` and take `limit` (default 25, "
        "at most 200) and `offset` (at most 1,000); `count` stops at 1,000, and `count_capped` is then true: "
        "narrow the filters to see further. "
        "Ids are 1 to 2^63-1 and days `YYYY-MM-DD` from 1900-01-01 to 2999-12-31; a value out of bounds, or text "
        "holding a NUL character, answers 422 naming the field; a body that is not JSON answers 400. "
        "An object outside your area answers 404 exactly like a missing one. "
        "Text is trimmed; one-line fields (titles, names, searches) refuse line breaks, tabs and control characters, "
        "descriptions and notes keep line breaks (stored as LF) and tabs, and no text holds another control "
        "character (422 naming the field). "
        "ID numbers and phones are always masked; `POST /residents/{id}/reveal` shows one, audited."
    ),
    urls_namespace="api",
    auth=[BearerToken(), SessionCookie()],
    parser=StrictJSON(),
    # Swagger UI from ninja's own static files; no validator badge, which would call out to swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)
api.add_router("/auth", accounts_router)
api.add_router("/", orgs_router)
api.add_router("/", "gongzhi.appeals.api.router")
api.add_router("/", "gongzhi.participation.api.router")
api.add_router("/metrics", "gongzhi.dashboards.api.router")
api.add_router("/", "gongzhi.accounts.api.join.router")
api.add_router("/users", "gongzhi.accounts.api.users.router")


def _error(request, status: int, detail, **headers):
    response = api.create_response(request, {"detail": detail}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@api.exception_handler(Http404)
def _not_found(request, exc):
    # One fixed body, so an object out of scope cannot be told from a missing one.
    return _error(request, 404, _("Not found."))


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, str(exc) or _("You may not do this."))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    if isinstance(exc, TokenRefused):  # revoked or expired: say which
        return _error(request, 401, exc.message, **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return _error(
        request, 401, _("Log in, or send a token as Authorization: Bearer <token>."), **{"WWW-Authenticate": "Bearer"}
    )


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    # Same shape as ninja's own 422 for malformed input: a list of {loc, msg, type}.
    if hasattr(exc, "error_dict"):
        items = [
            {"loc": [] if field == "__all__" else ["body", field], "msg": msg, "type": "value_error"}
            for field, messages in exc.message_dict.items() for msg in messages
        ]
    else:
        items = [{"loc": [], "msg": msg, "type": "value_error"} for msg in exc.messages]
    return _error(request, 422, items)


def openapi_text() -> str:
    """The schema as committed in ``openapi.json``: English, stable key order, one trailing newline."""
    with translation.override("en"):
        schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return json.dumps(schema, cls=NinjaJSONEncoder, indent=2, ensure_ascii=False) + "\n"
