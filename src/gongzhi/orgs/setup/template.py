"""The places workbook: one sheet per kind of place, in the order they build on each other (communities and
villages, grids and micro-grids, compounds, buildings, entrances), each with its header row and a grey
example row, and a 说明 sheet explaining every column. The one place its header labels live."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.worksheet.datavalidation import DataValidation

from gongzhi.core import excel

from ..models import CompoundKind

HELP_SHEET = "说明"
LISTS_SHEET = "选项"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what users type in Excel: a data format, so literal Chinese
    required: bool
    help: object
    example: str = ""
    width: int = 14
    text: bool = False  # formatted as text (codes keep every digit)


@dataclass(frozen=True)
class PlaceSheet:
    kind: str
    title: str  # the sheet's name
    label: object  # what its rows are, in the reader's language
    columns: tuple[Column, ...]

    @property
    def headers(self) -> dict[str, str]:
        return {c.key: c.header for c in self.columns}

    @property
    def required(self) -> list[str]:
        return [c.header for c in self.columns if c.required]

    @property
    def example(self) -> list[str]:
        return [c.example for c in self.columns]


_LNG = Column("lng", "经度", False, gettext_lazy("Longitude of its centre, e.g. 102.65 (for maps). Optional."),
              "102.6512", 10)
_LAT = Column("lat", "纬度", False, gettext_lazy("Latitude of its centre, e.g. 29.35. Optional."), "29.3497", 10)

COMMUNITY_TYPES = {"社区": False, "居委会": False, "村": True, "村委会": True}
GRID_LEVELS = {"网格": "grid", "微网格": "micro_grid", "小微网格": "micro_grid"}
COMPOUND_KINDS = {
    CompoundKind.COMMODITY: "商品房", CompoundKind.OLD: "老旧小区", CompoundKind.RESETTLEMENT: "安置房",
    CompoundKind.SELF_BUILT: "自建房", CompoundKind.RURAL_COURTYARD: "农村院落",
}
COMPOUND_KINDS_IN = {**{v: k for k, v in COMPOUND_KINDS.items()}, **{str(k): k for k in COMPOUND_KINDS}}

SHEETS = (
    PlaceSheet("community", "社区村", gettext_lazy("Communities and villages"), (
        Column("parent", "所属乡镇街道", True, gettext_lazy(
            "The township or subdistrict it belongs to: its 9-digit code (as the set-up page lists them) or its "
            "name."), "511823100", 16, True),
        Column("name", "名称", True, gettext_lazy("The community's or village's name, e.g. 城东社区, 河南村."),
               "城东社区", 16),
        Column("code", "代码", True, gettext_lazy(
            "Its 12-digit statistical code (统计用区划代码); it starts with the township's 9 digits."),
               "511823100001", 16, True),
        Column("type", "类型", False, gettext_lazy(
            "社区 or 村. Empty: 村 when the name ends with 村, else 社区."), "社区", 8),
        _LNG, _LAT,
    )),
    PlaceSheet("grid", "网格", gettext_lazy("Grids and micro-grids"), (
        Column("parent", "上级", True, gettext_lazy(
            "For a grid, its community; for a micro-grid, its grid: the code, or the path of names such as "
            "富林镇/城东社区 (the last parts are enough when they name one place). A grid must come before its "
            "micro-grids."), "511823100001", 24, True),
        Column("name", "名称", True, gettext_lazy("The grid's name, e.g. 第一网格."), "第一网格", 14),
        Column("code", "编码", False, gettext_lazy(
            "The grid's code, if it has one; it starts with the code of the place above it. The registry import "
            "can name the grid by it."), "511823100001001", 18, True),
        Column("level", "层级", False, gettext_lazy(
            "网格 or 微网格. Empty: a grid under a community, a micro-grid under a grid."), "网格", 8),
        _LNG, _LAT,
    )),
    PlaceSheet("compound", "小区", gettext_lazy("Compounds"), (
        Column("community", "所属社区", True, gettext_lazy(
            "The community or village: its 12-digit code, or its name (or path, e.g. 富林镇/城东社区)."),
               "511823100001", 16, True),
        Column("name", "名称", True, gettext_lazy("The compound's or courtyard's name."), "滨河小区", 16),
        Column("kind", "类型", False, gettext_lazy("One of the list. Empty: 商品房."), "老旧小区", 10),
        Column("address", "地址", False, gettext_lazy("Its street address."), "富林镇滨河路8号", 24),
        Column("built_year", "建成年份", False, gettext_lazy("The year it was built, e.g. 1998."), "1998", 9),
        _LNG, _LAT,
    )),
    PlaceSheet("building", "楼栋", gettext_lazy("Buildings"), (
        Column("community", "所属社区", True, gettext_lazy("The community or village of the compound, as on the 小区 sheet."),
               "511823100001", 16, True),
        Column("compound", "小区", True, gettext_lazy("The compound's name (on the 小区 sheet, or already registered)."),
               "滨河小区", 14),
        Column("name", "名称", True, gettext_lazy("The building's name, e.g. 3栋."), "1栋", 8),
        Column("floors", "层数", False, gettext_lazy("Number of floors."), "6", 6),
        Column("grid", "所属网格", True, gettext_lazy(
            "The grid or micro-grid the building belongs to: its code, or its name in the community (e.g. "
            "第一网格, or 第一网格/第一微网格)."), "第一网格", 18, True),
    )),
    PlaceSheet("entrance", "单元", gettext_lazy("Entrances"), (
        Column("community", "所属社区", True, gettext_lazy("The community or village, as on the 小区 sheet."),
               "511823100001", 16, True),
        Column("compound", "小区", True, gettext_lazy("The compound's name."), "滨河小区", 14),
        Column("building", "楼栋", True, gettext_lazy("The building's name."), "1栋", 8),
        Column("name", "名称", True, gettext_lazy("The entrance's name, e.g. 1单元."), "1单元", 8),
    )),
)
SHEET_BY_TITLE = {s.title: s for s in SHEETS}


def template_bytes() -> bytes:
    """The places workbook: a sheet per kind of place with a header row and a grey example row (skipped by
    the import when left as it is), drop-down lists where a column has them, and the 说明 sheet."""
    book = excel.workbook()
    first = True
    for sheet in SHEETS:
        ws = book.active if first else book.create_sheet(sheet.title)
        ws.title, first = sheet.title, False
        ws.append([c.header for c in sheet.columns])
        ws.append(sheet.example)
        excel.style_header(ws, [c.width for c in sheet.columns])
        excel.style_example(ws, 2)
        for index, column in enumerate(sheet.columns, start=1):
            if column.text:
                ws.column_dimensions[ws.cell(row=1, column=index).column_letter].number_format = "@"
    lists = book.create_sheet(LISTS_SHEET)
    choices = {("社区村", "type"): ["社区", "村"], ("网格", "level"): ["网格", "微网格"],
               ("小区", "kind"): list(COMPOUND_KINDS.values())}
    for col, ((title, key), values) in enumerate(choices.items(), start=1):
        sheet = SHEET_BY_TITLE[title]
        lists.cell(row=1, column=col, value=f"{title}·{sheet.headers[key]}")
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=col, value=value)
        letter = lists.cell(row=1, column=col).column_letter
        dv = DataValidation(type="list", formula1=f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
                            allow_blank=True)
        dv.showErrorMessage, dv.error = True, _("Choose a value from the list.")
        ws = book[title]
        ws.add_data_validation(dv)
        target = ws.cell(row=1, column=[c.key for c in sheet.columns].index(key) + 1).column_letter
        dv.add(f"{target}2:{target}20000")
    lists.sheet_state = "hidden"

    help_ws = book.create_sheet(HELP_SHEET)
    help_ws.append([_("Sheet"), _("Column"), _("Required"), _("What to enter")])
    for sheet in SHEETS:
        for c in sheet.columns:
            help_ws.append([sheet.title, c.header, "是" if c.required else "否", str(c.help)])
    help_ws.append([])
    for line in (
        _("Fill the sheets you need, in their order: a row may name places made by the sheets before it or by "
          "rows above it on the same sheet. Empty sheets and sheets left out are skipped."),
        _("The grey second row of each sheet is an example: it is skipped when left as it is; overwrite it or "
          "delete it."),
        _("All or nothing: if any row has an error, nothing is written and the error report lists every row "
          "with its reasons."),
        _("A place already registered (the same code, or the same name at the same place) is left as it is, so "
          "uploading the same file twice adds nothing."),
        _("Then import the households and residents with the registry template (Import / export)."),
    ):
        help_ws.append(["", "", "", line])
    excel.style_header(help_ws, [10, 14, 8, 100])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
