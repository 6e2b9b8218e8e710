"""Form pieces every app's pages share: a date field that takes dates as Chinese users type them and is
always shown as a real date input carrying an ISO value (a browser leaves a date input blank, with a
console warning, for any other value; Django would write the locale's "2026/01/01" there)."""

from __future__ import annotations

import datetime as dt
import re

from django import forms

# What people type: 2026-01-01, 2026/01/01, 2026.1.1, 2026年1月1日 (months and days with or without a 0).
_DATE = re.compile(r"^\s*(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?\s*$")


def parse_date(value) -> dt.date | None:
    """A date typed in any of the forms above, else None (also for an impossible day like 2026/2/30)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = _DATE.match(str(value or ""))
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


class DateInput(forms.DateInput):
    """``<input type="date">`` whose value is always ISO (what the browser needs), whatever the language
    and whatever was typed into the address bar."""

    input_type = "date"

    def format_value(self, value):
        if value is None or value == "":
            return None
        date = parse_date(value)
        return date.isoformat() if date else None


class DateField(forms.DateField):
    """A date from a date input or typed as Chinese users write it, in any interface language."""

    widget = DateInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        date = parse_date(value)
        if date is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return date
