"""Spreadsheet plumbing: fast reads with python-calamine, streaming writes with openpyxl, header checks, error reports.

Every workbook the project writes is made by ``workbook()`` here, and every value reaches a cell through
``put``: text is always a text cell (never a formula or an error value, also after the cell is edited in
Excel or WPS), characters a file cannot hold are dropped, numbers, dates and booleans stay what they are.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from inspect import isgenerator

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineError, CalamineWorkbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REASON_HEADER = "错误原因"
ROW_HEADER = "行号"
# An xlsx file is a zip archive: anything else (a .txt, an old .xls renamed) is refused before parsing.
_ZIP_MAGIC = b"PK\x03\x04"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="F0F2F5")

# What an xlsx file cannot hold: the C0 controls but tab, LF and CR (openpyxl refuses to write them), UTF-16
# surrogates and U+FFFE / U+FFFF (openpyxl writes them, and the file no longer opens).
_UNWRITABLE = re.compile(ILLEGAL_CHARACTERS_RE.pattern + "|[\ud800-\udfff\ufffe\uffff]")
# Excel's escape for such characters is "_x0007_"; text that reads like one is escaped in turn ("_x005F_"
# is the underscore), so Excel and the importer show it as typed instead of decoding it.
_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
# Text starting with one of these is a formula (or a DDE call) once Excel or WPS parse the cell: when it is
# typed, edited or pasted. openpyxl itself makes a formula of any text starting with "=".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_AS_IS = (bool, int, float, decimal.Decimal, dt.date, dt.time, dt.timedelta)  # numbers, dates, booleans


def cell_value(value):
    """What a cell holds for ``value``: numbers, dates and booleans as they are (aware datetimes in local
    time, which Excel needs), anything else as text without the characters a file cannot hold."""
    if value is None or isinstance(value, _AS_IS):
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return timezone.make_naive(value)
        return value
    text = _UNWRITABLE.sub("", value if isinstance(value, str) else str(value))
    if "_x" in text:
        text = _ESCAPE_LIKE.sub(r"_x005F_\1", text)
    return text


def _risky(text: str) -> bool:
    return text.startswith(FORMULA_START) or text in ERROR_CODES


def put(cell: Cell, value) -> Cell:
    """Write ``value`` into ``cell``, the one way cells are written: text is a text cell (data type "s",
    never the formula or error value openpyxl would make of "=..." or "#N/A"), and text Excel would parse
    as a formula gets the quote prefix (the leading ' of a typed cell), so editing the cell keeps it text."""
    value = cell_value(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if _risky(value):
            cell.quotePrefix = True
    return cell


def _safe_row(ws, values) -> list:
    """A row for ``append``: cells and risky text through ``put``, other values cleaned (openpyxl then
    stores them as text, numbers or dates itself, without a cell object per value)."""
    row = []
    for value in values:
        if isinstance(value, Cell):
            value = put(value, value.value)
        else:
            value = cell_value(value)
            if isinstance(value, str) and _risky(value):
                value = put(WriteOnlyCell(ws), value)
        row.append(value)
    return row


def _is_row(values) -> bool:
    return isinstance(values, (list, tuple, range)) or isgenerator(values)


class _Sheet(Worksheet):
    """An ordinary worksheet whose ``append``, ``cell(..., value=)`` and ``ws["A1"] = ...`` go through ``put``."""

    def append(self, iterable):
        if isinstance(iterable, dict):
            raise TypeError("append a list of values: rows given as dicts are not supported")
        super().append(_safe_row(self, iterable) if _is_row(iterable) else iterable)

    def cell(self, row, column, value=None):
        cell = super().cell(row=row, column=column)
        if value is not None:
            put(cell, value)
        return cell

    def __setitem__(self, key, value):
        put(self[key], value)


class _WriteOnlySheet(WriteOnlyWorksheet):
    """A streaming worksheet whose rows go through ``put``."""

    def append(self, row):
        super().append(_safe_row(self, row) if _is_row(row) else row)


class _Book(Workbook):
    """A workbook whose sheets are the safe ones above."""

    def __init__(self, write_only: bool = False):
        super().__init__(write_only=write_only)
        if not write_only:
            self._sheets.clear()  # the first sheet openpyxl made, replaced by a safe one of the same name
            self._sheets.append(_Sheet(self))

    def create_sheet(self, title=None, index=None):
        sheet = _WriteOnlySheet(parent=self, title=title) if self.write_only else _Sheet(parent=self, title=title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet


def workbook(*, write_only: bool = False) -> Workbook:
    """A new workbook (``write_only`` for streaming): the only way the project makes one, so that every
    value written through its sheets' ``append``, ``cell`` or item assignment goes through ``put``."""
    return _Book(write_only=write_only)


class SheetError(ValueError):
    """A file that cannot be read as the expected spreadsheet; the message is for the user."""


class Sheet:
    """The header and data rows of one worksheet, with their Excel row numbers (1-based)."""

    def __init__(self, header: list[str], rows: list[tuple[int, list]]):
        self.header = header
        self.rows = rows

    def __len__(self):
        return len(self.rows)


def _open(source) -> CalamineWorkbook:
    """A calamine workbook from a path or a binary file object; refuses empty and non-xlsx files."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            head = fh.read(4)
        size = os.path.getsize(source)
        opener = lambda: CalamineWorkbook.from_path(str(source))  # noqa: E731
    else:
        source.seek(0)
        head = source.read(4)
        source.seek(0, io.SEEK_END)
        size = source.tell()
        source.seek(0)
        opener = lambda: CalamineWorkbook.from_filelike(source)  # noqa: E731
    if size == 0:
        raise SheetError(_("The file is empty."))
    if head != _ZIP_MAGIC:
        raise SheetError(_("The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again."))
    try:
        return opener()
    except (CalamineError, OSError, ValueError) as exc:
        raise SheetError(_("The file is not an Excel workbook (.xlsx) or it is damaged.")) from exc


def estimate_rows(path) -> int:
    """Rows of the biggest worksheet, counted in its XML without parsing cells (a 100,000-row sheet
    takes well under a second, a fraction of a full read); 0 when the file is not a readable xlsx."""
    try:
        with zipfile.ZipFile(path) as book:
            sheets = [i for i in book.infolist() if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
            if not sheets:
                return 0
            count, tail = 0, b""
            with book.open(max(sheets, key=lambda i: i.file_size)) as fh:
                while chunk := fh.read(1 << 20):
                    data = tail + chunk
                    count += data.count(b"<row ")
                    tail = data[-4:]  # too short to hold a whole tag, long enough to join a split one
            return count
    except (zipfile.BadZipFile, OSError, KeyError, EOFError):
        return 0


def cell_text(value) -> str:
    """The text a user sees in a cell: integral numbers without '.0', dates as YYYY-MM-DD, trimmed."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if abs(value) >= 1e15:
            # Past 15 digits Excel has already rounded the number (an ID number typed into a number
            # cell): show it as Excel does, so the importer can tell the user what went wrong.
            return format(value, ".15G")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_sheet(source, sheet_name: str | None = None) -> Sheet:
    """Read the named sheet (else the first) of an xlsx file: the first non-empty row is the header.

    Raises SheetError for an empty file, a file that is not xlsx, or a sheet without a header.
    Fully blank rows are dropped; numbers typed into text columns come back as text.
    """
    book = _open(source)
    try:
        names = book.sheet_names
        if not names:
            raise SheetError(_("The workbook has no worksheets."))
        name = sheet_name if sheet_name in names else names[0]
        try:
            raw = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except CalamineError as exc:
            raise SheetError(_("The file is not an Excel workbook (.xlsx) or it is damaged.")) from exc
    finally:
        book.close()
    header: list[str] | None = None
    rows: list[tuple[int, list]] = []
    for index, values in enumerate(raw):
        cells = [cell_text(v) for v in values]
        if not any(cells):
            continue
        if header is None:
            header = cells
        else:
            rows.append((index + 1, cells))
    if header is None:
        raise SheetError(_("The file is empty."))
    while header and not header[-1]:
        header.pop()
    return Sheet(header, rows)


def header_columns(header: Sequence[str], *, known: Iterable[str], required: Iterable[str]) -> dict[str, int]:
    """Map each known header to its column index; SheetError naming missing, unknown or repeated headers."""
    known = list(known)
    positions: dict[str, int] = {}
    unknown, repeated = [], []
    for index, label in enumerate(header):
        label = label.strip()
        if not label:
            continue
        if label not in known:
            unknown.append(label)
        elif label in positions:
            repeated.append(label)
        else:
            positions[label] = index
    missing = [label for label in required if label not in positions]
    problems = []
    if missing:
        problems.append(_("Missing columns: %(columns)s.") % {"columns": "、".join(missing)})
    if unknown:
        problems.append(_("Unknown columns: %(columns)s.") % {"columns": "、".join(unknown)})
    if repeated:
        problems.append(_("Columns given twice: %(columns)s.") % {"columns": "、".join(repeated)})
    if problems:
        problems.append(_("Use the headers of the import template."))
        raise SheetError(" ".join(problems))
    return positions


def write_only_sheet(book: Workbook, title: str, header: Sequence[str], widths: Sequence[int] = ()):
    """A write-only worksheet with a bold, frozen header row; rows are then appended with ``ws.append``.
    ``book`` comes from ``workbook(write_only=True)``."""
    ws = book.create_sheet(title)
    if not isinstance(ws, _WriteOnlySheet):
        raise TypeError("make the book with gongzhi.core.excel.workbook(write_only=True)")
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    cells = []
    for label in header:
        cell = put(WriteOnlyCell(ws), label)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cells.append(cell)
    ws.append(cells)
    return ws


def style_header(ws, widths: Sequence[int] = ()):
    """Bold header row, column widths and a frozen first row on an ordinary worksheet."""
    for cell in ws[1]:
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"


def error_report(header: Sequence[str], failures: Iterable[tuple[int, Sequence[str], Sequence[str]]]) -> bytes:
    """An xlsx of the rows that failed: the original cells, the row number and a 错误原因 column.

    ``failures`` yields (excel row number, original cells, reasons). The two extra columns are
    known to the importer and ignored there, so a corrected report can be uploaded again.
    """
    book = workbook(write_only=True)
    header = list(header)
    ws = write_only_sheet(book, "错误", [*header, ROW_HEADER, REASON_HEADER], widths=[16] * len(header) + [8, 60])
    width = len(header)
    for row_number, cells, reasons in failures:
        cells = list(cells[:width]) + [""] * (width - len(cells))
        ws.append([*cells, row_number, "；".join(reasons)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
