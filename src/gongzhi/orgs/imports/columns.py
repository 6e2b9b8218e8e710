"""The spreadsheet's columns and values, as users type them, and the import template built from them.

The one place the Excel header labels live: the template, the import, the export and the error
report all use ``COLUMNS``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.worksheet.datavalidation import DataValidation

from gongzhi.core import excel

from ..models import CareGroup, Relation, ResidencyType

SHEET = "居民"
HELP_SHEET = "说明"
LISTS_SHEET = "选项"
DEFAULT_ETHNICITY = "汉族"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what users type in Excel: a data format, so literal Chinese
    required: bool
    help: str
    width: int = 14


COLUMNS = [
    Column("grid", "网格编码", True, gettext_lazy(
        "The grid's or micro-grid's code, or its name path such as 富林镇/城东社区/第一网格. The last parts "
        "are enough when they name one grid in your area."), 30),
    Column("address", "地址", True, gettext_lazy(
        "The household's full address. Rows with the same address form one household."), 34),
    Column("compound", "小区", False, gettext_lazy(
        "Name of an existing compound of the grid's community. Leave empty when there is none."), 14),
    Column("building", "楼栋", False, gettext_lazy("Name of an existing building of that compound, e.g. 3栋."), 8),
    Column("entrance", "单元", False, gettext_lazy("Entrance of that building, e.g. 1单元; a new one is added."), 8),
    Column("room", "房号", False, gettext_lazy("Room number, e.g. 302."), 8),
    Column("name", "姓名", True, gettext_lazy("The resident's name."), 10),
    Column("id_number", "身份证号", True, gettext_lazy(
        "18-digit resident ID number (GB 11643), typed as text. Gender and birth date are taken from it. "
        "A person already registered (same ID number) is updated, not added twice. A masked number "
        "(with *, as an export or an error report shows it) keeps the one on record; it needs the 记录编号."), 22),
    Column("phone", "联系电话", False, gettext_lazy(
        "11-digit mobile number or landline with area code. Empty clears it; a masked number (with *) keeps "
        "the one on record."), 15),
    Column("relation", "与户主关系", False, gettext_lazy(
        "One of the list; at most one 户主 per household. Empty: 其他 for a new person, unchanged "
        "for a registered one."), 11),
    Column("residency", "居住类型", False, gettext_lazy(
        "户籍, 流动 or 外出. Empty: 户籍 for a new person, unchanged for a registered one."), 10),
    Column("ethnicity", "民族", False, gettext_lazy(
        "e.g. 汉族, 彝族. Empty: 汉族 for a new person, unchanged for a registered one."), 8),
    Column("party", "是否党员", False, gettext_lazy(
        "是 or 否. Empty: 否 for a new person, unchanged for a registered one."), 9),
    Column("care_groups", "特殊群体", False, gettext_lazy(
        "Zero or more of the list, separated by 、 or a comma. The cell replaces the groups on record; "
        "empty means none."), 18),
    Column("record", "记录编号", False, gettext_lazy(
        "The resident's record number, written by the export. Leave it empty for a new person. A row with it "
        "updates that resident (who must be in your area), and its ID number and phone may stay masked as "
        "exported; a full number replaces the one on record."), 10),
]
HEADERS = {c.key: c.header for c in COLUMNS}
REQUIRED = [c.header for c in COLUMNS if c.required]
# Written by the export for reading; ignored by the import so an export can be uploaded again. The masked
# export leaves the birth date out (its age is there).
GENDER_HEADER, BIRTH_HEADER, AGE_HEADER = "性别", "出生日期", "年龄"
EXPORT_EXTRA = [GENDER_HEADER, BIRTH_HEADER, AGE_HEADER]
IGNORED_HEADERS = [*EXPORT_EXTRA, excel.ROW_HEADER, excel.REASON_HEADER]

# Enumerations as users type them (data values, the same whatever the page language).
RELATION_LABELS = {
    Relation.HEAD: "户主", Relation.SPOUSE: "配偶", Relation.CHILD: "子女", Relation.PARENT: "父母",
    Relation.GRANDCHILD: "孙子女", Relation.GRANDPARENT: "祖父母", Relation.SIBLING: "兄弟姐妹",
    Relation.CHILD_IN_LAW: "儿媳/女婿", Relation.TENANT: "租户", Relation.OTHER: "其他",
}
RESIDENCY_LABELS = {ResidencyType.REGISTERED: "户籍", ResidencyType.FLOATING: "流动", ResidencyType.AWAY: "外出"}
CARE_LABELS = {
    CareGroup.ELDERLY_ALONE: "独居老人", CareGroup.ADVANCED_AGE: "高龄", CareGroup.SUBSISTENCE: "低保",
    CareGroup.DISABLED: "残疾人", CareGroup.LEFT_BEHIND_CHILD: "留守儿童", CareGroup.HARDSHIP: "困难家庭",
    CareGroup.VETERAN: "退役军人",
}
GENDER_LABELS = {"M": "男", "F": "女"}
YES, NO = "是", "否"

RELATION_IN = {**{v: k for k, v in RELATION_LABELS.items()}, **{str(k): k for k in RELATION_LABELS},
               "本人": Relation.HEAD, "夫": Relation.SPOUSE, "妻": Relation.SPOUSE, "丈夫": Relation.SPOUSE,
               "妻子": Relation.SPOUSE, "子": Relation.CHILD, "女": Relation.CHILD, "儿子": Relation.CHILD,
               "女儿": Relation.CHILD, "父亲": Relation.PARENT, "母亲": Relation.PARENT, "孙子": Relation.GRANDCHILD,
               "孙女": Relation.GRANDCHILD, "外孙": Relation.GRANDCHILD, "外孙女": Relation.GRANDCHILD,
               "祖父": Relation.GRANDPARENT, "祖母": Relation.GRANDPARENT, "兄弟": Relation.SIBLING,
               "姐妹": Relation.SIBLING, "儿媳": Relation.CHILD_IN_LAW, "女婿": Relation.CHILD_IN_LAW,
               "租客": Relation.TENANT}
RESIDENCY_IN = {**{v: k for k, v in RESIDENCY_LABELS.items()}, **{str(k): k for k in RESIDENCY_LABELS}}
CARE_IN = {**{v: k for k, v in CARE_LABELS.items()}, **{str(k): k for k in CARE_LABELS}}
YES_IN = {YES: True, "Y": True, "YES": True, "TRUE": True, "1": True, "√": True,
          NO: False, "N": False, "NO": False, "FALSE": False, "0": False}
LIST_SPLIT = re.compile(r"[、,，;；\s]+")


def template_bytes() -> bytes:
    """The import template: the 居民 sheet with drop-down lists, a 说明 sheet, a hidden 选项 sheet."""
    book = excel.workbook()
    ws = book.active
    ws.title = SHEET
    ws.append([c.header for c in COLUMNS])
    excel.style_header(ws, [c.width for c in COLUMNS])
    letters = {c.key: ws.cell(row=1, column=i).column_letter for i, c in enumerate(COLUMNS, start=1)}
    # Text format, so Excel keeps all 18 digits of an ID number and the leading 0 of a landline.
    for key in ("id_number", "phone", "room", "grid"):
        ws.column_dimensions[letters[key]].number_format = "@"

    lists = book.create_sheet(LISTS_SHEET)
    choices = {
        "relation": list(RELATION_LABELS.values()),
        "residency": list(RESIDENCY_LABELS.values()),
        "care_groups": list(CARE_LABELS.values()),
        "party": [YES, NO],
    }
    for col, (key, values) in enumerate(choices.items(), start=1):
        lists.cell(row=1, column=col, value=HEADERS[key])
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=col, value=value)
        letter = lists.cell(row=1, column=col).column_letter
        dv = DataValidation(type="list", formula1=f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
                            allow_blank=True)
        if key != "care_groups":  # several groups go in one cell, which a strict list would refuse
            dv.showErrorMessage, dv.error = True, _("Choose a value from the list.")
        ws.add_data_validation(dv)
        dv.add(f"{letters[key]}2:{letters[key]}20000")
    lists.sheet_state = "hidden"

    help_ws = book.create_sheet(HELP_SHEET)
    help_ws.append([_("Column"), _("Required"), _("What to enter")])
    for c in COLUMNS:
        help_ws.append([c.header, YES if c.required else NO, str(c.help)])
    help_ws.append([])
    for line in (
        _("One row per resident. Rows with the same address form one household, in the grid of the first column."),
        _("A person already registered is updated: the one with the row's 记录编号, else the one with its ID "
          "number; unchanged rows are left alone."),
        _("Columns left out of the file are not changed. The columns 性别, 出生日期, 年龄, 行号 and 错误原因 "
          "of an export or an error report are ignored, so those files can be uploaded again."),
        _("An export shows ID numbers and phones masked (with *) unless full ones were asked for; with its "
          "记录编号 a masked row keeps the numbers on record, so the export can be corrected and uploaded again."),
        _("The error report masks ID numbers and phones too: for a new person (no 记录编号) type the full ID "
          "number again before uploading it."),
        _("Relation values: %(values)s.") % {"values": "、".join(RELATION_LABELS.values())},
        _("Care groups: %(values)s.") % {"values": "、".join(CARE_LABELS.values())},
    ):
        help_ws.append(["", "", line])
    excel.style_header(help_ws, [14, 8, 100])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
