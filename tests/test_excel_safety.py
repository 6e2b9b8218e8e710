"""Every Excel file the project writes carries user text as text: never a formula (not even after the cell
is edited in Excel or WPS), never a crash on a control character, numbers still numbers.

``EXPORTS`` names every export; ``test_every_workbook_writer_is_covered`` finds the code that builds
workbooks, so a new export has to be added here.
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

import gongzhi
from gongzhi.accounts.models import User
from gongzhi.orgs.tasks import import_registry
from gongzhi.core.access import SYSTEM
from gongzhi.core.access import Role
from gongzhi.appeals import actions as appeal_actions
from gongzhi.appeals.models import Channel
from gongzhi.core import excel
from gongzhi.core.models import ImportJob
from gongzhi.dashboards import ledger
from gongzhi.orgs import actions as org_actions
from gongzhi.orgs import imports

from .appeals_factories import make_categories
from .factories import PASSWORD, make_id

FORMULA = '=HYPERLINK("http://x","click")'
DDE = "=cmd|' /C calc'!A0"
# What Excel and WPS would read as a formula (or an error value) when typed or when the cell is edited.
RISKY_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
TRICKS = ["formula", "control character"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


class Texts:
    """User text for one trick: ``put(formula, plain)`` gives what is stored, and records what the export
    must show: the formula-like text as it is, or the plain text with its control characters dropped."""

    def __init__(self, trick: str, control: str = "\x07\x1b"):
        self.trick, self.control = trick, control

    def __call__(self, formula: str, plain: str) -> tuple[str, str]:
        if self.trick == "formula":
            return formula, formula
        return plain[:1] + self.control + plain[1:], plain


def _body(response) -> bytes:
    if response.status_code != 200:
        return b""
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- the exports, each producing its file from user text that tries the trick ---------------------------


def _ledger(client, tree, put):
    cats = make_categories()
    category, category_shown = put(DDE, "安全隐患")
    cats["safety"].name = category
    cats["safety"].save()
    title, title_shown = put(FORMULA, "垃圾没人清")
    description, description_shown = put("=1+1\n第二行", "门口垃圾堆了三天\n第二行")
    reporter, reporter_shown = put("@SUM(A1:A9)", "王大妈")
    address, address_shown = put("+滨河路", "滨河路")
    reason, reason_shown = put("#N/A", "不归我们管")
    result, result_shown = put("-1+2", "已清运")
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    # Stored before any input rule existed, or by an import: the export must cope with whatever is stored.
    appeal = appeal_actions.appeal_file(
        by=staff, category=cats["safety"], title=title, description=description, channel=Channel.WINDOW,
        node=tree.micro_a1, reporter_name=reporter, address=address,
    )
    appeal_actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1, note="请处理")
    appeal_actions.appeal_return(appeal=appeal, by=worker, reason=reason)
    appeal_actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    appeal_actions.appeal_accept(appeal=appeal, by=worker)
    appeal_actions.appeal_resolve(appeal=appeal, by=worker, result=result)
    client.force_login(staff)
    response = client.get("/dashboards/appeals/ledger.xlsx", {"node": tree.comm_a.pk})
    sheet = ledger.SHEET
    return response, _body(response), [
        (sheet, "标题", title_shown), (sheet, "分类", category_shown), (sheet, "地址", address_shown),
        (sheet, "诉求人", reporter_shown), (sheet, "诉求内容", description_shown), (sheet, "处理结果", result_shown),
        (sheet, "编号", appeal.number), (sheet, "退单次数", 1),
        (sheet, "台账记录", lambda v: f"退单（wangge）：{reason_shown}" in (v or "")),
    ]


def _registry_people(tree, put):
    compound, compound_shown = put("+滨河小区", "滨河小区")
    address, address_shown = put(FORMULA, "滨河小区9栋")
    room, room_shown = put("-302", "302")
    name, name_shown = put("=1+1", "赵六")
    ethnicity, ethnicity_shown = put("@汉族", "汉族")
    tree.compound_a.name = compound
    tree.compound_a.save()
    household = org_actions.household_create(node=tree.grid_a1, address=address, compound=tree.compound_a, room=room, by=SYSTEM)
    person = org_actions.resident_create(household=household, name=name, id_number=make_id("19800101"),
                                         phone="13700001234", relation="head", ethnicity=ethnicity, by=SYSTEM)
    return [("居民", "姓名", name_shown), ("居民", "地址", address_shown), ("居民", "小区", compound_shown),
            ("居民", "房号", room_shown), ("居民", "民族", ethnicity_shown),
            ("居民", "年龄", timezone.localdate().year - 1980)], person


def _registry_masked(client, tree, put):
    checks, person = _registry_people(tree, put)
    client.force_login(User.objects.get(username="shequ"))
    response = client.post(reverse("excel:export"), {"node": tree.comm_a.pk})
    return response, _body(response), [*checks, ("居民", "身份证号", person.id_number_masked)]


def _registry_full(client, tree, put):
    checks, person = _registry_people(tree, put)
    client.force_login(User.objects.get(username="wangge"))
    response = client.post(reverse("excel:export"), {"node": tree.grid_a1.pk, "reveal": "on", "reason": "核对名单"})
    return response, _body(response), [*checks, ("居民", "身份证号", person.reveal_id_number()),
                                       ("居民", "联系电话", "13700001234")]


def _template(client, tree, put):
    client.force_login(User.objects.get(username="shequ"))
    response = client.get(reverse("excel:template"))
    # No user text in it (yet), but the same rule holds for every cell.
    return response, _body(response), []


def text_cells_book(rows: list[list[str]], sheet: str = imports.SHEET) -> bytes:
    """An upload as Excel saves cells typed as text ('=1+1 stays =1+1)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import_errors(client, tree, put):
    # A file cannot hold U+0007 itself: Excel stores it as "_x0007_", which the reader turns back into U+0007.
    put = Texts(put.trick, control="_x0007_")
    address, address_shown = put("=1+1", "滨河小区9栋")
    name, name_shown = put("@SUM(A1)", "赵六")
    ethnicity, ethnicity_shown = put("-汉族", "汉族")
    row = {c.key: "" for c in imports.COLUMNS}
    row.update(grid="城东社区/第一网格", address=address, name=name, id_number="123", ethnicity=ethnicity)
    data = text_cells_book([[c.header for c in imports.COLUMNS], [row[c.key] for c in imports.COLUMNS]])
    client.force_login(User.objects.get(username="shequ"))
    posted = client.post(reverse("excel:upload"), {"node": tree.comm_a.pk, "mode": "all",
                                                   "file": SimpleUploadedFile("居民.xlsx", data)})
    assert posted.status_code == 302, posted.content[:500]
    job = ImportJob.objects.get()
    import_registry.call(job.pk)  # imports run on the task worker
    response = client.get(reverse("excel:job_errors", args=[job.pk]))
    return response, _body(response), [("错误", "地址", address_shown), ("错误", "姓名", name_shown),
                                       ("错误", "民族", ethnicity_shown), ("错误", excel.ROW_HEADER, 2)]


def _staff(tree, put):
    """A staff account under a hostile name, with a role in 城东社区."""
    from gongzhi.accounts.actions import role_assign

    name, name_shown = put("=1+1", "赵六")
    user = User.objects.create(username="13900001234", display_name=name, password="!imported")
    role_assign(user=user, role=Role.GRID_WORKER, node=tree.grid_a2, by=SYSTEM)
    return user, name_shown


def _roster_export(client, tree, put):
    _user, name_shown = _staff(tree, put)
    client.force_login(User.objects.get(username="shequ"))
    response = client.post(reverse("accounts:roster_export"), {"node": tree.comm_a.pk})
    return response, _body(response), [("人员", "姓名", name_shown), ("人员", "手机号", "13900001234")]


def _activation_codes(client, tree, put):
    from gongzhi.accounts import roster

    user, name_shown = _staff(tree, put)
    job = ImportJob.objects.create(kind=roster.KIND, created_by=User.objects.get(username="shequ"), node=tree.comm_a,
                                   org_path=tree.comm_a.path, status=ImportJob.Status.SUCCEEDED)
    User.objects.filter(pk=user.pk).update(import_job=job)
    client.force_login(User.objects.get(username="shequ"))
    response = client.post(reverse("accounts:roster_codes", args=[job.pk]))
    return response, _body(response), [("激活码", "姓名", name_shown), ("激活码", "登录名（手机号）", "13900001234")]


def _staff_template(client, tree, put):
    client.force_login(User.objects.get(username="shequ"))
    response = client.get(reverse("accounts:roster_template"))
    return response, _body(response), []


def _staff_import_errors(client, tree, put):
    from gongzhi.accounts import roster

    put = Texts(put.trick, control="_x0007_")
    name, name_shown = put("@SUM(A1)", "赵六")
    node, node_shown = put("-城东社区", "城东社区")
    data = text_cells_book([[c.header for c in roster.COLUMNS], [name, "123", "网格员", node, ""]],
                           sheet=roster.SHEET)
    client.force_login(User.objects.get(username="shequ"))
    posted = client.post(reverse("accounts:roster_upload"), {"node": tree.comm_a.pk,
                                                             "file": SimpleUploadedFile("人员.xlsx", data)})
    assert posted.status_code == 302, posted.content[:500]
    job = ImportJob.objects.get(kind=roster.KIND)
    roster.run_import(job.pk)  # imports run on the task worker
    response = client.get(reverse("accounts:roster_job_errors", args=[job.pk]))
    return response, _body(response), [("错误", "姓名", name_shown), ("错误", "所在组织", node_shown),
                                       ("错误", excel.ROW_HEADER, 2)]


# Every Excel file the project writes. A new export goes here (and in WRITERS below).
EXPORTS = {
    "appeal ledger": _ledger,
    "registry export, masked": _registry_masked,
    "registry export, full personal data": _registry_full,
    "import template": _template,
    "import error report": _import_errors,
    "staff roster export": _roster_export,
    "activation codes": _activation_codes,
    "staff import template": _staff_template,
    "staff import error report": _staff_import_errors,
}
# The functions that build a workbook, and the exports above that run them.
WRITERS = {
    "ledger_export": ["appeal ledger"],
    "registry_export": ["registry export, masked", "registry export, full personal data"],
    "template_bytes": ["import template", "staff import template"],  # orgs.imports and accounts.roster
    # orgs.imports and accounts.roster: the job's error report (core.excel.error_report)
    "job_finish": ["import error report", "staff import error report"],
    "export_bytes": ["staff roster export"],
    "activation_sheet": ["activation codes"],
}


def _cells(body: bytes):
    book = openpyxl.load_workbook(io.BytesIO(body))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                yield ws.title, cell


def _column(body: bytes, sheet: str, header: str) -> list:
    ws = openpyxl.load_workbook(io.BytesIO(body))[sheet]
    rows = list(ws.iter_rows())
    index = [c.value for c in rows[0]].index(header)
    return [r[index] for r in rows[1:]]


@pytest.mark.parametrize("trick", TRICKS)
@pytest.mark.parametrize("name", EXPORTS)
def test_user_text_is_text_in_every_export(client, tree, name, trick):
    response, body, checks = EXPORTS[name](client, tree, Texts(trick))
    assert response.status_code == 200, (name, response.status_code)
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    for sheet, cell in _cells(body):
        where = f"{name}: {sheet}!{cell.coordinate} {cell.value!r}"
        assert cell.data_type not in ("f", "e"), where  # never a formula, never an error value
        if isinstance(cell.value, str):
            assert not ILLEGAL_CHARACTERS_RE.search(cell.value), where
            assert cell.data_type == "s", where
            if cell.value.startswith(RISKY_START):
                assert cell.quotePrefix, where  # editing the cell in Excel keeps it text
    for sheet, header, expected in checks:
        column = _column(body, sheet, header)
        if callable(expected):
            assert any(expected(c.value) for c in column), (name, header, [c.value for c in column])
            continue
        found = [c for c in column if c.value == expected]
        assert found, (name, header, expected, [c.value for c in column])
        expected_type = "s" if isinstance(expected, str) else "n"
        assert all(c.data_type == expected_type for c in found), (name, header, expected)


# --- the one helper ---------------------------------------------------------------------------------


def _roundtrip(values, write_only=True):
    book = excel.workbook(write_only=write_only)
    ws = book.create_sheet("表")
    ws.append(values)
    out = io.BytesIO()
    book.save(out)
    return [c for c in openpyxl.load_workbook(io.BytesIO(out.getvalue()))["表"][1]], out.getvalue()


@pytest.mark.parametrize("write_only", [True, False])
def test_helper_keeps_numbers_and_dates_and_makes_text_text(write_only):
    when = dt.datetime(2025, 6, 1, 8, 30)
    values = ["=1+1", "+1", "-1", "@A1", "\t=1+1", "\r=1+1", "#N/A", "a\x00b\x08c\x1fd", "普通文字", 42, 3.5,
              dt.date(2025, 6, 1), when, True, None, "", "x\ud800y\ufffez"]
    cells, _data = _roundtrip(values, write_only)
    got = [c.value for c in cells]
    # (XML reads a CR as a line feed: Excel shows the same line break.)
    assert got[:8] == ["=1+1", "+1", "-1", "@A1", "\t=1+1", "\n=1+1", "#N/A", "abcd"]
    assert [c.data_type for c in cells[:9]] == ["s"] * 9
    assert [c.quotePrefix for c in cells[:9]] == [True] * 7 + [False, False]
    assert got[9:12] == [42, 3.5, dt.datetime(2025, 6, 1)] and cells[9].data_type == cells[10].data_type == "n"
    assert cells[11].is_date and cells[12].is_date and got[12] == when and got[13] is True
    assert got[-1] == "xyz"
    # Excel has no time zones: an aware moment is written in local (Beijing) time.
    assert excel.cell_value(dt.datetime(2025, 6, 1, 0, 30, tzinfo=dt.timezone.utc)) == when


def test_helper_cell_and_item_assignment_on_an_ordinary_sheet():
    book = excel.workbook()
    ws = book.active
    ws.cell(row=1, column=1, value="=2+2")
    ws["B1"] = "=3+3\x07"
    ws.append(["=4+4"])
    out = io.BytesIO()
    book.save(out)
    read = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert [(c.value, c.data_type, c.quotePrefix) for c in (read["A1"], read["B1"], read["A2"])] == [
        ("=2+2", "s", True), ("=3+3", "s", True), ("=4+4", "s", True)]


def test_excel_escapes_in_text_are_kept_literally():
    """Excel stores U+0007 as _x0007_; text that reads like such an escape is escaped, so it is not turned
    into a control character (or another letter) when the file is read again."""
    _cells_, data = _roundtrip(["代码_x0041_与_x0007_"])
    sheet = excel.read_sheet(io.BytesIO(data), "表")
    assert sheet.header == ["代码_x0041_与_x0007_"]


def test_every_workbook_writer_is_covered():
    """The functions that build a workbook are the ones WRITERS lists, and each names exports tested above;
    no code but core/excel.py makes an openpyxl Workbook, so every cell goes through its helper."""
    root = Path(gongzhi.__file__).resolve().parent.parent  # src/: gongzhi and any package beside it
    helper = root / "gongzhi" / "core" / "excel.py"
    found = set()
    for path in root.rglob("*.py"):
        if path == helper:
            continue
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\bWorkbook\s*\(|import\s+Workbook\b|openpyxl\s+import\s+.*\bWorkbook\b", source), (
            f"{path.relative_to(root)} builds an openpyxl Workbook itself: use gongzhi.core.excel.workbook()")
        if any("bench" in part for part in path.relative_to(root).parts):
            continue  # benchmark input files: generated, not an export (still made through core.excel)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call):
                        fn = call.func
                        name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                        if name in ("workbook", "write_only_sheet", "error_report"):
                            found.add(node.name)
    assert found == set(WRITERS), f"workbook writers found {sorted(found)}; add new ones to WRITERS and EXPORTS"
    assert sorted(n for names in WRITERS.values() for n in names) == sorted(EXPORTS)
