"""Plumbing writes: the working-day calendar table."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from . import audit
from .models import CalendarDay, CalendarYear
from .workdays import overrides


def _require_calendar_admin(by):
    if by is not None and not (by.is_superuser or by.has_role("county_admin")):
        raise PermissionDenied(_("Only county administrators edit the working-day calendar."))


@transaction.atomic
def calendar_day_set(*, date: dt.date, is_workday: bool, name: str = "", by=None) -> CalendarDay:
    """Say whether ``date`` is a working day (a holiday, or a make-up working day on a weekend)."""
    _require_calendar_admin(by)
    day, _created = CalendarDay.objects.update_or_create(
        date=date, defaults={"is_workday": is_workday, "name": name, "updated_by": by if by else None}
    )
    audit.record(actor=by, action="calendar.day_set", obj=day, changes={"is_workday": is_workday, "name": name})
    transaction.on_commit(overrides.clear)
    return day


@transaction.atomic
def calendar_day_clear(*, date: dt.date, by=None) -> None:
    _require_calendar_admin(by)
    deleted, _rows = CalendarDay.objects.filter(date=date).delete()
    if deleted:
        audit.record(actor=by, action="calendar.day_clear", object_type="core.calendarday", object_repr=str(date))
    transaction.on_commit(overrides.clear)


@transaction.atomic
def calendar_year_confirm(*, year: int, confirmed: bool = True, note: str = "", by=None) -> CalendarYear:
    """Mark a year's schedule as official once its holidays and make-up days are entered."""
    _require_calendar_admin(by)
    row, _created = CalendarYear.objects.update_or_create(
        year=year, defaults={"confirmed": confirmed, "note": note, "updated_by": by if by else None}
    )
    audit.record(actor=by, action="calendar.year_confirm", obj=row, changes={"confirmed": confirmed})
    transaction.on_commit(overrides.clear)
    return row
