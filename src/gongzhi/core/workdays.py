"""Chinese working days and working hours: the admin's calendar table first, ``chinesecalendar`` second,
Monday to Friday last (for years nobody has confirmed yet, e.g. 2027 before the State Council
publishes its holiday schedule).

Deadlines computed across an unconfirmed year are still computed, and say so (``Deadline.unconfirmed``)
so pages can show a warning.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils import timezone

# Office hours: working-hour deadlines only run inside these windows (local time).
DEFAULT_OFFICE_HOURS = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30)))
_CACHE_SECONDS = 60


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the site's time zone (the lower bound of a date filter)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def office_hours():
    return getattr(settings, "GONGZHI_OFFICE_HOURS", DEFAULT_OFFICE_HOURS)


class _Overrides:
    """Per-process cache of the admin calendar table, refreshed every minute and on every edit here."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._days: dict[dt.date, bool] = {}
        self._confirmed: set[int] = set()

    def clear(self):
        with self._lock:
            self._loaded_at = 0.0

    def _load(self):
        from .models import CalendarDay, CalendarYear

        days = dict(CalendarDay.objects.values_list("date", "is_workday"))
        confirmed = set(CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True))
        self._days, self._confirmed, self._loaded_at = days, confirmed, time.monotonic()

    def get(self):
        with self._lock:
            if time.monotonic() - self._loaded_at > _CACHE_SECONDS:
                self._load()
            return self._days, self._confirmed


overrides = _Overrides()


def _library_years() -> range:
    known = sorted(chinese_calendar.holidays) + sorted(chinese_calendar.workdays)
    return range(min(known).year, max(known).year + 1)


_LIBRARY_YEARS = _library_years()


def library_years() -> range:
    """Years whose official schedule the installed ``chinesecalendar`` knows."""
    return _LIBRARY_YEARS


def year_confirmed(year: int) -> bool:
    """True when the official schedule of ``year`` is known: the library has it or an admin confirmed it."""
    _days, confirmed = overrides.get()
    return year in confirmed or year in library_years()


def is_workday(day: dt.date) -> bool:
    days, _confirmed = overrides.get()
    if day in days:
        return days[day]
    if day.year in library_years():
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def next_workday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


@dataclass
class Deadline:
    at: dt.datetime
    unconfirmed: set[int] = field(default_factory=set)  # years crossed whose holidays are not confirmed

    @property
    def warning(self) -> bool:
        return bool(self.unconfirmed)


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE))


def _note(unconfirmed: set[int], day: dt.date):
    if not year_confirmed(day.year):
        unconfirmed.add(day.year)


def add_working_days(start: dt.datetime, days: int) -> Deadline:
    """The end of office hours on the ``days``-th working day after ``start``'s day (12345 practice:
    a case filed on Friday with 1 working day is due Monday evening; filed on a holiday, the count
    starts after it)."""
    local = _local(start)
    day = local.date()
    unconfirmed: set[int] = set()
    _note(unconfirmed, day)
    for _ in range(days):
        day = next_workday(day)
        _note(unconfirmed, day)
    closing = office_hours()[-1][1]
    return Deadline(dt.datetime.combine(day, closing, tzinfo=local.tzinfo), unconfirmed)


def add_working_hours(start: dt.datetime, hours: float) -> Deadline:
    """Walk ``hours`` of office time forward from ``start`` over working days only."""
    local = _local(start)
    remaining = dt.timedelta(hours=hours)
    unconfirmed: set[int] = set()
    day, clock = local.date(), local.timetz().replace(tzinfo=None)
    while True:
        _note(unconfirmed, day)
        if is_workday(day):
            for opens, closes in office_hours():
                begin = max(opens, clock)
                if begin >= closes:
                    continue
                window = dt.datetime.combine(day, closes) - dt.datetime.combine(day, begin)
                if remaining <= window:
                    end = dt.datetime.combine(day, begin) + remaining
                    return Deadline(end.replace(tzinfo=local.tzinfo), unconfirmed)
                remaining -= window
        day, clock = day + dt.timedelta(days=1), dt.time(0, 0)


def add_natural_hours(start: dt.datetime, hours: float) -> Deadline:
    end = start + dt.timedelta(hours=hours)
    unconfirmed: set[int] = set()
    return Deadline(end, unconfirmed)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count += 1
    return count
