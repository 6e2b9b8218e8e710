"""Spreadsheet plumbing: fast reads with python-calamine, streaming writes with openpyxl, header checks, error reports.

Every workbook the project writes is made by ``workbook()`` here, and every value reaches a cell through
``put``: text is always a text cell (never a formula or an error value, also after the cell is edited in
Excel or WPS), characters a file cannot hold are dropped, numbers, dates and booleans stay what they are.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
import io
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from inspect import isgenerator
from dataclasses import dataclass

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
_EXAMPLE_FONT = Font(italic=True, color="808080")

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


# --- limits: checked before a file is parsed --------------------------------------------------------
#
# A small xlsx can unpack to gigabytes (a zip bomb), or name a cell far away (r="XFD1048576") so that the
# reader, which holds a sheet as a dense grid, allocates rows x columns cells. ``inspect`` reads the zip
# directory, then streams every part in 1 MB pieces counting the bytes and, in the XML, the <row> and
# <c> elements and the places they name; it stops at the first limit broken, so a bomb costs
# milliseconds and no memory. The count runs on bytes (C speed) when every cell names its place as
# Excel, WPS and openpyxl write it (<c r="B7" ...>); any other XML is counted tag by tag.

_CHUNK = 1 << 20
_MAX_PARTS = 10_000  # an ordinary workbook has a few dozen parts
_MAX_TAG = 64 * 1024  # a longer single tag is refused: the reader would still parse it
# A start tag of <row> or <c> (any namespace prefix), its attributes read quote-aware (">" may sit in a value).
_TAG = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ANY_TAG = re.compile(rb"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")
_REF = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"\s*([A-Za-z]*)(\d*)\s*"|'\s*([A-Za-z]*)(\d*)\s*')""")
_ROW_OTHER = re.compile(rb"<row[\w.:-]")  # <rowBreaks ...: not a row
_CELL_OTHER = re.compile(rb"<c[\w.:-]")  # <col, <cfRule, <c:chart ...: not a cell
_CELL_PLAIN = b'<c r="'


@dataclass(frozen=True)
class Limits:
    """What an uploaded workbook may hold. ``max_rows`` counts data rows, below one header row."""

    max_bytes: int
    max_uncompressed: int
    max_ratio: float
    max_rows: int
    max_columns: int


@dataclass(frozen=True)
class Inspection:
    size: int  # bytes of the file
    uncompressed: int  # bytes of all its parts unpacked
    rows: int  # <row> elements of its biggest worksheet (an estimate of the data's rows)


class LimitError(SheetError):
    """A file over one of the limits; ``limit`` names which: file_size, uncompressed_size,
    compression_ratio, rows or columns. The message says it to the user."""

    def __init__(self, limit: str, message: str):
        super().__init__(message)
        self.limit = limit


def _mb(size: float) -> str:
    return f"{size / 2**20:.1f}".removesuffix(".0")


def _damaged() -> SheetError:
    return SheetError(_("The file is not an Excel workbook (.xlsx) or it is damaged."))


def _size_and_head(source) -> tuple[int, bytes]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            return os.path.getsize(source), fh.read(4)
    source.seek(0)
    head = source.read(4)
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    return size, head


def inspect(source, limits: Limits, sheet_name: str | None = None) -> Inspection:
    """Check an xlsx file (a path or a binary file object) against ``limits`` before anything parses it.

    Raises LimitError naming the limit broken (file size, size unpacked, compression ratio, rows,
    columns), or SheetError for an empty, non-xlsx or damaged file. Rows and columns are those a reader
    lays out: the <row> elements (``<row>``, ``<row .../>``, any prefix) and the farthest row and column
    that a row or cell names in its ``r`` attribute or reaches by counting on. ``rows`` is of the sheet
    named ``sheet_name`` when there is one, else of the biggest.
    """
    size, head = _size_and_head(source)
    if size == 0:
        raise SheetError(_("The file is empty."))
    if size > limits.max_bytes:
        raise LimitError("file_size", _(
            "The file is %(size)s MB, over the limit of %(limit)s MB for the file size. Split it into smaller "
            "files (for example one per community) and upload them one by one."
        ) % {"size": _mb(size), "limit": _mb(limits.max_bytes)})
    if head != _ZIP_MAGIC:
        raise SheetError(_("The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again."))
    try:
        book = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _damaged() from exc
    with book:
        parts = [p for p in book.infolist() if not p.is_dir()]
        if len(parts) > _MAX_PARTS:
            raise _damaged()
        declared = sum(p.file_size for p in parts)
        packed = sum(p.compress_size for p in parts)
        if declared > limits.max_uncompressed:
            raise _unpacked_error(limits)
        ratio = declared / max(packed, 1)
        if ratio > limits.max_ratio:
            raise LimitError("compression_ratio", _(
                "The file unpacks to %(ratio)s times its size, over the limit of %(limit)s for the compression "
                "ratio; an ordinary workbook unpacks to far less. Open it in Excel or WPS, save it again and "
                "upload that copy."
            ) % {"ratio": int(ratio), "limit": f"{limits.max_ratio:g}"})
        budget = _Budget(limits)
        rows, biggest, sheet_rows = 0, -1, {}
        try:
            for part in parts:
                if part.filename.lower().endswith(".xml"):
                    sheet_rows[part.filename] = _scan_xml(book, part, limits, budget)
                    if part.filename.startswith("xl/worksheets/") and part.file_size > biggest:
                        rows, biggest = sheet_rows[part.filename], part.file_size
                else:
                    with book.open(part) as fh:
                        while chunk := fh.read(_CHUNK):
                            budget.take(len(chunk))
        except SheetError:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise _damaged() from exc  # a bad checksum, a part longer than the directory says, encryption
        if sheet_name:
            rows = sheet_rows.get(_sheet_part(book, sheet_name), rows)
    return Inspection(size=size, uncompressed=budget.used, rows=rows)


_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\s([^>]*)>")
_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship\s([^>]*)>")


def _attr(attrs: bytes, name: bytes) -> str | None:
    found = re.search(rb"""(?:^|\s)(?:[\w.-]+:)?%s\s*=\s*(?:"([^"]*)"|'([^']*)')""" % name, attrs)
    return html.unescape((found.group(1) or found.group(2) or b"").decode("utf-8", "replace")) if found else None


def _sheet_part(book: zipfile.ZipFile, sheet_name: str) -> str | None:
    """The part holding the sheet named ``sheet_name``, from the workbook and its relationships (both
    already checked against the limits)."""
    try:
        workbook, rels = book.read("xl/workbook.xml"), book.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    rid = next((_attr(m.group(1), b"id") for m in _SHEET_TAG.finditer(workbook)
                if _attr(m.group(1), b"name") == sheet_name), None)
    target = next((_attr(m.group(1), b"Target") for m in _REL_TAG.finditer(rels)
                   if rid is not None and _attr(m.group(1), b"Id") == rid), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _unpacked_error(limits: Limits) -> LimitError:
    return LimitError("uncompressed_size", _(
        "Unpacked, the file holds more than %(limit)s MB, over the limit for the uncompressed size. Split it "
        "into smaller files and upload them one by one."
    ) % {"limit": _mb(limits.max_uncompressed)})


class _Budget:
    """Bytes unpacked so far, against the limit (the zip directory's sizes are the sender's word)."""

    def __init__(self, limits: Limits):
        self.limits, self.used = limits, 0

    def take(self, size: int) -> None:
        self.used += size
        if self.used > self.limits.max_uncompressed:
            raise _unpacked_error(self.limits)


def _scan_xml(book: zipfile.ZipFile, part: zipfile.ZipInfo, limits: Limits, budget: _Budget) -> int:
    """The <row> elements of one XML part, checked against the limits; the bytes count on ``budget``.
    Counted on bytes first; a part that is not written the usual way is read again tag by tag."""
    scan = _FastScan(limits)
    with book.open(part) as fh:
        for data in _pieces(fh, budget):
            if not scan.feed(data):
                break
        else:
            return scan.rows
    scan = _TagScan(limits)
    with book.open(part) as fh:
        for data in _pieces(fh, None):
            scan.feed(data)
    return scan.rows


def _pieces(fh, budget: _Budget | None):
    """The part in pieces of about 1 MB, each cut after a whole tag (no tag spans two pieces)."""
    tail = b""
    while chunk := fh.read(_CHUNK):
        if budget is not None:
            budget.take(len(chunk))
        data = tail + chunk
        cut = data.rfind(b"<")
        if cut < 0:
            tail = b""
            yield data
            continue
        data, tail = data[:cut], data[cut:]
        if len(tail) > _MAX_TAG:
            # Text after a tag holds no markup: once that tag is whole, the rest needs no carrying over.
            whole = _ANY_TAG.match(tail)
            if whole is None:
                raise _damaged()
            data, tail = data + tail[:whole.end()], b""
        yield data
    if tail:
        yield tail


class _Scan:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.max_row = limits.max_rows + 1  # the header row too
        self.rows = 0  # <row> elements

    def rows_error(self) -> LimitError:
        return LimitError("rows", _(
            "The sheet has more than %(limit)s data rows, over the limit for the number of rows. Split it into "
            "smaller files and upload them one by one."
        ) % {"limit": self.limits.max_rows})

    def columns_error(self) -> LimitError:
        return LimitError("columns", _(
            "The sheet has more than %(limit)s columns, over the limit for the number of columns."
        ) % {"limit": self.limits.max_columns})


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper()[:4]:  # four letters are past any limit already
        number = number * 26 + ch - 64
    return number


class _FastScan(_Scan):
    """Counts on bytes, for XML whose cells all start ``<c r="B7"`` (no namespace prefixes): then a cell's
    place is its reference, and one pass finds the few tags that need a closer look (other elements
    whose names start with row or c, and cells whose reference is odd, far right or far down)."""

    def __init__(self, limits: Limits):
        super().__init__(limits)
        letters = len(_column_letters(limits.max_columns)) - 1  # references with fewer letters are inside
        digits = len(str(self.max_row)) - 1  # likewise rows
        self.usable = letters >= 1 and digits >= 1  # else every cell would need the closer look
        self.notable = self.usable and re.compile(
            rb"""<(?:(row|c)[\w.:-]|([A-Za-z_][\w.-]*:(?:row|c)[\s/>])|c(?=[\s/>])(?! r="[A-Z]{1,%d}[0-9]{1,%d}"))"""
            % (letters, digits)
        )

    def feed(self, data: bytes) -> bool:
        """False when this piece needs the tag-by-tag count."""
        if not self.usable:
            return False
        other_rows = 0
        for match in self.notable.finditer(data):
            other, prefixed = match.group(1), match.group(2)
            if prefixed:
                return False
            if other:
                other_rows += other == b"row"
                continue
            tag = _TAG.match(data, match.start())
            ref = _REF.search(tag.group(2)) if tag is not None else None
            if ref is None or not ref.group(1) or not ref.group(2):
                return False  # no reference, or not written <c r="B7": the place depends on counting
            if len(ref.group(2)) > 9 or int(ref.group(2)) > self.max_row:
                raise self.rows_error()
            if _column_number(ref.group(1)) > self.limits.max_columns:
                raise self.columns_error()
        self.rows += data.count(b"<row") - other_rows
        if self.rows > self.max_row:
            raise self.rows_error()
        return True


def _column_letters(number: int) -> bytes:
    letters = b""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = bytes([65 + rest]) + letters
    return letters or b"A"


class _TagScan(_Scan):
    """Counts tag by tag, following the reader: a row or cell without a reference comes after the last."""

    def __init__(self, limits: Limits):
        super().__init__(limits)
        self.row = 0  # number of the current row
        self.column = 0  # column of the last cell in it

    def feed(self, data: bytes) -> None:
        max_row, max_column = self.max_row, self.limits.max_columns
        for kind, attrs in _TAG.findall(data):
            ref = _REF.search(attrs) if b"r" in attrs else None
            letters = digits = b""
            if ref is not None:
                letters, digits = ref.group(1) or ref.group(3) or b"", ref.group(2) or ref.group(4) or b""
                if len(digits) > 9:
                    raise self.rows_error()
            if kind == b"row":
                self.rows += 1
                self.row = int(digits) if digits else self.row + 1
                self.column = 0
                if self.rows > max_row or self.row > max_row:
                    raise self.rows_error()
            else:
                self.column = _column_number(letters) if letters else self.column + 1
                if self.column > max_column:
                    raise self.columns_error()
                if digits and int(digits) > max_row:
                    raise self.rows_error()


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


def style_example(ws, row: int = 2) -> None:
    """Grey italics for a template's example row, so it reads as an example (the importer skips it when it is
    left as it is)."""
    for cell in ws[row]:
        cell.font = _EXAMPLE_FONT


def sheet_names(source) -> list[str]:
    """The worksheet names of an xlsx file, in order; SheetError for a file that is not one."""
    book = _open(source)
    try:
        return list(book.sheet_names)
    finally:
        book.close()


def error_report(header: Sequence[str], failures: Iterable[tuple[int, Sequence[str], Sequence[str]]]) -> bytes:
    """An xlsx of the rows that failed: the original cells, the row number and a 错误原因 column.

    ``failures`` yields (excel row number, original cells, reasons). The two extra columns are
    known to the importer and ignored there, so a corrected report can be uploaded again.
    """
    return error_report_sheets([("错误", header, failures)])


def error_report_sheets(sheets: Iterable[tuple[str, Sequence[str], Iterable]]) -> bytes:
    """``error_report`` for a workbook of several sheets: one sheet per (title, header, failures), each
    with the failed rows of the sheet of that title."""
    book = workbook(write_only=True)
    for title, header, failures in sheets:
        header = list(header)
        ws = write_only_sheet(book, title, [*header, ROW_HEADER, REASON_HEADER], widths=[16] * len(header) + [8, 60])
        width = len(header)
        for row_number, cells, reasons in failures:
            cells = list(cells[:width]) + [""] * (width - len(cells))
            ws.append([*cells, row_number, "；".join(reasons)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
