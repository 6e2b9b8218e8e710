"""The staff roster in Excel: the import template, the import (upload, checked and applied in the task worker,
row by row, all or nothing, like the registry import), the activation-code sheet of an import, and the export
of a node's roster.

Imported accounts get no usable password (hashing two thousand passwords with PBKDF2 takes minutes): each
person activates their account with a one-time code from the sheet their administrator downloads from the
import's page (``actions.activation_codes``), choosing their own password on the activation page.
"""

from __future__ import annotations

import io
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from gongzhi.core import audit, excel
from gongzhi.core.access import Role
from gongzhi.core.jobs import run_claimed, upload_source
from gongzhi.core.models import ImportJob
from gongzhi.core.pii import mask_phone
from gongzhi.core.scoping import under
from gongzhi.core.text import TextError, clean_line
from gongzhi.orgs.imports import upload_limits
from gongzhi.orgs.models import OrgNode, Unit

from . import policies, selectors
from .actions.users import mobile_number
from .models import RoleAssignment, User

log = logging.getLogger(__name__)

KIND = "staff"
SHEET = "人员"
HELP_SHEET = "说明"
LISTS_SHEET = "选项"
CODES_SHEET = "激活码"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what users type in Excel: literal Chinese, a data format
    required: bool
    help: object
    width: int = 14


COLUMNS = [
    Column("name", "姓名", True, gettext_lazy("The person's name as the pages show it."), 10),
    Column("phone", "手机号", True, gettext_lazy(
        "11-digit mobile number: the person's login name, used by no other account."), 15),
    Column("role", "角色", True, gettext_lazy("One of the roles in the list, e.g. 网格员."), 14),
    Column("node", "所在组织", True, gettext_lazy(
        "Where the role is held: the node's code, or its name path such as 富林镇/城东社区/第一网格 (the last "
        "parts are enough when they name one node in your area)."), 30),
    Column("unit", "单位", False, gettext_lazy(
        "For a department handler or partner-unit contact: the unit's name, e.g. 县住建局. Empty otherwise."), 18),
]
HEADERS = {c.key: c.header for c in COLUMNS}
REQUIRED = [c.header for c in COLUMNS if c.required]
STATUS_HEADER = "账号状态"  # written by the export, ignored by the import
IGNORED = [STATUS_HEADER, excel.ROW_HEADER, excel.REASON_HEADER]
_PATH_SPLIT = re.compile(r"\s*[/／\\>＞]\s*")


def role_labels() -> dict[str, str]:
    """Each role as the sheet names it: its Chinese label (the data is Chinese whatever the page language)."""
    with translation.override("zh-hans"):
        return {role: str(Role(role).label) for role in Role.values}


def _role_in() -> dict[str, str]:
    found = {label: role for role, label in role_labels().items()}
    with translation.override("en"):
        found.update({str(Role(r).label).lower(): r for r in Role.values})
    found.update({r: r for r in Role.values})
    # The other words counties use for the same posts.
    found.update({"街道工作人员": Role.SUBDISTRICT_STAFF, "乡镇工作人员": Role.SUBDISTRICT_STAFF,
                  "社区工作人员": Role.COMMUNITY_STAFF, "专职网格员": Role.GRID_WORKER, "楼长": Role.BUILDING_STEWARD,
                  "支部书记": Role.PARTY_SECRETARY, "部门办理人": Role.DEPARTMENT_HANDLER,
                  "部门承办人": Role.DEPARTMENT_HANDLER, "共建单位联系人": Role.PARTNER_CONTACT,
                  "包保单位联络人": Role.PARTNER_CONTACT})
    return found


def template_bytes() -> bytes:
    from openpyxl.worksheet.datavalidation import DataValidation

    book = excel.workbook()
    ws = book.active
    ws.title = SHEET
    ws.append([c.header for c in COLUMNS])
    excel.style_header(ws, [c.width for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        if column.key in ("phone", "node"):
            ws.column_dimensions[ws.cell(row=1, column=index).column_letter].number_format = "@"
    lists = book.create_sheet(LISTS_SHEET)
    labels = [label for role, label in role_labels().items() if role != Role.RESIDENT]
    lists.cell(row=1, column=1, value=HEADERS["role"])
    for row, label in enumerate(labels, start=2):
        lists.cell(row=row, column=1, value=label)
    dv = DataValidation(type="list", formula1=f"'{LISTS_SHEET}'!$A$2:$A${len(labels) + 1}", allow_blank=True)
    dv.showErrorMessage, dv.error = True, _("Choose a value from the list.")
    ws.add_data_validation(dv)
    dv.add("C2:C20000")
    lists.sheet_state = "hidden"
    help_ws = book.create_sheet(HELP_SHEET)
    help_ws.append([_("Column"), _("Required"), _("What to enter")])
    for c in COLUMNS:
        help_ws.append([c.header, "是" if c.required else "否", str(c.help)])
    help_ws.append([])
    for line in (
        _("One row per role: a person with two roles has two rows with the same phone and name."),
        _("Nothing is written unless every row is right; the error report lists what to correct."),
        _("Imported accounts have no password yet: after the import, download the activation codes and hand each "
          "person theirs; they choose their password on the activation page."),
        _("Roles: %(values)s.") % {"values": "、".join(labels)},
    ):
        help_ws.append(["", "", line])
    excel.style_header(help_ws, [14, 8, 100])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- starting a job ---------------------------------------------------------------------------------------


def check_file(source) -> excel.Inspection:
    try:
        return excel.inspect(source, upload_limits(), sheet_name=SHEET)
    except excel.LimitError as exc:
        raise ValidationError(str(exc), code=exc.limit) from None
    except excel.SheetError as exc:
        raise ValidationError(str(exc), code="file") from None


def import_start(*, by, node: OrgNode, upload, language: str = "") -> ImportJob:
    """Check the upload against the limits, store it as a job limited to ``node`` and queue it for the worker."""
    if not policies.can_manage_users(by) or not (by.is_superuser or by.can(policies.Perm.USERS_MANAGE, node.path)):
        raise PermissionDenied(_("You may only give roles at places inside your own area."))
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    source = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else upload
    with translation.override(language):
        inspection = check_file(source)
    if hasattr(upload, "seek"):
        upload.seek(0)
    from .tasks import import_roster

    job = ImportJob(kind=KIND, created_by=by, node=node, org_path=node.path, mode=ImportJob.Mode.ALL_OR_NOTHING,
                    original_name=(getattr(upload, "name", "") or "")[:200], language=language,
                    rows_total=max(0, inspection.rows - 1))
    try:
        with transaction.atomic():
            job.file.save("upload.xlsx", upload, save=False)
            job.save()
            transaction.on_commit(lambda: import_roster.enqueue(job.pk))
    except BaseException:
        if job.file:
            job.file.storage.delete(job.file.name)
        raise
    return job


def jobs(user):
    """Roster imports the user may see: their own (a superuser: all)."""
    if user is None or not user.is_authenticated:
        return ImportJob.objects.none()
    qs = ImportJob.objects.filter(kind=KIND).select_related("created_by", "node")
    return qs if user.is_superuser else qs.filter(created_by=user)


def job_get(user, pk) -> ImportJob:
    from django.http import Http404

    try:
        return jobs(user).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None


# --- the run on the worker ---------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    cells: list[str]
    errors: list[str] = field(default_factory=list)
    name: str = ""
    phone: str = ""
    role: str = ""
    node: OrgNode | None = None
    unit: Unit | None = None
    positions: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class Places:
    """Nodes under the job's node where the importer manages users, by code and by name path (any tail of
    the path that names one node); units of the importer's area by name."""

    def __init__(self, user, root: OrgNode):
        step = OrgNode.steplen
        above = [root.path[:i] for i in range(step, len(root.path), step)]
        nodes = list(OrgNode.objects.filter(Q(path__in=above) | under(root.path, "path")).order_by("path"))
        by_path = {n.path: n for n in nodes}
        paths = policies.manage_paths(user)
        self.by_code: dict[str, list[OrgNode]] = defaultdict(list)
        self.by_names: dict[tuple[str, ...], list[OrgNode]] = defaultdict(list)
        for n in nodes:
            if not n.path.startswith(root.path):
                continue
            if not user.is_superuser and not any(n.path.startswith(p) for p in paths):
                continue
            names = tuple(by_path[n.path[:i]].name.strip() for i in range(step, len(n.path) + 1, step)
                          if n.path[:i] in by_path)
            n.label = "/".join(names)
            if n.code.strip():
                self.by_code[n.code.strip()].append(n)
            for start in range(len(names)):
                self.by_names[names[start:]].append(n)
        self.units = {u.name: u for u in selectors.manage_units(user)}

    def node(self, text: str) -> OrgNode:
        key = tuple(p for p in _PATH_SPLIT.split(text.strip()) if p)
        found = self.by_code.get(text.strip()) or self.by_names.get(key) or []
        if len(found) == 1:
            return found[0]
        if found:
            raise ValidationError(_("The place “%(node)s” is ambiguous in your area; give more of its path, e.g. "
                                    "%(example)s.") % {"node": text, "example": found[0].label})
        raise ValidationError(_("There is no place “%(node)s” in your area.") % {"node": text})


def _cell(cells, positions, key) -> str:
    index = positions.get(HEADERS[key])
    return cells[index].strip() if index is not None and index < len(cells) else ""


def check_rows(rows: list[Row], user, places: Places) -> None:
    """Each row on its own (fields, role, place, unit, and whether the importer may give that role there),
    then across rows and with the accounts already there (a phone used)."""
    roles = _role_in()
    refusals: dict[tuple, str | None] = {}
    for row in rows:
        cells = row.cells
        positions = row.positions
        try:
            row.name = clean_line(_cell(cells, positions, "name"))[:50]
        except (TextError, ValueError) as exc:
            row.errors.append(str(exc))
        else:
            if not row.name:
                row.errors.append(_("The name is empty."))
        try:
            row.phone = mobile_number(_cell(cells, positions, "phone"))
        except ValidationError as exc:
            row.errors.extend(exc.messages)
        text = _cell(cells, positions, "role")
        row.role = roles.get(text) or roles.get(text.lower(), "")
        if not row.role:
            row.errors.append(_("Unknown role “%(role)s”; use one of the list.") % {"role": text})
        elif row.role == Role.RESIDENT:
            row.errors.append(_("Residents join by themselves or through their grid worker, not in the staff roster."))
            row.role = ""
        text = _cell(cells, positions, "node")
        if not text:
            row.errors.append(_("Say where the role is held (所在组织)."))
        else:
            try:
                row.node = places.node(text)
            except ValidationError as exc:
                row.errors.extend(exc.messages)
        text = _cell(cells, positions, "unit")
        if text:
            row.unit = places.units.get(text)
            if row.unit is None:
                row.errors.append(_("There is no unit “%(unit)s” in your area.") % {"unit": text})
        if row.role and row.node is not None and (row.unit is not None or not text):
            key = (row.role, row.node.pk, row.unit.pk if row.unit else None)
            if key not in refusals:
                problem = policies.assign_refusal(user, row.role, row.node, row.unit)
                refusals[key] = problem[1] if problem else None
            if refusals[key]:
                row.errors.append(refusals[key])
    # Across rows: one person (phone) has one name; the same role at the same place once.
    first: dict[str, Row] = {}
    seen: set[tuple] = set()
    for row in rows:
        if not row.phone:
            continue
        earlier = first.setdefault(row.phone, row)
        if earlier is not row and earlier.name != row.name:
            row.errors.append(_("Row %(row)s gives this phone to %(name)s.") % {"row": earlier.number,
                                                                                 "name": earlier.name})
        if row.node is not None and row.role:
            key = (row.phone, row.role, row.node.pk)
            if key in seen:
                row.errors.append(_("This role at this place is given twice for this person."))
            seen.add(key)
    used = set()
    phones = list(first)
    for i in range(0, len(phones), 500):
        used |= set(User.objects.filter(username__in=phones[i:i + 500]).values_list("username", flat=True))
    for row in rows:
        if row.phone in used:
            row.errors.append(_("The phone number %(phone)s is already used by an account.") % {"phone": row.phone})


def masked_cells(header: list[str], cells: list) -> list:
    index = {str(label).strip(): i for i, label in enumerate(header)}
    out = list(cells)
    i = index.get(HEADERS["phone"])
    if i is not None and i < len(out) and len(str(out[i])) >= 8:
        out[i] = mask_phone(str(out[i]))
    return out


def job_finish(job: ImportJob, status: str, message: str, rows=None, header=None, created: int = 0) -> None:
    failed = [r for r in rows or () if not r.ok]
    job.status, job.finished_at = status, timezone.now()
    job.errors = len(failed)
    if rows is not None:
        job.rows_total = job.rows_validated = len(rows)
    job.created = created
    job.rows_written = len(rows) if created and rows is not None else 0
    if failed:
        report = excel.error_report(header, ((r.number, masked_cells(header, r.cells), r.errors) for r in failed))
        job.error_report.save("errors.xlsx", ContentFile(report), save=False)
    if not message:
        if created:
            message = ngettext("Imported %(rows)s rows: %(people)s new account. Download the activation codes and "
                               "hand them out.",
                               "Imported %(rows)s rows: %(people)s new accounts. Download the activation codes and "
                               "hand them out.", created) % {"rows": len(rows), "people": created}
        else:
            message = _("%(errors)s of %(rows)s rows have errors, so nothing was written. Correct them (see the "
                        "error report) and upload the file again.") % {"errors": len(failed), "rows": len(rows or ())}
    job.message = message
    job.save()


def run_import(job_id: int) -> ImportJob:
    """What the task worker runs for a roster upload (``core.jobs.run_claimed``)."""
    return run_claimed(job_id, _run, lambda job, message: job_finish(job, ImportJob.Status.FAILED, message),
                       kind=KIND)


def _run(job: ImportJob) -> None:
    user = job.created_by
    if user is None or not user.is_active or job.node is None or not (
            user.is_superuser or user.can(policies.Perm.USERS_MANAGE, job.org_path)):
        job_finish(job, ImportJob.Status.FAILED, _("You may only give roles at places inside your own area."))
        return
    try:
        source = upload_source(job)
        check_file(source)
        sheet = excel.read_sheet(source, SHEET)
        positions = excel.header_columns(sheet.header, known=[*HEADERS.values(), *IGNORED], required=REQUIRED)
    except (excel.SheetError, ValidationError) as exc:
        text = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        nothing = _("Nothing was written.")
        job_finish(job, ImportJob.Status.FAILED, f"{text} {nothing}")
        return
    except FileNotFoundError:
        job_finish(job, ImportJob.Status.FAILED, _("The uploaded file is no longer there; upload it again."))
        return
    if not sheet.rows:
        job_finish(job, ImportJob.Status.FAILED, _("The file has no data rows. Nothing was written."))
        return
    rows = []
    for number, cells in sheet.rows:
        rows.append(Row(number, cells, positions=positions))
    check_rows(rows, user, Places(user, job.node))
    ImportJob.objects.filter(pk=job.pk).update(rows_total=len(rows), rows_validated=len(rows))
    if any(not r.ok for r in rows):
        job_finish(job, ImportJob.Status.FAILED, "", rows=rows, header=sheet.header)
        return
    try:
        with transaction.atomic():
            created = _write(job, user, rows)
            job_finish(job, ImportJob.Status.SUCCEEDED, "", rows=rows, header=sheet.header, created=created)
    except IntegrityError:  # a phone taken by another account meanwhile
        job.refresh_from_db()
        check_rows(rows, user, Places(user, job.node))
        job_finish(job, ImportJob.Status.FAILED, "", rows=rows, header=sheet.header)


def _write(job: ImportJob, by, rows: list[Row]) -> int:
    people: dict[str, User] = {}
    for row in rows:
        if row.phone not in people:
            # No usable password: the person chooses one with their activation code.
            people[row.phone] = User(username=row.phone, display_name=row.name, password=make_password(None),
                                     must_change_password=True, created_by=by, import_job=job)
    User.objects.bulk_create(list(people.values()), batch_size=500)
    if any(u.pk is None for u in people.values()):  # a database that does not return ids from a bulk insert
        ids = dict(User.objects.filter(import_job=job).values_list("username", "pk"))
        for u in people.values():
            u.pk = ids[u.username]
    assignments = [
        RoleAssignment(user=people[r.phone], role=r.role, node=r.node, org_path=r.node.path, unit=r.unit,
                       assigned_by=by)
        for r in rows
    ]
    RoleAssignment.objects.bulk_create(assignments, batch_size=500)
    audit.record_many(actor=by, action="user.create", subjects=[
        audit.Subject("accounts.user", str(u.pk), str(u), "") for u in people.values()
    ], changes={"import": job.pk})
    audit.record_many(actor=by, action="role.assign", subjects=[
        audit.Subject("accounts.roleassignment", str(a.pk or ""), f"{a.user} · {Role(a.role).label} · {a.node}",
                      a.org_path) for a in assignments
    ], changes={"import": job.pk})
    return len(people)


# --- activation codes and the export --------------------------------------------------------------------


def _path_names(paths: set[str]) -> dict[str, str]:
    step = OrgNode.steplen
    wanted = {p[:i] for p in paths for i in range(step, len(p) + 1, step)}
    names = dict(OrgNode.objects.filter(path__in=wanted).values_list("path", "name"))
    return {p: "/".join(names.get(p[:i], "") for i in range(step, len(p) + 1, step)) for p in paths}


def activation_sheet(*, job: ImportJob, by, activate_url: str) -> tuple[bytes, int]:
    """New activation codes for the accounts of ``job`` still waiting, as an xlsx to print and hand out: name,
    login name, roles, code, until when. Earlier sheets of theirs stop working."""
    from .actions.users import activation_codes

    people = list(User.objects.filter(import_job=job).order_by("id"))
    pairs = activation_codes(users=people, by=by, job=job)
    roles = defaultdict(list)
    held = RoleAssignment.objects.filter(user__in=[u for u, _raw in pairs], is_active=True).select_related("node")
    names = _path_names({a.org_path for a in held})
    labels = role_labels()
    for a in held:
        roles[a.user_id].append(f"{labels[a.role]} · {names[a.org_path]}")
    until = pairs and timezone.localtime(pairs[0][0].activation_codes.order_by("-id").first().expires_at)
    book = excel.workbook(write_only=True)
    ws = excel.write_only_sheet(book, CODES_SHEET, ["姓名", "登录名（手机号）", "角色", "激活码", "有效期至"],
                                widths=[10, 16, 40, 18, 18])
    for user, raw in pairs:
        ws.append([user.display_name, user.username, "；".join(roles[user.pk]), raw, f"{until:%Y-%m-%d %H:%M}"])
    help_ws = excel.write_only_sheet(book, HELP_SHEET, [_("How to activate")], widths=[100])
    for line in (
        _("Open %(url)s, enter the phone number and the activation code, and choose a password.") % {"url": activate_url},
        _("Each code works once, until the date in its row. Downloading the sheet again makes new codes; this "
          "sheet's codes then stop working."),
        _("Keep the sheet safe and destroy it once the codes are handed out."),
    ):
        help_ws.append([line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), len(pairs)


def export_bytes(*, by, node: OrgNode) -> tuple[bytes, int]:
    """The roster of ``node``: one row per active role of the accounts ``by`` manages there, in the import's
    columns (so the file can be edited and imported elsewhere) and the account's state. Audited."""
    if not (by.is_superuser or by.can(policies.Perm.USERS_MANAGE, node.path)):
        raise PermissionDenied(_("You may only see the staff of your own area."))
    held = (RoleAssignment.objects.filter(under(node.path), is_active=True, user__in=selectors.managed_users(by))
            .exclude(role=Role.RESIDENT).select_related("user", "unit").order_by("org_path", "user_id", "id"))
    held = list(held)
    names = _path_names({a.org_path for a in held})
    codes = dict(OrgNode.objects.filter(path__in={a.org_path for a in held}).values_list("path", "code"))
    labels = role_labels()
    book = excel.workbook(write_only=True)
    ws = excel.write_only_sheet(book, SHEET, [*(c.header for c in COLUMNS), STATUS_HEADER],
                                widths=[c.width for c in COLUMNS] + [12])
    for a in held:
        user = a.user
        state = "停用" if not user.is_active else ("待激活" if not user.has_usable_password() else "正常")
        ws.append([user.display_name, user.username, labels[a.role], codes.get(a.org_path) or names[a.org_path],
                   a.unit.name if a.unit else "", state])
    out = io.BytesIO()
    book.save(out)
    with transaction.atomic():
        audit.record(actor=by, action="user.roster_export", obj=node, org_path=node.path, changes={"rows": len(held)})
    return out.getvalue(), len(held)
