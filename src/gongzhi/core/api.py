"""API plumbing shared by every app's router: session authentication (tokens are ``accounts.auth``), bounded input types, pagination with a capped
count, and the error schemas.

Every input the API takes is bounded here once, so that a value out of range answers ninja's 422 (a list of
``{loc, msg, type}`` naming the field) instead of failing in the database: ids fit a 64-bit signed integer,
days lie between ``FIRST_DAY`` and ``LAST_DAY`` and are written ``YYYY-MM-DD``, text never holds a NUL
character (PostgreSQL cannot store one), and pages are at most ``MAX_LIMIT`` items from at most
``MAX_OFFSET`` on, counted up to ``COUNT_CAP``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Annotated, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import AuthenticationError
from ninja.pagination import PaginationBase
from ninja.parser import Parser
from ninja.security import SessionAuth
from pydantic import PlainValidator, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from .text import Block, Line


class TokenRefused(AuthenticationError):
    """A known token that no longer works (revoked, expired): 401 with a message saying so."""

    def __init__(self, message: str):
        super().__init__(message=message)


class SessionCookie(SessionAuth):
    """The browser's login session, with Django's CSRF check on unsafe methods.

    CSRF is only checked for a logged-in session: an anonymous call then gets
    the same 401 as everywhere else instead of a CSRF 403.
    """

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


class StrictJSON(Parser):
    """Request bodies as JSON (RFC 8259) has them: Python's json module also takes NaN, Infinity and numbers
    too large for a float (1e400 becomes infinity), which no JSON column stores. Those answer 400, like any
    body that is not JSON."""

    def parse_body(self, request):
        return strict_json(request.body)


def strict_json(text: str | bytes):
    """``json.loads`` refusing NaN, Infinity and numbers that overflow a float (ValueError)."""
    return json.loads(text, parse_constant=_not_json, parse_float=_finite)


def _not_json(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


# --- bounded input types ---------------------------------------------------------------------------------

MAX_ID = 2**63 - 1  # the largest id a database row can have (a signed 64-bit integer)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A row id: 1 to 2**63 - 1. Use it for every id the API reads, in the path, the query or the body."""

FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        raise PydanticCustomError("date_type", _("Give a day as YYYY-MM-DD."))
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and _DAY_RE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_from_string", _("There is no such day.")) from None
    else:
        raise PydanticCustomError("date_type", _("Give a day as YYYY-MM-DD."))
    if not FIRST_DAY <= day <= LAST_DAY:
        raise PydanticCustomError("date_range", _("Give a day from {first} to {last}."),
                                  {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})
    return day


Day = Annotated[dt.date, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
"""A day written ``YYYY-MM-DD`` (nothing else: no time, no timestamp), from ``FIRST_DAY`` to ``LAST_DAY``."""

_MOMENT_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)


def _moment(value) -> dt.datetime:
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and len(value) <= 35 and _MOMENT_RE.fullmatch(value):
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            raise PydanticCustomError("datetime_from_string", _("There is no such time."))
    else:
        raise PydanticCustomError("datetime_type", _("Give a time as YYYY-MM-DDTHH:MM (with an offset, or China time)."))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise PydanticCustomError("datetime_range", _("Give a time from {first} to {last}."),
                                  {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})
    return moment


Moment = Annotated[dt.datetime, PlainValidator(_moment),
                   WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 35})]
"""A time written ISO 8601 (``2026-12-08T09:30``, with an offset or in China time), from ``FIRST_DAY`` to
``LAST_DAY``."""

# What Python's str.strip() removes, spelled out so that the pattern means the same in JSON Schema's regexes
# (ECMA-262) and Python's: their \s differ.
_NOT_SPACE = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def Text(*, min_chars: int = 0, max_length: int, multiline: bool = False, **field) -> Any:
    """A text field of at most ``max_length`` characters, cleaned by ``core.text`` (one line, or with
    ``multiline`` several). ``min_chars``: the action it goes to refuses text
    with fewer characters besides surrounding spaces (422, with its own message); the schema says so with
    ``minLength`` and a pattern, which the server does not check a second time."""
    extra = {}
    if min_chars:
        if min_chars > 2:
            raise ValueError("Text: min_chars above 2 is not spelled out as a pattern")
        extra = {"minLength": min_chars, "pattern": _NOT_SPACE + (r"[\s\S]*" + _NOT_SPACE) * (min_chars - 1)}
    return Annotated[Block if multiline else Line, Field(max_length=max_length, json_schema_extra=extra or None, **field)]


MAX_DEPTH = 16  # lists and objects inside one another in a value: a form's answers need two


def refused_text(value) -> str | None:
    """What is wrong with a value taken from a request, walking into its lists and objects (without
    recursion): "nul" for text holding a NUL character, "depth" for nesting deeper than ``MAX_DEPTH``."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "nul"
        elif isinstance(item, (dict, list, tuple, set)):
            if depth >= MAX_DEPTH:
                return "depth"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


class InSchema(Schema):
    """The base of every input schema (query filters and bodies): text holding a NUL character, anywhere
    in a value, is refused with 422 for that field, as Django's forms refuse it; so is a value of lists or
    objects nested deeper than ``MAX_DEPTH``."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        problem = refused_text(value)
        if problem == "nul":
            raise PydanticCustomError("null_character", _("Null characters are not allowed."))
        if problem == "depth":
            raise PydanticCustomError("too_deep", _("Lists and objects are nested too deeply."))
        return value


# --- pagination --------------------------------------------------------------------------------------------

COUNT_CAP = 1000  # lists count at most this many items, as the pages do: an exact total would read them all
MAX_LIMIT = 200
MAX_OFFSET = COUNT_CAP  # as far as the count goes; deeper, narrow the filters (OFFSET reads every row it skips)


class Page(PaginationBase):
    """``limit``/``offset`` paging; every list answers ``{"items": [...], "count": N, "count_capped": bool}``.

    The count reads at most ``COUNT_CAP + 1`` ids of the list (``SELECT COUNT(*) FROM (... LIMIT 1001)``),
    so no list costs more as its table grows; ``count_capped`` says there are more than ``count``."""

    class Input(Schema):
        limit: int = Field(25, ge=1, le=MAX_LIMIT, description=f"Items per page (1 to {MAX_LIMIT}).")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description=f"Items to skip (at most {MAX_OFFSET:,}).")

    class Output(Schema):
        items: list[Any]
        count: int = Field(description=f"How many items match, counted up to {COUNT_CAP:,}.")
        count_capped: bool = Field(description=f"True when more than {COUNT_CAP:,} items match: `count` stopped there.")

    def paginate_queryset(self, queryset, pagination: Input, request, **params):
        offset, limit = pagination.offset, pagination.limit
        if isinstance(queryset, QuerySet):
            found = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
        else:
            found = len(queryset)
        return {
            "items": queryset[offset: offset + limit],
            "count": min(found, COUNT_CAP),
            "count_capped": found > COUNT_CAP,
        }


# --- errors --------------------------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong.")


class ValidationErrorItem(Schema):
    loc: list[str | int] = Field(description='Where: e.g. ["query", "limit"] or ["body", "payload", "reason"]; '
                                             "empty for the request as a whole.")
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[ValidationErrorItem] = Field(description="One entry per value that was refused.")


_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut}


def errors(*codes: int) -> dict:
    """The error responses of a route for its ``response=``, each with its schema."""
    return {code: _ERRORS[code] for code in codes}


# The errors of each kind of authenticated route, for the OpenAPI description:
# 400 a body that is not JSON, 401 no login or token, 403 not allowed (or a session write without its CSRF
# token), 404 missing or outside your area, 422 a value out of bounds or refused by the rules.
LIST_ERRORS = errors(401, 422)
READ_ERRORS = errors(401, 404, 422)
WRITE_ERRORS = errors(400, 401, 403, 404, 422)
