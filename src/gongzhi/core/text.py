"""What free text the platform accepts, decided once for the API, the pages and Open311.

One line (titles, names, labels, short reasons typed in one input, search words): surrounding whitespace
trimmed; no line break (LF, CR, U+2028, U+2029), no tab, no other control character (C0, DEL, C1).

Several lines (descriptions, notes, results, comments: what is typed in a text area): CRLF, CR, U+2028
and U+2029 become LF; LF and tab allowed, every other control character refused; surrounding whitespace
trimmed.

Neither ever holds NUL (PostgreSQL cannot store it), an unpaired surrogate or U+FFFE / U+FFFF (not text:
the databases, XML and Excel refuse them).

Use ``Line`` / ``Block`` as the type of a ninja schema field (a bad value is a 422 naming the field),
``LineField`` / ``BlockField`` in forms (the error shows on the field), ``clean_line`` / ``clean_block``
anywhere else (they raise ``TextError``).
"""

from __future__ import annotations

import re
from typing import Annotated

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

_BREAKS = "\n\r\u2028\u2029"
_NOT_TEXT = "\ud800-\udfff\ufffe\uffff"
_LINE_REFUSED = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\u2028\u2029{_NOT_TEXT}]")
_BLOCK_REFUSED = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_NOT_TEXT}]")  # LF and tab allowed
_BLOCK_BREAK = re.compile("\r\n?|[\u2028\u2029]")


class TextError(ValueError):
    """A text the rule refuses; ``code`` is line_break, control_character or invalid_character."""

    def __init__(self, char: str):
        if char in _BREAKS:
            self.code = "line_break"
        elif re.match(f"[{_NOT_TEXT}]", char):
            self.code = "invalid_character"
        else:
            self.code = "control_character"
        self.char = f"U+{ord(char):04X}"
        super().__init__(self.message())

    def message(self, field: str | None = None) -> str:
        """What is wrong, for the user; naming ``field`` when the message is not shown next to it."""
        values = {"field": field, "char": self.char}
        if field:
            if self.code == "line_break":
                return _("%(field)s must be a single line.") % values
            if self.code == "invalid_character":
                return _("%(field)s contains a character that is not text (%(char)s); remove it.") % values
            return _("%(field)s contains an invisible control character (%(char)s); remove it.") % values
        if self.code == "line_break":
            return _("Must be a single line.")
        if self.code == "invalid_character":
            return _("Contains a character that is not text (%(char)s); remove it.") % values
        return _("Contains an invisible control character (%(char)s); remove it.") % values


def clean_line(value: str) -> str:
    """One line of text, trimmed; TextError for a line break or a control character."""
    value = value.strip()
    bad = _LINE_REFUSED.search(value)
    if bad:
        raise TextError(bad.group())
    return value


def clean_block(value: str) -> str:
    """Lines of text with LF line ends, trimmed; TextError for a control character other than LF and tab."""
    value = _BLOCK_BREAK.sub("\n", value).strip()
    bad = _BLOCK_REFUSED.search(value)
    if bad:
        raise TextError(bad.group())
    return value


# --- API schemas --------------------------------------------------------------------------------------------


def _before(clean):
    def validate(value, info: ValidationInfo):
        if not isinstance(value, str):
            return value  # the str type refuses it with its own message
        try:
            return clean(value)
        except TextError as exc:
            raise PydanticCustomError(exc.code, exc.message(info.field_name or "")) from None

    return BeforeValidator(validate)


Line = Annotated[str, _before(clean_line)]
Block = Annotated[str, _before(clean_block)]


# --- forms ---------------------------------------------------------------------------------------------------


class LineField(forms.CharField):
    """A form field for one line of text (``clean_line``)."""

    clean_text = staticmethod(clean_line)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return self.clean_text(value)
        except TextError as exc:
            raise ValidationError(exc.message(), code=exc.code) from None


class BlockField(LineField):
    """A form field for several lines of text (``clean_block``), a text area unless told otherwise."""

    widget = forms.Textarea
    clean_text = staticmethod(clean_block)
