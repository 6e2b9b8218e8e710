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



@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def export(client, node, **data):
    return client.post(reverse("excel:export"), {"node": node.pk, **data}, HTTP_ACCEPT_LANGUAGE="en")


def sheet(response) -> list[tuple]:
    body = b"".join(response.streaming_content)
    return list(openpyxl.load_workbook(io.BytesIO(body))["居民"].values), body


def test_export_is_masked_by_default(client, tree):
    client.force_login(User.objects.get(username="shequ"))
    response = export(client, tree.comm_a)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    rows, body = sheet(response)
    assert list(rows[0]) == [c.header for c in imports.COLUMNS] + imports.EXPORT_EXTRA
    by_name = {r[6]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(by_name) == {"张建国", "李秀英"}  # 城东社区 only
    zhang = by_name["张建国"]
    assert zhang["身份证号"] == tree.resident_a.id_number_masked and zhang["联系电话"] == "138****1111"
    assert zhang["网格编码"] == "汉源县/富林镇/城东社区/第一网格/第一微网格"
    assert (zhang["小区"], zhang["楼栋"], zhang["与户主关系"], zhang["性别"], zhang["出生日期"]) == (
        "滨河小区", "1栋", "户主", "男", "1940-03-15")
    assert zhang["特殊群体"] == "独居老人、高龄" and zhang["年龄"] >= 85
    for resident in (tree.resident_a, tree.resident_a2):
        assert resident.reveal_id_number().encode() not in body and resident.reveal_phone().encode() not in body
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
    stamps = dict(Resident.objects.values_list("id", "updated_at"))
    before = (Resident.objects.count(), Household.objects.count(), AuditEvent.objects.count())
    job = imports.import_start(by=tree.users[Role.COUNTY_ADMIN], node=tree.county,
                               upload=SimpleUploadedFile("export.xlsx", body), mode="all", language="en")
    assert job.status == "succeeded", job.message
    assert (job.created, job.updated, job.unchanged, job.households_updated) == (0, 0, 3, 0)
    assert (Resident.objects.count(), Household.objects.count(), AuditEvent.objects.count()) == before
    assert dict(Resident.objects.values_list("id", "updated_at")) == stamps


def test_masked_export_reimport_is_refused_row_by_row(client, tree):
    client.force_login(User.objects.get(username="admin"))
    _rows, body = sheet(export(client, tree.county))
    before = AuditEvent.objects.count()
    job = imports.import_start(by=tree.users[Role.COUNTY_ADMIN], node=tree.county,
                               upload=SimpleUploadedFile("export.xlsx", body), mode="all", language="en")
    assert job.status == "failed" and job.errors == 3
    assert AuditEvent.objects.count() == before


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
