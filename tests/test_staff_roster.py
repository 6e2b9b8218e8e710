"""The staff roster in Excel (issue 12, section 1): the import checked in the worker row by row, all or nothing,
with the escalation rules per row; activation codes for the imported accounts; the export of a node's roster; a
roster of 2,000 rows."""

import io
import time

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.accounts import roster
from gongzhi.accounts.models import ActivationCode, RoleAssignment, User
from gongzhi.accounts.tasks import import_roster
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent, ImportJob
from gongzhi.orgs import actions as orgs_actions
from gongzhi.core.access import SYSTEM
from gongzhi.orgs.models import NodeKind


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def workbook(rows, header=None) -> bytes:
    """The template with ``rows`` (name, phone, role, node, unit) in the 人员 sheet."""
    book = openpyxl.load_workbook(io.BytesIO(roster.template_bytes()))
    ws = book[roster.SHEET]
    if header is not None:
        for i, label in enumerate(header, start=1):
            ws.cell(row=1, column=i, value=label)
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, name="人员.xlsx"):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def run(by, node, data) -> ImportJob:
    job = roster.import_start(by=by, node=node, upload=upload(data), language="zh-hans")
    return roster.run_import(job.pk)


def counts():
    return User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count()


GOOD = [
    ("刘网格", "13900000001", "网格员", "城东社区/第二网格", ""),
    ("刘网格", "13900000001", "楼栋长", "第一网格/第一微网格", ""),  # a second role of the same person
    ("陈书记", "13900000002", "党支部书记", "城东社区", ""),
    ("王楼长", "13900000003", "building_steward", "富林镇/城东社区/第一网格", ""),
]


def test_a_good_roster_makes_accounts_without_passwords_and_codes_activate_them(client, tree):
    shequ = tree.users[Role.COMMUNITY_STAFF]
    job = run(shequ, tree.comm_a, workbook(GOOD))
    assert (job.status, job.created, job.errors) == ("succeeded", 3, 0), job.message
    liu = User.objects.get(username="13900000001")
    assert liu.display_name == "刘网格" and not liu.has_usable_password() and liu.import_job == job
    assert {(a.role, a.node) for a in liu.role_assignments.all()} == {
        (Role.GRID_WORKER, tree.grid_a2), (Role.BUILDING_STEWARD, tree.micro_a1)}
    assert AuditEvent.objects.filter(action="user.create", actor=shequ).count() == 3
    assert AuditEvent.objects.filter(action="role.assign", actor=shequ).count() == 4
    assert not job.file  # the upload is gone once the job is over

    client.force_login(shequ)
    page = client.get(reverse("accounts:roster_job", args=[job.pk])).content.decode()
    assert 'data-figure="created">3<' in page and 'data-test="codes"' in page
    sheet = client.post(reverse("accounts:roster_codes", args=[job.pk]))
    assert sheet.status_code == 200 and sheet["Cache-Control"] == "no-store"
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content))["激活码"].iter_rows(values_only=True))
    assert rows[0][:4] == ("姓名", "登录名（手机号）", "角色", "激活码")
    codes = {r[1]: r[3] for r in rows[1:]}
    assert set(codes) == {"13900000001", "13900000002", "13900000003"}
    assert "网格员 · 汉源县/富林镇/城东社区/第二网格" in next(r[2] for r in rows[1:] if r[1] == "13900000001")
    assert not ActivationCode.objects.filter(code_hash__in=list(codes.values())).exists()  # only hashes stored
    client.logout()
    done = client.post(reverse("accounts:activate"), {"username": "13900000001", "code": codes["13900000001"],
                                                     "new_password1": "Wangge-2025-qiu",
                                                     "new_password2": "Wangge-2025-qiu"})
    assert done.status_code == 302
    client.force_login(shequ)
    again = client.post(reverse("accounts:roster_codes", args=[job.pk]))
    rows = list(openpyxl.load_workbook(io.BytesIO(again.content))["激活码"].iter_rows(values_only=True))
    assert {r[1] for r in rows[1:]} == {"13900000002", "13900000003"}  # the activated one is left out
    # Someone else's import is not theirs to see, nor its codes to print.
    client.force_login(tree.users[Role.SUBDISTRICT_STAFF])
    assert client.get(reverse("accounts:roster_job", args=[job.pk])).status_code == 404
    assert client.post(reverse("accounts:roster_codes", args=[job.pk])).status_code == 404


BAD = [
    (("刘网格", "13900000001", "网格员", "文明社区/第一网格", ""), "没有“文明社区/第一网格”"),  # another town
    (("刘网格", "13900000001", "网格长", "城东社区/第二网格", ""), "未知角色“网格长”"),
    (("刘网格", "13900000001", "县级管理员", "城东社区", ""), "权限超过"),  # above the importer
    (("刘网格", "13900000001", "街道工作人员", "城东社区", ""), "权限超过"),
    (("刘网格", "13900000001", "网格员", "城东社区", ""), "只能设在"),  # a grid worker at a community
    (("刘网格", "wangge", "网格员", "城东社区/第二网格", ""), "11 位手机号"),
    (("刘网格", "13800001111", "网格员", "城东社区/第二网格", ""), "已被其他账号使用"),
    (("", "13900000001", "网格员", "城东社区/第二网格", ""), "姓名不能为空"),
    (("刘网格", "13900000001", "部门办理人", "城东社区", "县住建局"), "没有单位“县住建局”"),  # the county's unit
    (("刘网格", "13900000001", "居民", "城东社区/第二网格", ""), "不通过人员名册"),
]


@pytest.mark.parametrize("row, problem", BAD)
def test_one_bad_row_writes_nothing_and_is_reported(tree, row, problem):
    make_user = User.objects.create_user
    make_user(username="13800001111", password="x")
    before = counts()
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, workbook([*GOOD[2:], row]))
    assert job.status == "failed" and job.errors == 1 and job.created == 0
    assert counts() == before
    report = list(openpyxl.load_workbook(job.error_report.open("rb")).active.iter_rows(values_only=True))
    assert report[0][-2:] == ("行号", "错误原因")
    (line,) = report[1:]
    assert line[-2] == 4 and problem in line[-1], line[-1]
    if row[1].isdigit() and len(row[1]) == 11:
        assert line[1] == row[1][:3] + "****" + row[1][-4:]  # phones masked in the kept report


def test_rows_disagreeing_with_each_other_are_reported(tree):
    rows = [("刘网格", "13900000001", "网格员", "城东社区/第二网格", ""),
            ("刘德华", "13900000001", "楼栋长", "城东社区/第二网格", ""),
            ("刘网格", "13900000001", "网格员", "城东社区/第二网格", "")]
    job = run(tree.users[Role.COMMUNITY_STAFF], tree.comm_a, workbook(rows))
    assert job.status == "failed" and job.errors == 2


def test_the_county_imports_unit_roles_and_ambiguous_names_are_refused(tree):
    admin = tree.users[Role.COUNTY_ADMIN]
    rows = [("住建局李", "13900000011", "部门办理人", "汉源县", "县住建局"),
            ("电力张", "13900000012", "共建单位联系人", "城东社区", "县供电公司")]
    job = run(admin, tree.county, workbook(rows))
    assert job.status == "succeeded", job.message
    assert User.objects.get(username="13900000011").role_assignments.get().unit == tree.department
    ambiguous = run(admin, tree.county, workbook([("王", "13900000013", "网格员", "第一网格", "")]))
    assert ambiguous.status == "failed"
    assert "不唯一" in list(openpyxl.load_workbook(ambiguous.error_report.open("rb")).active.iter_rows(
        values_only=True))[1][-1]


def test_broken_files_fail_with_their_reason(tree):
    shequ = tree.users[Role.COMMUNITY_STAFF]
    job = run(shequ, tree.comm_a, workbook([("刘", "13900000001", "网格员", "第二网格", "")], header=["名字"]))
    assert job.status == "failed" and "缺少列" in job.message and "未写入" in job.message, job.message
    job = run(shequ, tree.comm_a, workbook([]))
    assert job.status == "failed" and "没有数据行" in job.message
    jobs = ImportJob.objects.count()
    with pytest.raises(ValidationError):
        roster.import_start(by=shequ, node=tree.comm_a, upload=upload(b"not a workbook"))
    assert ImportJob.objects.count() == jobs  # nothing stored


def test_a_grid_worker_may_not_import(client, tree):
    client.force_login(tree.users[Role.GRID_WORKER])
    response = client.post(reverse("accounts:roster_upload"),
                           {"node": tree.grid_a1.pk, "file": upload(workbook(GOOD))})
    assert response.status_code == 403
    assert not ImportJob.objects.filter(kind="staff").exists()


def test_upload_page_queues_the_job_for_the_worker(client, tree, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    assert client.get(reverse("accounts:roster")).status_code == 200
    template = client.get(reverse("accounts:roster_template"))
    assert template.status_code == 200 and roster.SHEET in openpyxl.load_workbook(io.BytesIO(template.content)).sheetnames
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:roster_upload"),
                               {"node": tree.comm_a.pk, "file": upload(workbook(GOOD))})
    job = ImportJob.objects.get(kind="staff")
    assert response.status_code == 302 and response.url == reverse("accounts:roster_job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert import_roster.call(job.pk) == "succeeded"  # a second run leaves a finished job alone
    assert User.objects.filter(import_job=job).count() == 3
    # A node outside the importer's area answers like a missing one.
    outside = client.post(reverse("accounts:roster_upload"), {"node": tree.comm_b.pk, "file": upload(workbook(GOOD))})
    assert outside.status_code == 400  # not among the choices offered


def test_export_of_a_node(client, tree):
    shequ = tree.users[Role.COMMUNITY_STAFF]
    client.force_login(shequ)
    response = client.post(reverse("accounts:roster_export"), {"node": tree.comm_a.pk})
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content))[roster.SHEET].iter_rows(values_only=True))
    assert rows[0] == ("姓名", "手机号", "角色", "所在组织", "单位", "账号状态")
    names = {r[1] for r in rows[1:]}
    assert names == {"shequ", "wangge", "louzhang", "shuji"}  # residents and the county's handlers left out
    assert AuditEvent.objects.filter(action="user.roster_export", actor=shequ).exists()
    assert client.post(reverse("accounts:roster_export"), {"node": tree.comm_b.pk}).status_code == 400
    client.force_login(tree.users[Role.GRID_WORKER])
    assert client.post(reverse("accounts:roster_export"), {"node": tree.grid_a1.pk}).status_code == 403


def test_a_roster_of_2000_rows(tree, capsys):
    """Two thousand staff of a county (a grid worker for each of 400 grids and 1,600 stewards and secretaries),
    checked and written in one job; the time is printed for the report."""
    admin = tree.users[Role.COUNTY_ADMIN]
    grids = []
    for c in range(20):
        community = orgs_actions.orgnode_create(parent=tree.town_a, name=f"社区{c:02d}", kind=NodeKind.COMMUNITY,
                                                by=SYSTEM)
        for g in range(20):
            grids.append(orgs_actions.orgnode_create(parent=community, name=f"网格{g:02d}", kind=NodeKind.GRID,
                                                     code=f"G{c:02d}{g:02d}", by=SYSTEM))
    roles = ["网格员", "楼栋长", "楼栋长", "党支部书记", "楼栋长"]
    rows = [(f"人员{i:04d}", f"139{i:08d}", roles[i % 5], grids[i % 400].code if i % 2 else
             f"富林镇/社区{(i % 400) // 20:02d}/网格{i % 20:02d}", "") for i in range(2000)]
    data = workbook(rows)
    before = counts()
    start = time.perf_counter()
    job = run(admin, tree.county, data)
    seconds = time.perf_counter() - start
    assert (job.status, job.created, job.errors) == ("succeeded", 2000, 0), job.message
    assert counts()[0] == before[0] + 2000 and counts()[1] == before[1] + 2000
    codes_start = time.perf_counter()
    sheet, count = roster.activation_sheet(job=job, by=admin, activate_url="https://example.org/accounts/activate/")
    codes_seconds = time.perf_counter() - codes_start
    assert count == 2000 and ActivationCode.objects.count() == 2000
    with capsys.disabled():
        print(f"\nroster import of 2000 rows: {seconds:.2f}s; activation sheet of 2000 codes: {codes_seconds:.2f}s")
    assert seconds < 60
