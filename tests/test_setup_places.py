"""The places workbook: the template round trip (download, fill, import on the worker), a row error for each
bad case, all or nothing, scope, and the checklist that follows the set-up."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent, ImportJob
from gongzhi.orgs.models import Building, Compound, Entrance, NodeKind, OrgNode
from gongzhi.orgs.setup import checklist
from gongzhi.orgs.setup.actions import PLACES_JOB, county_setup, places_import_start
from gongzhi.orgs.setup.jobs import run_places_import
from gongzhi.orgs.setup.template import HELP_SHEET, SHEET_BY_TITLE, SHEETS, template_bytes

from .factories import make_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def filled(sheets: dict[str, list[dict]], base: bytes | None = None, keep_example: bool = False) -> bytes:
    """The downloaded template with rows (by column key) typed under each sheet's header; the grey example row
    overwritten unless ``keep_example``."""
    book = openpyxl.load_workbook(io.BytesIO(base or template_bytes()))
    for title, rows in sheets.items():
        ws, sheet = book[title], SHEET_BY_TITLE[title]
        if not keep_example:
            ws.delete_rows(2)
        for values in rows:
            ws.append([values.get(c.key, "") for c in sheet.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(user, node, data: bytes) -> ImportJob:
    job = places_import_start(by=user, node=node, upload=SimpleUploadedFile("地点.xlsx", data, content_type=XLSX))
    return run_places_import(job.pk)


def errors_of(job: ImportJob) -> dict[tuple[str, int], str]:
    """(sheet, row) -> reasons, from the job's error report."""
    book = openpyxl.load_workbook(job.error_report.path)
    out = {}
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2, values_only=True):
            out[(ws.title, int(row[header.index("行号")]))] = row[header.index("错误原因")]
    return out


@pytest.fixture
def county(db):
    root = make_user("root", superuser=True)
    result = county_setup(code="511823", by=root)
    root.__dict__.pop("active_assignments", None)
    return result.node, root


def full_county_rows():
    return {
        "社区村": [
            {"parent": "511823100", "name": "城东社区", "code": "511823100001", "lng": "102.65", "lat": "29.35"},
            {"parent": "富林镇", "name": "河南村", "code": "511823100201"},
            {"parent": "511823101", "name": "文明社区", "code": "511823101001", "type": "社区"},
        ],
        "网格": [
            {"parent": "511823100001", "name": "第一网格", "code": "511823100001001"},
            {"parent": "富林镇/城东社区", "name": "第二网格"},
            {"parent": "城东社区/第一网格", "name": "第一微网格", "level": "微网格"},
            {"parent": "河南村", "name": "河南村网格"},
            {"parent": "511823101001", "name": "第一网格"},
        ],
        "小区": [
            {"community": "511823100001", "name": "滨河小区", "kind": "老旧小区", "address": "滨河路8号",
             "built_year": "1998"},
            {"community": "九襄镇/文明社区", "name": "花园小区"},
        ],
        "楼栋": [
            {"community": "511823100001", "compound": "滨河小区", "name": "1栋", "floors": "5", "grid": "第一网格"},
            {"community": "511823100001", "compound": "滨河小区", "name": "2栋", "floors": "7",
             "grid": "第一网格/第一微网格"},
            {"community": "511823100001", "compound": "滨河小区", "name": "3栋", "grid": "第二网格"},
            {"community": "文明社区", "compound": "花园小区", "name": "1栋", "grid": "第一网格"},
        ],
        "单元": [
            {"community": "城东社区", "compound": "滨河小区", "building": "1栋", "name": "1单元"},
            {"community": "城东社区", "compound": "滨河小区", "building": "1栋", "name": "2单元"},
        ],
    }


def test_template_has_a_sheet_per_kind_in_order_with_an_example_and_notes():
    book = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    assert book.sheetnames[:5] == [s.title for s in SHEETS] == ["社区村", "网格", "小区", "楼栋", "单元"]
    for sheet in SHEETS:
        ws = book[sheet.title]
        assert [c.value for c in ws[1]] == [c.header for c in sheet.columns]
        assert [c.value or "" for c in ws[2]] == sheet.example and ws[2][0].font.i
    notes = [row for row in book[HELP_SHEET].iter_rows(values_only=True)]
    assert ("社区村", "代码", "是") == notes[1 + [c.key for c in SHEETS[0].columns].index("code")][:3]
    assert book["选项"].sheet_state == "hidden"


def test_round_trip_download_fill_import(client, county):
    node, root = county
    client.force_login(root)
    response = client.get(reverse("setup:template"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    data = filled(full_county_rows(), base=response.content)
    response = client.post(reverse("setup:upload"), {"node": node.pk, "file": SimpleUploadedFile("地点.xlsx", data)})
    job = ImportJob.objects.get()
    assert response.url == reverse("excel:job", args=[job.pk]) and job.kind == PLACES_JOB
    job = run_places_import(job.pk)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert (job.rows_total, job.created, job.unchanged, job.errors) == (16, 16, 0, 0)
    assert not job.file  # the upload is removed

    east = OrgNode.objects.get(code="511823100001")
    assert (east.name, east.kind, east.is_rural, east.lng) == ("城东社区", NodeKind.COMMUNITY, False, 102.65)
    assert OrgNode.objects.get(code="511823100201").is_rural  # 河南村: a village from its name
    micro = OrgNode.objects.get(name="第一微网格")
    assert micro.kind == NodeKind.MICRO_GRID and OrgNode.objects.get_parent(micro).code == "511823100001001"
    compound = Compound.objects.get(name="滨河小区")
    assert (compound.kind, compound.built_year, compound.org_path) == ("old", 1998, east.path)
    b2 = Building.objects.get(compound=compound, name="2栋")
    assert b2.grid == micro and b2.org_path == micro.path and b2.floors == 7
    assert set(compound.grids.values_list("name", flat=True)) == {"第一网格", "第二网格"}
    assert list(Entrance.objects.filter(building__name="1栋", building__compound=compound)
                .values_list("name", flat=True).order_by("name")) == ["1单元", "2单元"]
    assert Building.objects.get(compound__name="花园小区").grid.path.startswith(OrgNode.objects.get(code="511823101001").path)
    assert AuditEvent.objects.filter(action="building.create").count() == 4
    assert AuditEvent.objects.get(action="places.import").changes["created"] == 16
    page = client.get(reverse("excel:job", args=[job.pk])).content.decode()
    assert "新增地点" in page and job.message in page

    # The same workbook again adds nothing.
    again = run(root, node, data)
    assert again.status == ImportJob.Status.SUCCEEDED, again.message
    assert (again.created, again.unchanged) == (0, 16)
    assert OrgNode.objects.count() == 1 + 21 + 3 + 5 and Building.objects.count() == 4 and Entrance.objects.count() == 2


def test_the_example_row_left_as_it_is_is_skipped(county):
    node, root = county
    data = filled({"社区村": [{"parent": "511823100", "name": "城东社区", "code": "511823100001"}]}, keep_example=True)
    job = run(root, node, data)
    assert job.status == ImportJob.Status.SUCCEEDED and job.rows_total == 1
    assert job.created == 1 and "社区村" in job.message


BAD_CASES = [
    # (sheet, row values, words the reason holds)
    ("社区村", {"parent": "511823100", "name": "城东社区", "code": "51182310001"}, "12"),
    ("社区村", {"parent": "511823100", "name": "北门社区", "code": "511823101009"}, "511823100"),  # not the parent's
    ("社区村", {"parent": "511823999", "name": "无名社区", "code": "511823999001"}, "没有"),  # unknown parent
    ("社区村", {"parent": "511823100", "name": "城南社区", "code": "511823100001"}, "第 2 行"),  # code twice in the file
    ("社区村", {"parent": "511823100001", "name": "错层社区", "code": "511823100003"}, "乡镇"),  # wrong kind of parent
    ("社区村", {"parent": "511823100", "name": "", "code": "511823100004"}, "名称"),  # required cell empty
    ("社区村", {"parent": "511823100", "name": "坐标社区", "code": "511823100005", "lng": "200"}, "经度"),
    ("网格", {"parent": "511823100001", "name": "错码网格", "code": "511823101001001"}, "511823100001"),
    ("网格", {"parent": "511823100", "name": "镇下网格"}, "社区"),  # a grid under a township
    ("网格", {"parent": "511823100001", "name": "层级网格", "level": "微网格"}, "微网格"),
    ("小区", {"community": "511823100", "name": "镇上小区"}, "社区"),
    ("小区", {"community": "511823100001", "name": "类型小区", "kind": "别墅"}, "类型"),
    ("楼栋", {"community": "511823100001", "compound": "无此小区", "name": "1栋", "grid": "第一网格"}, "无此小区"),
    ("楼栋", {"community": "511823100001", "compound": "滨河小区", "name": "9栋", "grid": "第九网格"}, "第九网格"),
    ("楼栋", {"community": "511823100001", "compound": "滨河小区", "name": "8栋", "floors": "八", "grid": "第一网格"}, "层数"),
    ("单元", {"community": "511823100001", "compound": "滨河小区", "building": "99栋", "name": "1单元"}, "99栋"),
]


@pytest.mark.parametrize("sheet,values,words", BAD_CASES, ids=[f"{s}-{i}" for i, (s, _v, _w) in enumerate(BAD_CASES)])
def test_a_bad_row_is_reported_and_nothing_is_written(county, sheet, values, words):
    node, root = county
    good = full_county_rows()
    good[sheet] = good[sheet] + [values]
    before = (OrgNode.objects.count(), Compound.objects.count(), Building.objects.count(), AuditEvent.objects.count())
    job = run(root, node, filled(good))
    assert job.status == ImportJob.Status.FAILED and job.errors == 1, job.message
    assert "没有写入任何数据" in job.message
    reasons = errors_of(job)
    (where, reason), = reasons.items()
    assert where == (sheet, len(good[sheet]) + 1), reasons
    assert words in reason, reason
    # All or nothing: the 15 good rows were not written either.
    assert (OrgNode.objects.count(), Compound.objects.count(), Building.objects.count(),
            AuditEvent.objects.count()) == before


def test_a_code_another_place_holds_is_a_row_error(county):
    node, root = county
    assert run(root, node, filled({"社区村": [{"parent": "511823100", "name": "城东社区", "code": "511823100001"}]})
               ).status == ImportJob.Status.SUCCEEDED
    job = run(root, node, filled({"社区村": [{"parent": "511823101", "name": "九襄社区", "code": "511823100001"}]}))
    assert job.status == ImportJob.Status.FAILED
    assert "城东社区" in errors_of(job)[("社区村", 2)]
    # Registered under the same name with another code: an error, not a second 城东社区.
    job = run(root, node, filled({"社区村": [{"parent": "511823100", "name": "城东社区", "code": "511823100002"}]}))
    assert job.status == ImportJob.Status.FAILED and "511823100001" in errors_of(job)[("社区村", 2)]


def test_a_subdistrict_staffer_imports_only_in_their_township(client, county):
    node, root = county
    fulin = OrgNode.objects.get(code="511823100")
    staff = make_user("fulin", Role.SUBDISTRICT_STAFF, fulin)
    rows = {"社区村": [{"parent": "511823100", "name": "城东社区", "code": "511823100001"},
                      {"parent": "511823101", "name": "文明社区", "code": "511823101001"}]}
    job = run(staff, fulin, filled(rows))
    assert job.status == ImportJob.Status.FAILED
    reasons = errors_of(job)
    assert list(reasons) == [("社区村", 3)] and "没有" in reasons[("社区村", 3)]  # 九襄镇 is not in their area
    assert not OrgNode.objects.filter(kind=NodeKind.COMMUNITY).exists()
    # The county node is not theirs to import into: refused before anything is stored.
    client.force_login(staff)
    response = client.post(reverse("setup:upload"), {"node": node.pk, "file": SimpleUploadedFile("a.xlsx", filled(rows))})
    assert response.status_code in (400, 404) and not ImportJob.objects.filter(created_by=staff, node=node).exists()
    page = client.get(reverse("setup:index"))
    assert page.status_code == 200 and f'value="{node.pk}"' not in page.content.decode()
    # In their township it goes through.
    job = run(staff, fulin, filled({"社区村": rows["社区村"][:1]}))
    assert job.status == ImportJob.Status.SUCCEEDED and job.created == 1
    # The job page of someone else's import is not found.
    other = run(root, node, filled({"社区村": [{"parent": "511823101", "name": "文明社区", "code": "511823101001"}]}))
    assert client.get(reverse("excel:job", args=[other.pk])).status_code == 404


def test_checklist_follows_the_set_up(client, county):
    node, root = county
    steps = {s["key"]: s for s in checklist.checklist(root, node)["steps"]}
    assert list(steps) == ["tree", "places", "staff", "residents", "routing", "calendar", "robots"]
    assert not steps["tree"]["done"] and steps["tree"]["count"] == 21 and steps["tree"].get("next")
    assert run(root, node, filled(full_county_rows())).status == ImportJob.Status.SUCCEEDED
    steps = {s["key"]: s for s in checklist.checklist(root, node)["steps"]}
    assert steps["tree"]["done"] and steps["places"]["done"] and steps["places"]["count"] == 6
    assert not steps["staff"]["done"] and steps["staff"].get("next")
    make_user("gridder", Role.GRID_WORKER, OrgNode.objects.get(code="511823100001001"))
    steps = {s["key"]: s for s in checklist.checklist(root, node)["steps"]}
    assert steps["staff"]["done"] and steps["staff"]["count"] == 2
    client.force_login(root)
    part = client.get(reverse("setup:checklist", args=[node.pk])).content.decode()
    assert 'data-step="places" data-done="1"' in part and 'data-step="residents" data-done="0"' in part
    node_page = client.get(reverse("orgs:node", args=[node.pk])).content.decode()
    assert reverse("setup:checklist", args=[node.pk]) in node_page
