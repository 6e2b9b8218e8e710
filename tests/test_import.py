"""Registry import: template round trip, upserts that change nothing twice, broken files, scope, background jobs."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from gongzhi.core.access import Role
from gongzhi.accounts.models import User
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent, ImportJob
from gongzhi.orgs import imports
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


def run(user, node, data: bytes, mode="all", name="居民.xlsx") -> ImportJob:
    return imports.import_start(by=user, node=node, upload=upload(data, name), mode=mode, language="en")


def counts():
    return (Resident.objects.count(), Household.objects.count(), AuditEvent.objects.count(), CareTag.objects.count(),
            Entrance.objects.count())


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
    "text file": (lambda t: "网格编码,地址\n第一网格,x\n".encode(), ["not an Excel workbook"]),
    "corrupt zip renamed xlsx": (lambda t: workbook(family())[:600], ["not an Excel workbook"]),
    "zero bytes": (lambda t: b"", ["The file is empty"]),
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
    job = imports.import_start(by=tree.users[Role.COMMUNITY_STAFF], node=tree.comm_a, upload=upload(data), mode="all",
                               language="zh-hans")
    with translation.override("zh-hans"):
        expected = translation.gettext("The ID number's check digit is wrong (GB 11643).")
    assert report_rows(job)[1][-1] == expected


def test_masked_id_number_is_refused_with_a_reason(tree):
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a,
              workbook([cells(grid="第一网格", address="新地址1号", name="王五", id_number="5118**********1234")]))
    assert job.status == "failed" and "masked" in report_rows(job)[1][-1]


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


def test_big_file_runs_as_a_background_task(client, tree, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.IMPORT_BACKGROUND_ROWS = 3
    staff = tree.users[Role.COMMUNITY_STAFF]
    rows = family() + [cells(grid="第二网格", address="城东社区二组12号", name="王五", id_number=_bad_id())]
    with django_capture_on_commit_callbacks(execute=True):
        job = run(staff, tree.comm_a, workbook(rows), mode="valid")
    assert job.status == "queued" and job.rows_total == 4
    task = DBTaskResult.objects.get()  # enqueued for the database worker once the job row was committed
    assert task.task_path == "gongzhi.orgs.tasks.import_registry" and task.args_kwargs["args"] == [job.pk]
    assert not Resident.objects.filter(name="刘德华").exists()

    client.force_login(User.objects.get(username="shequ"))
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
    settings.IMPORT_BACKGROUND_ROWS = 1
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, workbook(family()))
    job.refresh_from_db()
    assert (job.status, job.created, job.households_created) == ("succeeded", 3, 1)


def test_unexpected_error_fails_the_job_and_rolls_back(tree, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports._Writer, "_heads", boom)
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
