"""Registry export: masked by default, full data only with permission and a reason (audited), scoped, re-importable."""

import io
import os

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.core.access import Role
from gongzhi.accounts.models import User
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import imports
from gongzhi.orgs.models import Household, Resident
from gongzhi.orgs.tasks import import_registry



@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def export(client, node, **data):
    return client.post(reverse("excel:export"), {"node": node.pk, **data}, HTTP_ACCEPT_LANGUAGE="en")


def sheet(response) -> list[tuple]:
    body = b"".join(response.streaming_content)
    return list(openpyxl.load_workbook(io.BytesIO(body))["居民"].values), body


def reimport(user, node, body: bytes, mode="all"):
    """Upload ``body`` and run the job as the task worker does."""
    job = imports.import_start(by=user, node=node, upload=SimpleUploadedFile("export.xlsx", body), mode=mode,
                               language="en")
    import_registry.call(job.pk)
    job.refresh_from_db()
    return job


def edited(body: bytes, name: str, **changes) -> bytes:
    """The exported workbook with ``changes`` (header: value) made in the row of ``name``."""
    book = openpyxl.load_workbook(io.BytesIO(body))
    ws = book["居民"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("姓名")].value == name:
            for label, value in changes.items():
                row[header.index(label)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def snapshot():
    return (Resident.objects.count(), Household.objects.count(), AuditEvent.objects.count(),
            dict(Resident.objects.values_list("id", "updated_at")),
            dict(Resident.objects.values_list("id", "id_number_enc")), dict(Resident.objects.values_list("id", "phone_enc")))


def test_export_is_masked_by_default(client, tree):
    client.force_login(User.objects.get(username="shequ"))
    response = export(client, tree.comm_a)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows, body = sheet(response)
    # The template's columns (记录编号 among them), gender and age: no birth date in a masked export.
    assert list(rows[0]) == [c.header for c in imports.COLUMNS] + ["性别", "年龄"]
    by_name = {r[6]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(by_name) == {"张建国", "李秀英"}  # 城东社区 only
    zhang = by_name["张建国"]
    assert zhang["身份证号"] == tree.resident_a.id_number_masked and zhang["联系电话"] == tree.resident_a.phone_masked
    assert zhang["网格编码"] == "汉源县/富林镇/城东社区/第一网格/第一微网格"
    assert (zhang["小区"], zhang["楼栋"], zhang["与户主关系"], zhang["性别"], zhang["记录编号"]) == (
        "滨河小区", "1栋", "户主", "男", tree.resident_a.pk)
    assert zhang["特殊群体"] == "独居老人、高龄" and zhang["年龄"] >= 85
    for resident in (tree.resident_a, tree.resident_a2):
        assert resident.reveal_id_number().encode() not in body and resident.reveal_phone().encode() not in body
        assert resident.birth_date.isoformat().encode() not in body
    event = AuditEvent.objects.get(action="registry.export")
    assert event.changes["count"] == 2 and event.org_path == tree.comm_a.path
    assert not AuditEvent.objects.filter(action__startswith="pii.reveal").exists()


def test_full_export_needs_a_reason_and_is_audited(client, tree):
    client.force_login(User.objects.get(username="wangge"))
    refused = export(client, tree.grid_a1, reveal="on", reason="")
    assert refused.status_code == 400 and "Say why you need full ID numbers and phones." in refused.content.decode()
    assert not AuditEvent.objects.filter(action="pii.reveal.export").exists()

    response = export(client, tree.grid_a1, reveal="on", reason="核对低保名单")
    rows, _ = sheet(response)
    assert [(r[6], r[7], r[8]) for r in rows[1:]] == [
        ("张建国", tree.resident_a.reveal_id_number(), "13800001111")]
    assert dict(zip(rows[0], rows[1]))["出生日期"] == "1940-03-15"  # the full export has the birth date
    events = AuditEvent.objects.filter(action="pii.reveal.export")
    assert events.count() == 1
    event = events.get()
    assert (event.reason, event.changes["count"], event.object_id, event.actor.username) == (
        "核对低保名单", 1, str(tree.grid_a1.pk), "wangge")


def test_export_outside_scope_is_not_found(client, tree):
    client.force_login(User.objects.get(username="wangge"))
    assert export(client, tree.comm_b).status_code == 404
    assert export(client, tree.comm_a).status_code == 404  # above the worker's grid
    client.force_login(User.objects.get(username="louzhang"))  # may view the registry, not export it
    assert export(client, tree.micro_a1).status_code == 403
    assert not AuditEvent.objects.filter(action__in=["registry.export", "pii.reveal.export"]).exists()


def test_full_export_reimports_without_change(client, tree):
    client.force_login(User.objects.get(username="admin"))
    rows, body = sheet(export(client, tree.county, reveal="on", reason="年度核对"))
    assert len(rows) == 4
    before = snapshot()
    job = reimport(tree.users[Role.COUNTY_ADMIN], tree.county, body)
    assert job.status == "succeeded", job.message
    assert (job.created, job.updated, job.unchanged, job.households_updated) == (0, 0, 3, 0)
    assert snapshot() == before


def test_masked_export_round_trip(client, tree):
    """/registry/excel/ says the export can be edited and uploaded again: the default (masked) export,
    uploaded as it is, matches every row by its 记录编号 and changes nothing; an edited phone changes
    that resident's phone only, the masked ID numbers and phones of the others stay as they are."""
    client.force_login(User.objects.get(username="shequ"))
    assert "uploaded again" in client.get(reverse("excel:index"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rows, body = sheet(export(client, tree.comm_a))
    assert all("*" in r[7] for r in rows[1:])
    staff = tree.users[Role.COMMUNITY_STAFF]
    before = snapshot()
    job = reimport(staff, tree.comm_a, body)
    assert job.status == "succeeded", job.message
    assert (job.created, job.updated, job.unchanged, job.errors, job.households_created) == (0, 0, 2, 0, 0)
    assert snapshot() == before  # nothing written, nothing duplicated, no audit row

    zhang, li = tree.resident_a, tree.resident_a2
    job = reimport(staff, tree.comm_a, edited(body, "李秀英", 联系电话="13700007777"))
    assert (job.status, job.created, job.updated, job.unchanged) == ("succeeded", 0, 1, 1), job.message
    li.refresh_from_db()
    zhang.refresh_from_db()
    assert li.reveal_phone() == "13700007777" and li.reveal_id_number() == tree.resident_a2.reveal_id_number()
    assert (zhang.reveal_phone(), zhang.updated_at) == ("13800001111", before[3][zhang.pk])
    event = AuditEvent.objects.get(action="resident.update", object_id=str(li.pk))
    assert event.changes["phone"] == ["139****2222", li.phone_masked] and "id_number" not in event.changes
    assert Resident.objects.count() == before[0]


def test_masked_export_row_out_of_scope_is_refused(client, tree):
    """A county export uploaded by a community's staff, the other town's row moved into their grid: its
    记录编号 is refused like one that does not exist, and in "valid rows only" the rows in scope still go
    through."""
    client.force_login(User.objects.get(username="admin"))
    _rows, body = sheet(export(client, tree.county))
    body = edited(body, "王小明", 网格编码="城东社区/第一网格", 地址="城东社区新地址9号", 小区=None, 楼栋=None, 单元=None)
    before = snapshot()
    job = reimport(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, body, mode="valid")
    assert (job.status, job.unchanged, job.errors) == ("succeeded", 2, 1), job.message
    with job.error_report.open("rb") as fh:
        report = list(openpyxl.load_workbook(fh).active.values)
    assert report[1][6] == "王小明" and report[1][-1] == (
        f"There is no resident with 记录编号 {tree.resident_b.pk} in your area.")
    assert snapshot() == before


def test_export_queries_do_not_grow_with_rows(tree, django_assert_max_num_queries):
    """The export reads in a fixed number of queries whatever the size (no per-row query)."""
    from gongzhi.orgs import exports

    for index in range(30):
        Resident.objects.create(
            household=tree.household_a, org_path=tree.household_a.org_path, grid=tree.grid_a1, name=f"居民{index}",
            gender="F", birth_date="1990-01-01", relation="other",
        )
    with django_assert_max_num_queries(12):
        path, count, _name = exports.registry_export(by=tree.users[Role.COMMUNITY_STAFF], node=tree.comm_a)
    assert count == 32
    rows = list(openpyxl.load_workbook(path)["居民"].values)
    os.unlink(path)
    assert len(rows) == 33 and sum(1 for r in rows if str(r[6]).startswith("居民")) == 30
