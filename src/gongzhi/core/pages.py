"""Helpers every app's pages share: permission gates, bounded parameters, paging, htmx partials, form errors,
<option> lists and keyset cursors. Public, so no app borrows another's private names."""

from __future__ import annotations

import datetime as dt
from html import escape

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

# A page number, offset or id from a link is refused past this (a 64-bit signed integer holds it).
MAX_INT = 2**63 - 1
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def need(user, *perms: str) -> None:
    """Pages for roles holding a permission: a user without any of ``perms`` anywhere is refused outright (403)."""
    if not any(user.can(p) for p in perms):
        raise PermissionDenied


def page_number(request, param: str = "page", *, most: int = 100_000) -> int:
    """A 1-based page number from the query string: anything unreadable or out of range is page 1."""
    value = request.GET.get(param, "1")
    if not value.isdigit() or len(value) > 9:
        return 1
    return min(max(1, int(value)), most)


def offset_page(request, qs, size: int, param: str = "page") -> dict:
    """One page of a small list without a COUNT: fetch one row more to know whether a next page exists."""
    number = page_number(request, param)
    rows = list(qs[(number - 1) * size: number * size + 1])
    return {
        "rows": rows[:size], "number": number, "param": param,
        "has_prev": number > 1, "has_next": len(rows) > size,
        "prev": number - 1, "next": number + 1,
    }


def partial_or_page(request, template: str, partial: str, context: dict):
    """An htmx request gets only the named partial; history restores and plain requests the page."""
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{template}#{partial}", context)
    else:
        response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def form_errors(form, exc: Exception) -> None:
    """Show an action's ValidationError / PermissionDenied on the form (nothing was written: actions are atomic)."""
    if isinstance(exc, ValidationError):
        for message in exc.messages:
            form.add_error(None, message)
    else:
        form.add_error(None, str(exc) or _("You may not do this here."))


def options_html(items, selected: str = "") -> str:
    """<option> tags built as plain strings (every value and label escaped): a county's area selects have a
    few hundred, and format_html per option costs more than the page's query."""
    out = []
    for value, label in items:
        value = str(value)
        chosen = " selected" if value == selected else ""
        out.append(f'<option value="{escape(value)}"{chosen}>{escape(str(label))}</option>')
    return mark_safe("".join(out))


def path_cursor(value: str | None) -> tuple[str, int] | None:
    """'<org_path>-<id>' from a pager link of a list in (org_path, id) order, or None."""
    path, _sep, pk = (value or "").rpartition("-")
    if not path or not pk.isdigit() or not path.isalnum() or len(pk) > 18:
        return None
    return path, int(pk)


def time_cursor(value: str | None) -> tuple[dt.datetime, int] | None:
    """'<microseconds since 1970>-<id>' from a pager link of a list in (time, id) order, or None."""
    micros, _sep, pk = (value or "").partition("-")
    if not micros.isdigit() or not pk.isdigit() or len(micros) > 17 or len(pk) > 18:
        return None
    return EPOCH + dt.timedelta(microseconds=int(micros)), int(pk)


def time_cursor_of(at: dt.datetime, pk: int) -> str:
    return f"{(at - EPOCH) // dt.timedelta(microseconds=1)}-{pk}"
