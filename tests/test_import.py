"""Registry import: template round trip, upserts that change nothing twice, broken files, scope, background jobs."""

import functools
import io
import os
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts.models import User
from gongzhi.core.access import Role
from gongzhi.core import excel
from gongzhi.core.models import AuditEvent, ImportJob
from gongzhi.core.pii import mask_id_number, mask_phone
from gongzhi.orgs import imports
from gongzhi.orgs.imports.write import Writer
from gongzhi.orgs.models import CareTag, Entrance, Household, Resident
from gongzhi.orgs.tasks import import_registry

from .factories import make_id, make_user


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def cells(**values) -> list:
    """One row in template column order; unnamed columns empty."""
    return [values.get(c.key, "") for c in imports.COLUMNS]


def family() -> list[list]:
    """A new household of three in 城东社区第一网格, in the existing 滨河小区1栋."""
    return [
        cells(grid="城东社区/第一网格", address="滨河小区1栋2单元302", compound="滨河小区", building="1栋",
              entrance="2单元", room="302", name="刘德华", id_number=make_id("19450712"), phone="13912345678",
              relation="户主", residency="户籍", ethnicity="汉族", party="是", care_groups="高龄、独居老人"),
        cells(grid="城东社区/第一网格", address="滨河小区1栋2单元302", compound="滨河小区", building="1栋",
              entrance="2单元", room="302", name="朱丽倩", id_number=make_id("19660406", male=False),
              relation="配偶", residency="流动", ethnicity="彝族", party="否"),
        cells(grid="城东社区/第一网格", address="滨河小区1栋2单元302", compound="滨河小区", building="1栋",
              entrance="2单元", room="302", name="刘向蕙", id_number=make_id("20150509", male=False),
              relation="子女", care_groups="留守儿童"),
    ]


def workbook(rows, header=None, base: bytes | None = None) -> bytes:
    """The template (or ``base``) with ``rows`` appended to the 居民 sheet."""
    book = openpyxl.load_workbook(io.BytesIO(base or imports.template_bytes()))
    ws = book["居民"]
    if header is not None:
        ws.delete_rows(1)
        ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, name="居民.xlsx"):
    return SimpleUploadedFile(name, data)


def run(user, node, data: bytes, mode="all", name="居民.xlsx", language="en") -> ImportJob:
    """Upload ``data`` as ``user`` would, then run the job as the task worker does."""
    job = imports.import_start(by=user, node=node, upload=upload(data, name), mode=mode, language=language)
    assert job.status == "queued"  # nothing is parsed at upload
    assert import_registry.call(job.pk) in ("succeeded", "failed")
    job.refresh_from_db()
    return job


def counts():
    return (Resident.objects.count(), Household.objects.count(), AuditEvent.objects.count(), CareTag.objects.count(),
            Entrance.objects.count())


def stored_files(settings) -> list[str]:
    """Every file under MEDIA_ROOT, relative, sorted."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def report_rows(job) -> list[tuple]:
    with job.error_report.open("rb") as fh:
        return list(openpyxl.load_workbook(fh).active.values)


# --- template and the happy path -------------------------------------------------------------------


def test_template_has_headers_lists_and_help(client, tree):
    client.force_login(User.objects.get(username="shequ"))
    response = client.get(reverse("excel:template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["居民", "选项", "说明"]
    ws = book["居民"]
    assert [c.value for c in ws[1]] == [c.header for c in imports.COLUMNS]
    assert book["选项"].sheet_state == "hidden"
    # Drop-down lists on the enumerations, fed from the hidden sheet.
    listed = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    relation_col = [c.header for c in imports.COLUMNS].index("与户主关系") + 1
    relation_cell = ws.cell(row=2, column=relation_col).coordinate
    assert "选项" in listed[relation_cell]
    options = {col[0].value: [c.value for c in col[1:] if c.value] for col in book["选项"].iter_cols()}
    assert options["与户主关系"][0] == "户主" and "外出" in options["居住类型"] and options["是否党员"] == ["是", "否"]
    assert "独居老人" in options["特殊群体"]
    assert [r[0].value for r in book["说明"].iter_rows(min_row=2, max_row=len(imports.COLUMNS) + 1)] == \
        [c.header for c in imports.COLUMNS]


def test_template_round_trip_through_the_pages(client, tree):
    client.force_login(User.objects.get(username="shequ"))
    template = client.get(reverse("excel:template")).content
    before = counts()
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = client.post(reverse("excel:upload"), {
        "node": tree.comm_a.pk, "mode": "all", "file": upload(workbook(family(), base=template)),
    }, HTTP_ACCEPT_LANGUAGE="en")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("excel:job", args=[job.pk])
    import_registry.call(job.pk)  # what the task worker runs
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert (job.created, job.updated, job.unchanged, job.errors, job.households_created) == (3, 0, 0, 0, 1)

    house = Household.objects.get(address="滨河小区1栋2单元302")
    assert house.grid == tree.grid_a1 and house.micro_grid is None and house.org_path == tree.grid_a1.path
    assert house.compound == tree.compound_a and house.building == tree.building_a and house.room == "302"
    assert house.entrance.name == "2单元" and house.entrance.building == tree.building_a
    head = Resident.objects.get(name="刘德华")
    assert house.head == head and head.relation == "head" and head.is_party_member
    assert (head.gender, str(head.birth_date)) == ("M", "1945-07-12")
    assert head.reveal_phone() == "13912345678" and head.phone_masked == "139****5678"
    assert set(head.care_tags.values_list("group", flat=True)) == {"advanced_age", "elderly_alone"}
    wife = Resident.objects.get(name="朱丽倩")
    assert (wife.gender, wife.relation, wife.residency, wife.ethnicity, wife.is_party_member) == (
        "F", "spouse", "floating", "彝族", False)
    child = Resident.objects.get(name="刘向蕙")
    assert child.grid == tree.grid_a1 and child.residency == "registered" and child.ethnicity == "汉族"
    assert list(child.care_tags.values_list("group", flat=True)) == ["left_behind_child"]

    after = counts()
    assert after[0] - before[0] == 3 and after[1] - before[1] == 1
    actions = AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True)
    assert sorted(actions) == ["household.create", "registry.import", "resident.create", "resident.create",
                               "resident.create"]
    summary = AuditEvent.objects.get(action="registry.import")
    assert (summary.object_id, summary.changes["created"], summary.changes["households_created"]) == (str(job.pk), 3, 1)
    created = AuditEvent.objects.get(action="resident.create", object_id=str(head.pk))
    assert created.changes["phone"] == "139****5678" and "*" in created.changes["id_number"]
    assert head.reveal_id_number() not in str(created.changes) and created.actor.username == "shequ"

    page = client.get(reverse("excel:job", args=[job.pk]))
    assert page.status_code == 200 and b'hx-trigger="every 1s"' not in page.content


def test_reimport_same_file_changes_nothing(tree):
    staff = tree.users[Role.COMMUNITY_STAFF]
    data = workbook(family())
    run(staff, tree.comm_a, data)
    stamps = dict(Resident.objects.values_list("id", "updated_at"))
    house_stamps = dict(Household.objects.values_list("id", "updated_at"))
    before = counts()
    job = run(staff, tree.comm_a, data)
    assert job.status == "succeeded", job.message
    assert (job.created, job.updated, job.unchanged, job.households_created, job.households_updated) == (0, 0, 3, 0, 0)
    assert counts() == before  # no new audit rows either
    assert dict(Resident.objects.values_list("id", "updated_at")) == stamps
    assert dict(Household.objects.values_list("id", "updated_at")) == house_stamps


def test_changed_phone_is_one_update(tree):
    staff = tree.users[Role.COMMUNITY_STAFF]
    rows = family()
    run(staff, tree.comm_a, workbook(rows))
    wife = Resident.objects.get(name="朱丽倩")
    stamps = dict(Resident.objects.values_list("id", "updated_at"))
    audits = AuditEvent.objects.count()
    rows[1][[c.key for c in imports.COLUMNS].index("phone")] = "138 0000 9999"
    job = run(staff, tree.comm_a, workbook(rows))
    assert (job.created, job.updated, job.unchanged) == (0, 1, 2)
    wife.refresh_from_db()
    assert wife.reveal_phone() == "13800009999" and wife.updated_at > stamps[wife.pk]
    assert {pk: t for pk, t in Resident.objects.values_list("id", "updated_at") if pk != wife.pk} == \
        {pk: t for pk, t in stamps.items() if pk != wife.pk}
    new_events = AuditEvent.objects.order_by("id")[audits:]
    assert [e.action for e in new_events] == ["resident.update", "registry.import"]
    assert new_events[0].changes["phone"] == ["", "138****9999"]


def test_existing_resident_updated_and_head_changes(tree):
    """Rows for a registered household: the old head listed with another relation, a new head, a care tag removed."""
    staff = tree.users[Role.COMMUNITY_STAFF]
    zhang = tree.resident_a
    rows = [
        cells(grid="第一微网格", address="滨河小区1栋1单元101", compound="滨河小区", building="1栋", name="张建国",
              id_number=zhang.reveal_id_number(), phone="13800001111", relation="父母", care_groups="高龄"),
        cells(grid="第一微网格", address="滨河小区1栋1单元101", compound="滨河小区", building="1栋", name="张小军",
              id_number=make_id("19700101"), relation="户主"),
    ]
    job = run(staff, tree.comm_a, workbook(rows))
    assert job.status == "succeeded", job.message
    assert (job.created, job.updated, job.households_updated) == (1, 1, 1)
    zhang.refresh_from_db()
    house = Household.objects.get(pk=tree.household_a.pk)
    assert house.head.name == "张小军" and zhang.relation == "parent"
    assert list(zhang.care_tags.values_list("group", flat=True)) == ["advanced_age"]
    event = AuditEvent.objects.get(action="resident.update", object_id=str(zhang.pk))
    assert event.changes["care_groups"] == [["advanced_age", "elderly_alone"], ["advanced_age"]]
    assert AuditEvent.objects.get(action="household.update").changes["head"] == ["张建国", "张小军"]


# --- broken files: a clear message and nothing written ------------------------------------------------


def _bad_id() -> str:
    good = make_id("19800101")
    return good[:17] + ("0" if good[17] != "0" else "1")


BROKEN = {
    "wrong headers": (
        lambda t: workbook([["第一网格", "某地址", "王五"]], header=["网格编码", "地址", "姓名", "备注"]),
        ["Missing columns: 身份证号", "Unknown columns: 备注"],
    ),
    "bad ID checksum": (
        lambda t: workbook([cells(grid="第一网格", address="新地址1号", name="王五", id_number=_bad_id())]),
        ["1 of 1 rows have errors"],
    ),
    "duplicate in file": (
        lambda t: workbook([cells(grid="第一网格", address="新地址1号", name="王五", id_number=(i := make_id())),
                            cells(grid="第一网格", address="新地址2号", name="王六", id_number=i)]),
        ["2 of 2 rows have errors"],
    ),
    "grid that does not exist": (
        lambda t: workbook([cells(grid="城东社区/第九网格", address="新地址1号", name="王五", id_number=make_id())]),
        ["1 of 1 rows have errors"],
    ),
    "no data rows": (lambda t: workbook([]), ["no data rows"]),
    "two heads in one household": (
        lambda t: workbook([cells(grid="第一网格", address="新地址1号", name="王五", id_number=make_id(), relation="户主"),
                            cells(grid="第一网格", address="新地址1号", name="王六", id_number=make_id(), relation="户主")]),
        ["2 of 2 rows have errors"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_file_writes_nothing(tree, case):
    make, expected = BROKEN[case]
    data = make(tree)
    before = counts()
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, data, name="bad.xlsx")
    assert job.status == "failed"
    for text in expected:
        assert text in job.message
    assert "nothing was written" in job.message.lower()
    assert counts() == before


UNREADABLE = {
    "text file": (lambda: "网格编码,地址\n第一网格,x\n".encode(), "not an Excel workbook"),
    "corrupt zip renamed xlsx": (lambda: workbook(family())[:600], "not an Excel workbook"),
    "zero bytes": (lambda: b"", "The file is empty"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_unreadable_file_is_refused_at_upload(tree, case, settings):
    """A file that is no workbook is refused before a job is made: nothing stored, nothing queued."""
    make, expected = UNREADABLE[case]
    before = counts()
    with pytest.raises(ValidationError) as refused:
        imports.import_start(by=tree.users[Role.COMMUNITY_STAFF], node=tree.comm_a, upload=upload(make(), "bad.xlsx"),
                             mode="all", language="en")
    assert expected in refused.value.messages[0]
    assert counts() == before and not ImportJob.objects.exists() and stored_files(settings) == []


@pytest.mark.parametrize("case, reason", [
    ("bad ID checksum", "check digit is wrong"),
    ("duplicate in file", "The same ID number is also in row 3."),
    ("grid that does not exist", "There is no grid “城东社区/第九网格” in your area."),
    ("two heads in one household", "A household has one head (户主); rows 2, 3 all say 户主."),
])
def test_row_errors_reported_in_the_error_report(tree, case, reason):
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, BROKEN[case][0](tree))
    rows = report_rows(job)
    assert rows[0][-2:] == ("行号", "错误原因")
    assert rows[0][:-2] == tuple(c.header for c in imports.COLUMNS)
    assert reason in rows[1][-1]


def test_error_reasons_follow_the_uploaders_language(tree):
    """The reasons are gettext strings: rendered in the language of the upload (zh-Hans by default)."""
    data = BROKEN["bad ID checksum"][0](tree)
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, data, language="zh-hans")
    with translation.override("zh-hans"):
        expected = translation.gettext("The ID number's check digit is wrong (GB 11643).")
    assert report_rows(job)[1][-1] == expected


def test_masked_id_number_is_refused_with_a_reason(tree):
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a,
              workbook([cells(grid="第一网格", address="新地址1号", name="王五", id_number="5118**********1234")]))
    assert job.status == "failed" and "masked" in report_rows(job)[1][-1] and "记录编号" in report_rows(job)[1][-1]


def test_valid_rows_only_writes_the_valid_ones(tree):
    rows = family()
    rows[1][[c.key for c in imports.COLUMNS].index("id_number")] = _bad_id()
    rows.append(cells(grid="城东社区/第一网格", address="别处1号", name="赵六", id_number=make_id(), compound="没有的小区"))
    before = counts()
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, workbook(rows), mode="valid")
    assert job.status == "succeeded"
    assert (job.created, job.errors) == (2, 2) and "2 rows had errors" in job.message
    assert Resident.objects.count() - before[0] == 2
    assert not Resident.objects.filter(name__in=["朱丽倩", "赵六"]).exists()
    report = report_rows(job)
    assert [r[-2] for r in report[1:]] == [3, 5]
    assert "check digit" in report[1][-1] and "没有的小区" in report[2][-1]
    assert report[1][[c.key for c in imports.COLUMNS].index("name")] == "朱丽倩"


# --- scope ------------------------------------------------------------------------------------------


def test_grid_outside_scope_reads_as_nonexistent(tree):
    worker = tree.users[Role.GRID_WORKER]  # grid_a1 only
    rows = [
        cells(grid="第一网格", address="新地址1号", name="王五", id_number=make_id()),  # their own grid: unique in scope
        cells(grid="九襄镇/文明社区/第一网格", address="新地址2号", name="王六", id_number=make_id()),  # other town
        cells(grid="城东社区/第二网格", address="新地址3号", name="王七", id_number=make_id()),  # neighbour grid
        cells(grid="城东社区/第八网格", address="新地址4号", name="王八", id_number=make_id()),  # no such grid
    ]
    before = counts()
    job = run(worker, tree.grid_a1, workbook(rows), mode="valid")
    assert job.created == 1 and Resident.objects.get(name="王五").grid == tree.grid_a1
    reasons = [r[-1] for r in report_rows(job)[1:]]
    with translation.override("en"):
        assert reasons == [
            translation.gettext("There is no grid “%(grid)s” in your area.") % {"grid": g}
            for g in ("九襄镇/文明社区/第一网格", "城东社区/第二网格", "城东社区/第八网格")
        ]
    assert counts()[0] == before[0] + 1


def test_ambiguous_grid_name_asks_for_more_of_the_path(tree):
    admin = tree.users[Role.COUNTY_ADMIN]
    job = run(admin, tree.county, workbook([cells(grid="第一网格", address="新地址1号", name="王五", id_number=make_id())]))
    assert "ambiguous" in report_rows(job)[1][-1]


def test_resident_or_household_outside_scope_not_touched(tree):
    worker = tree.users[Role.GRID_WORKER]
    outsider = tree.resident_b
    rows = [cells(grid="第一网格", address="新地址1号", name="改名", id_number=outsider.reveal_id_number()),
            cells(grid="第一网格", address=tree.household_b.address, name="王五", id_number=make_id())]
    job = run(worker, tree.grid_a1, workbook(rows))
    assert job.status == "failed"
    reasons = [r[-1] for r in report_rows(job)[1:]]
    assert reasons == ["A resident with this ID number is already registered.",
                       "A household with this address already exists."]
    outsider.refresh_from_db()
    assert outsider.name == "王小明"


def test_upload_needs_registry_edit_and_a_node_in_scope(client, tree):
    client.force_login(User.objects.get(username="louzhang"))  # building steward: may view, not edit
    data = workbook(family())
    assert client.post(reverse("excel:upload"), {"node": tree.micro_a1.pk, "mode": "all", "file": upload(data)}).status_code == 403
    assert client.get(reverse("excel:index")).status_code == 403
    client.force_login(User.objects.get(username="wangge"))
    response = client.post(reverse("excel:upload"), {"node": tree.grid_b1.pk, "mode": "all", "file": upload(data)})
    assert response.status_code == 404
    assert not ImportJob.objects.exists()


def test_job_visible_to_its_creator_and_county_admins_only(client, tree):
    job = run(tree.users[Role.GRID_WORKER], tree.grid_a1,
              workbook([cells(grid="第一网格", address="新地址1号", name="王五", id_number=_bad_id())]))
    urls = [reverse(name, args=[job.pk]) for name in ("excel:job", "excel:job_progress", "excel:job_errors")]
    for username, status in (("wangge", 200), ("admin", 200), ("shequ", 404), ("jiedao", 404)):
        client.force_login(User.objects.get(username=username))
        assert [client.get(u).status_code for u in urls] == [status] * 3, username


# --- background jobs ---------------------------------------------------------------------------------


def test_every_import_runs_as_a_background_task(client, tree, django_capture_on_commit_callbacks):
    """Even a four-row file: the upload request stores and queues it, the worker reads and writes."""
    from django_tasks_db.models import DBTaskResult

    rows = family() + [cells(grid="第二网格", address="城东社区二组12号", name="王五", id_number=_bad_id())]
    client.force_login(User.objects.get(username="shequ"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("excel:upload"), {
            "node": tree.comm_a.pk, "mode": "valid", "file": upload(workbook(rows)),
        }, HTTP_ACCEPT_LANGUAGE="en")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("excel:job", args=[job.pk])
    assert job.status == "queued" and job.rows_total == 4 and job.started_at is None
    task = DBTaskResult.objects.get()  # enqueued for the database worker once the job row was committed
    assert task.task_path == "gongzhi.orgs.tasks.import_registry" and task.args_kwargs["args"] == [job.pk]
    assert not Resident.objects.filter(name="刘德华").exists()

    partial = client.get(reverse("excel:job_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in partial and reverse("excel:job_progress", args=[job.pk]) in partial

    assert import_registry.call(job.pk) == "succeeded"  # what the worker runs
    job.refresh_from_db()
    assert (job.status, job.created, job.errors, job.rows_validated) == ("succeeded", 3, 1, 4)
    assert Resident.objects.filter(name="刘德华").exists()
    partial = client.get(reverse("excel:job_progress", args=[job.pk])).content.decode()
    assert "hx-trigger" not in partial
    assert 'data-figure="created">3<' in partial and 'data-figure="errors">1<' in partial
    assert 'data-figure="validated">4 / 4<' in partial
    assert reverse("excel:job_errors", args=[job.pk]) in partial
    assert import_registry.call(job.pk) == "succeeded"  # a second run leaves a finished job alone
    assert Resident.objects.filter(name="刘德华").count() == 1


def test_background_task_with_the_immediate_backend(tree, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_start(by=tree.users[Role.COMMUNITY_STAFF], node=tree.comm_a,
                                   upload=upload(workbook(family())), mode="all", language="en")
    job.refresh_from_db()
    assert (job.status, job.created, job.households_created) == ("succeeded", 3, 1)


def test_unexpected_error_fails_the_job_and_rolls_back(tree, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Writer, "_heads", boom)
    before = counts()
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, workbook(family()))
    assert job.status == "failed" and "unexpected error" in job.message
    assert counts() == before


def test_index_page_lists_my_jobs_and_forms(client, tree):
    run(tree.users[Role.GRID_WORKER], tree.grid_a1, workbook([]), name="空文件.xlsx")
    make_user("other", Role.GRID_WORKER, tree.grid_a1)
    client.force_login(User.objects.get(username="wangge"))
    page = client.get(reverse("excel:index")).content.decode()
    assert "空文件.xlsx" in page and reverse("excel:template") in page
    assert f'value="{tree.grid_a1.pk}"' in page and f'value="{tree.grid_b1.pk}"' not in page
    client.force_login(User.objects.get(username="other"))
    assert "空文件.xlsx" not in client.get(reverse("excel:index")).content.decode()


def test_household_grid_must_match_the_registry(tree):
    """Naming the grid above a household's micro-grid is the same place; another grid would be a move."""
    staff = tree.users[Role.COMMUNITY_STAFF]
    zhang = tree.resident_a
    row = dict(address=tree.household_a.address, compound="滨河小区", building="1栋", name="张建国",
               id_number=zhang.reveal_id_number(), phone="13800001111", relation="户主", care_groups="独居老人、高龄")
    same = run(staff, tree.comm_a, workbook([cells(grid="城东社区/第一网格", **row)]))
    assert (same.status, same.unchanged) == ("succeeded", 1), same.message
    moved = run(staff, tree.comm_a, workbook([cells(grid="城东社区/第二网格", **row)]))
    assert moved.status == "failed" and "registered in another grid" in report_rows(moved)[1][-1]
    house = Household.objects.get(pk=tree.household_a.pk)
    assert (house.grid, house.micro_grid) == (tree.grid_a1, tree.micro_a1)


def test_second_head_for_a_registered_household_is_refused(tree):
    """A new 户主 only replaces the current head when the file gives the current head another relation."""
    staff = tree.users[Role.COMMUNITY_STAFF]
    zhang = tree.resident_a
    base = dict(grid="第一微网格", address=tree.household_a.address, compound="滨河小区", building="1栋")
    newcomer = cells(name="张小军", id_number=make_id("19700101"), relation="户主", **base)
    before = counts()
    job = run(staff, tree.comm_a, workbook([newcomer]))
    assert job.status == "failed" and counts() == before
    with translation.override("en"):
        expected = translation.gettext(
            "The household already has a head (%(name)s); list them in the file with another relation."
        ) % {"name": "张建国"}
    assert report_rows(job)[1][-1] == expected
    # The current head listed without a relation (keep it) is not stepping down either.
    kept = cells(name="张建国", id_number=zhang.reveal_id_number(), phone="13800001111", care_groups="独居老人、高龄", **base)
    job = run(staff, tree.comm_a, workbook([kept, newcomer]))
    assert job.status == "failed" and Household.objects.get(pk=tree.household_a.pk).head == zhang


def test_household_in_a_micro_grid(tree):
    job = run(tree.users[Role.GRID_WORKER], tree.grid_a1,
              workbook([cells(grid="第一微网格", address="新地址9号", name="王五", id_number=make_id(), relation="户主")]))
    assert job.status == "succeeded", job.message
    house = Household.objects.get(address="新地址9号")
    assert (house.grid, house.micro_grid, house.org_path) == (tree.grid_a1, tree.micro_a1, tree.micro_a1.path)
    person = house.head
    assert (person.grid, person.org_path) == (tree.grid_a1, tree.micro_a1.path)
    assert AuditEvent.objects.get(action="household.create", object_id=str(house.pk)).changes["grid"] == \
        "汉源县/富林镇/城东社区/第一网格/第一微网格"


def test_id_number_typed_as_a_number_is_explained(tree):
    number = int(make_id("19800101")[:17] + "1")  # an ID number that went into a number cell
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a,
              workbook([cells(grid="第一网格", address="新地址1号", name="王五", id_number=number)]))
    assert job.status == "failed" and "format the column as text" in report_rows(job)[1][-1]


# --- limits: a file is checked before anything parses it ---------------------------------------------------


def bomb(rows: int = 1_000_000, row: bytes = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>') -> bytes:
    """A minimal workbook whose 居民 sheet has a header and ``rows`` copies of ``row``: a million bare
    <row> elements (no r attribute, so a count of "<row " finds none) pack into about 144 KB."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="居民" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }
    header = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{c.header}</t></is></c>'
                     for i, c in enumerate(imports.COLUMNS))
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
             f'2006/main"><sheetData><row r="1">{header}</row>').encode() + row * rows + b"</sheetData></worksheet>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        for name, text in parts.items():
            book.writestr(name, text)
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


_BOMB = functools.lru_cache(maxsize=None)(bomb)


def post_upload(client, tree, data: bytes, **headers):
    return client.post(reverse("excel:upload"), {"node": tree.comm_a.pk, "mode": "all", "file": upload(data, "炸弹.xlsx")},
                       **headers)


def _measured(fn):
    """(result, seconds, peak bytes of Python memory) of ``fn()``: timed on a first run, its memory traced on
    a second one (tracing slows every allocation down)."""
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    try:
        result = fn()
        return result, seconds, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_import_bomb_is_refused_at_once_naming_the_limit(client, tree, settings):
    """144 KB holding a million rows: refused in the upload request, in milliseconds and a few MB, on the
    upload page in Chinese, naming the compression ratio; no job, nothing stored, nothing written."""
    data = _BOMB()
    assert len(data) < 200_000
    client.force_login(User.objects.get(username="shequ"))
    before = counts()
    response, seconds, peak = _measured(lambda: post_upload(client, tree, data))
    assert response.status_code == 400
    assert seconds < 5 and peak < 20 * 2**20, (seconds, peak)
    page = response.content.decode()
    with translation.override("zh-hans"):
        assert translation.gettext("Upload and import") in page  # the upload page, in Chinese
    assert "压缩比" in page and f"上限 {settings.IMPORT_MAX_RATIO:g}" in page, page
    assert not ImportJob.objects.exists() and stored_files(settings) == [] and counts() == before


def test_import_bomb_under_the_ratio_is_refused_by_the_row_count(client, tree, settings):
    """With the ratio limit lifted, the same bomb breaks the row limit: the count streams the sheet and
    stops at the limit, so it still takes a moment and a few MB."""
    settings.IMPORT_MAX_RATIO = 10**6
    client.force_login(User.objects.get(username="shequ"))
    response, seconds, peak = _measured(lambda: post_upload(client, tree, _BOMB()))
    assert response.status_code == 400
    assert seconds < 10 and peak < 30 * 2**20, (seconds, peak)
    assert f"超过 {settings.IMPORT_MAX_ROWS} 行" in response.content.decode()
    assert not ImportJob.objects.exists() and stored_files(settings) == []


@pytest.mark.parametrize("limit, value, data, expected", [
    ("IMPORT_MAX_BYTES", 4000, lambda: workbook(family()), "文件大小"),
    ("IMPORT_MAX_UNCOMPRESSED_BYTES", 20_000, lambda: workbook(family()), "解压后"),
    ("IMPORT_MAX_ROWS", 2, lambda: workbook(family()), "超过 2 行"),
    ("IMPORT_MAX_COLUMNS", 27, lambda: bomb(1, b'<row r="2"><c r="AB2"><v>1</v></c></row>'), "超过 27 列"),
])
def test_file_over_a_limit_is_refused_naming_it(client, tree, settings, limit, value, data, expected):
    setattr(settings, limit, value)
    client.force_login(User.objects.get(username="shequ"))
    response = post_upload(client, tree, data())
    assert response.status_code == 400 and expected in response.content.decode()
    assert not ImportJob.objects.exists() and stored_files(settings) == []


def test_limits_are_checked_again_by_the_worker(tree, settings):
    """A file queued under higher limits is refused by the worker before parsing, and its upload removed."""
    job = imports.import_start(by=tree.users[Role.COMMUNITY_STAFF], node=tree.comm_a,
                               upload=upload(workbook(family())), mode="all", language="en")
    settings.IMPORT_MAX_ROWS = 2
    assert import_registry.call(job.pk) == "failed"
    job.refresh_from_db()
    assert "more than 2 data rows" in job.message and "Nothing was written" in job.message
    assert not job.file and stored_files(settings) == []


def _sheet_rows(xml_rows: bytes, max_rows=10**6, max_columns=60):
    limits = excel.Limits(max_bytes=2**30, max_uncompressed=2**30, max_ratio=10**9, max_rows=max_rows,
                          max_columns=max_columns)
    return excel.inspect(io.BytesIO(bomb(1, xml_rows)), limits).rows - 1  # less the header


def test_row_count_reads_every_way_of_writing_a_row():
    """``<row>`` and ``<row ...>``, self-closing, namespace prefixes, single quotes, pieces of the stream;
    not <rowBreaks>."""
    assert _sheet_rows(b"<row></row><row/><row r='3'></row><row\n r=\"4\"><c r=\"A4\"><v>1</v></c></row>") == 4
    assert _sheet_rows(b'<x:row><x:c><x:v>1</x:v></x:c></x:row><rowBreaks count="1"/>') == 1
    many = b'<row><c t="inlineStr"><is><t>' + "很长的地址".encode() * 40 + b"</t></is></c></row>"
    assert _sheet_rows(many * 20_000) == 20_000  # 12 MB unpacked: many 1 MB pieces, rows cut across them


@pytest.mark.parametrize("xml_rows, limit", [
    (b'<row r="2000000"><c><v>1</v></c></row>', "rows"),  # a far row, its cell placed by counting
    (b'<row><c r="A2000000"><v>1</v></c></row>', "rows"),  # a far cell, which the reader lays out as a grid
    (b"<row><c r='XFD2'><v>1</v></c></row>", "columns"),
    (b'<row><c note=">" r="XFD2"><v>1</v></c></row>', "columns"),  # ">" inside a value hides no reference
    (b"<row>" + b"<c><v>1</v></c>" * 61 + b"</row>", "columns"),  # cells without references count on
    (b'<row><c pad="' + b"x" * 200_000 + b'" r="XFD2"><v>1</v></c></row>', "columns"),  # a tag over pieces
    (b"<row></row>" * 1001, "rows"),
])
def test_far_or_many_rows_and_columns_are_refused(xml_rows, limit):
    with pytest.raises(excel.LimitError) as refused:
        _sheet_rows(xml_rows, max_rows=1000)
    assert refused.value.limit == limit


def test_part_longer_than_the_zip_directory_says_is_refused():
    """The directory's sizes are the sender's word: a part that unpacks to more is damaged, not trusted."""
    data = bytearray(bomb(10_000))
    name = b"xl/worksheets/sheet1.xml"
    # The unpacked size in the part's local header and in the central directory, where the name follows.
    for at, size_at in ((data.find(name) - 30, 22), (data.rfind(name) - 46, 24)):
        assert data[at:at + 2] == b"PK"
        data[at + size_at:at + size_at + 4] = (1000).to_bytes(4, "little")
    limits = excel.Limits(max_bytes=2**30, max_uncompressed=2**30, max_ratio=10**9, max_rows=10**6, max_columns=60)
    with pytest.raises(excel.SheetError) as refused, translation.override("en"):
        excel.inspect(io.BytesIO(bytes(data)), limits)
    assert "damaged" in str(refused.value)


# --- the upload is not kept; the error report is masked -------------------------------------------------


def test_upload_is_removed_when_the_job_ends(tree, settings, monkeypatch):
    staff = tree.users[Role.COMMUNITY_STAFF]
    done = run(staff, tree.comm_a, workbook(family()))
    assert done.status == "succeeded" and not done.file
    failed = run(staff, tree.comm_a, BROKEN["bad ID checksum"][0](tree))
    assert failed.status == "failed" and not failed.file and failed.error_report
    assert stored_files(settings) == [failed.error_report.name]  # the report is kept, no upload

    monkeypatch.setattr(Writer, "_heads", lambda *a, **k: 1 / 0)
    crashed = run(staff, tree.comm_a, workbook([cells(grid="第一网格", address="新地址7号", name="王七", id_number=make_id())]))
    assert crashed.status == "failed" and not crashed.file
    assert stored_files(settings) == [failed.error_report.name]


def test_clean_up_fails_stale_jobs_and_removes_leftover_uploads(tree, settings):
    """A worker that died leaves a job running and its upload stored: the hourly clean-up ends both."""
    import datetime as dt

    from django.utils import timezone

    from gongzhi.core import scheduler

    staff = tree.users[Role.COMMUNITY_STAFF]
    stale = imports.import_start(by=staff, node=tree.comm_a, upload=upload(workbook(family())), mode="all", language="en")
    fresh = imports.import_start(by=staff, node=tree.comm_a, upload=upload(workbook(family())), mode="all", language="en")
    now = timezone.now()
    ImportJob.objects.filter(pk=stale.pk).update(status="running", created_at=now - dt.timedelta(hours=25))
    stray = Path(settings.MEDIA_ROOT) / "imports" / "2020" / "01" / "registry-stray.xlsx"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"PK\x03\x04 full ID numbers")
    os.utime(stray, (now.timestamp() - 26 * 3600,) * 2)
    assert "import_cleanup" in scheduler.tick(now)

    result = imports.import_cleanup(now=now)
    assert result == {"abandoned": 1, "uploads_removed": 1, "orphans_removed": 1}
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "failed" and "did not finish" in stale.message and not stale.file
    assert fresh.status == "queued" and fresh.file and stored_files(settings) == [fresh.file.name]
    assert imports.import_cleanup(now=now) == {"abandoned": 0, "uploads_removed": 0, "orphans_removed": 0}
    assert import_registry.call(stale.pk) == "failed"  # a late worker leaves it alone


def test_error_report_masks_id_numbers_and_phones(tree):
    """The report keeps the rows that failed, but no full ID number or phone: masked as core.pii masks them."""
    number, phone = make_id("19700101"), "13712345678"
    row = cells(grid="第一网格", address="新地址1号", name="王五", id_number=number, phone=phone, relation="叔叔")
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, workbook([row]))
    assert job.status == "failed"
    header, reported = report_rows(job)[:2]
    values = dict(zip(header, reported))
    assert values["身份证号"] == mask_id_number(number) and values["联系电话"] == mask_phone(phone)
    assert "叔叔" in values["错误原因"] and values["姓名"] == "王五"
    with job.error_report.open("rb") as fh, zipfile.ZipFile(fh) as book:
        text = b"".join(book.read(name) for name in book.namelist())
    assert number.encode() not in text and phone.encode() not in text


# --- 记录编号: rows about registered residents ------------------------------------------------------------


def test_record_number_outside_scope_reads_as_missing(tree):
    """A grid worker naming a resident of another town by 记录编号 is refused exactly like a number
    that does not exist; nobody is touched."""
    worker = tree.users[Role.GRID_WORKER]
    outsider = tree.resident_b
    missing = Resident.objects.order_by("-pk").first().pk + 100
    rows = [cells(grid="第一网格", address=tree.household_a.address, name="改名", id_number=outsider.id_number_masked,
                  record=record) for record in (outsider.pk, missing)]
    rows[1][[c.key for c in imports.COLUMNS].index("address")] = "新地址1号"
    before = counts()
    job = run(worker, tree.grid_a1, workbook(rows), mode="valid")
    reasons = [r[-1] for r in report_rows(job)[1:]]
    with translation.override("en"):
        message = translation.gettext("There is no resident with 记录编号 %(record)s in your area.")
    assert reasons == [message % {"record": outsider.pk}, message % {"record": missing}]
    assert counts() == before
    outsider.refresh_from_db()
    assert outsider.name == "王小明"


def test_record_number_with_a_full_id_number_replaces_it(tree):
    """A typo in a registered ID number is corrected through the row's 记录编号; the ID number is then
    someone else's: refused."""
    staff = tree.users[Role.COMMUNITY_STAFF]
    li = tree.resident_a2
    before, corrected = li.reveal_id_number(), make_id("19900102", male=False)
    base = dict(grid="第二网格", address=tree.household_a2.address, name="李秀英", phone="13900002222", record=li.pk)
    job = run(staff, tree.comm_a, workbook([cells(id_number=corrected, **base)]))
    assert (job.status, job.updated) == ("succeeded", 1), job.message
    li.refresh_from_db()
    assert li.reveal_id_number() == corrected and str(li.birth_date) == "1990-01-02"
    event = AuditEvent.objects.get(action="resident.update", object_id=str(li.pk))
    assert event.changes["id_number"] == [mask_id_number(before), mask_id_number(corrected)]
    taken = run(staff, tree.comm_a, workbook([cells(id_number=tree.resident_a.reveal_id_number(), **base)]))
    assert taken.status == "failed" and report_rows(taken)[1][-1] == "A resident with this ID number is already registered."


def test_masked_cells_must_match_the_record(tree):
    staff = tree.users[Role.COMMUNITY_STAFF]
    li = tree.resident_a2
    base = dict(grid="第二网格", address=tree.household_a2.address, name="李秀英", record=li.pk)
    wrong_id = run(staff, tree.comm_a, workbook([cells(id_number="1111**********2222", phone=li.phone_masked, **base)]))
    assert wrong_id.status == "failed" and "masked ID number does not match" in report_rows(wrong_id)[1][-1]
    wrong_phone = run(staff, tree.comm_a, workbook([cells(id_number=li.id_number_masked, phone="137****0000", **base)]))
    assert wrong_phone.status == "failed" and "masked phone number does not match" in report_rows(wrong_phone)[1][-1]
    twice = run(staff, tree.comm_a, workbook([cells(id_number=li.id_number_masked, **base),
                                              cells(id_number=li.reveal_id_number(), **{**base, "record": ""})]))
    assert twice.status == "failed" and [r[-1] for r in report_rows(twice)[1:]] == [
        "This person is also in row 3.", "This person is also in row 2."]
