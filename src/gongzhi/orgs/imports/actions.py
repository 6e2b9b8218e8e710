"""The import job's writes: start one (the file checked against the limits, stored, queued for the task
worker), its progress and end (with an error report that masks personal data), the removal of the
uploaded file once the job is over, and the clean-up of jobs a stopped worker left behind."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.orgs.permissions import Perm
from gongzhi.core import excel
from gongzhi.core.jobs import upload_discard  # noqa: F401  (the clean-up below; re-exported)
from gongzhi.core.models import ImportJob
from gongzhi.core.pii import mask_id_number, mask_phone

from ..models import OrgNode
from . import selectors
from .columns import BIRTH_HEADER, HEADERS, SHEET

log = logging.getLogger(__name__)


def upload_limits() -> excel.Limits:
    """The limits an uploaded file is checked against (settings ``IMPORT_MAX_*``, docs/deploy.md)."""
    return excel.Limits(
        max_bytes=settings.IMPORT_MAX_BYTES, max_uncompressed=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
        max_ratio=settings.IMPORT_MAX_RATIO, max_rows=settings.IMPORT_MAX_ROWS, max_columns=settings.IMPORT_MAX_COLUMNS,
    )


def check_file(source) -> excel.Inspection:
    """``excel.inspect`` with the upload limits; ValidationError whose code names the limit broken (or
    ``file`` for a file that is not a readable workbook)."""
    try:
        return excel.inspect(source, upload_limits(), sheet_name=SHEET)
    except excel.LimitError as exc:
        raise ValidationError(str(exc), code=exc.limit) from None
    except excel.SheetError as exc:
        raise ValidationError(str(exc), code="file") from None


def _upload_source(upload):
    try:
        return upload.temporary_file_path()  # a big upload Django already wrote to disk
    except AttributeError:
        return upload.file if hasattr(upload, "file") else upload


def import_start(*, by, node: OrgNode, upload, mode: str, language: str = "") -> ImportJob:
    """Check the upload, store it as a job limited to ``node`` and queue it for the task worker.

    Nothing is parsed here, whatever the file's size: a file over a limit (size, size unpacked,
    compression ratio, rows, columns) or not an xlsx raises ValidationError with a message naming
    the problem, and nothing is stored. The worker runs ``jobs.run_import`` once the job row is committed.
    """
    if by is None or not by.can(Perm.REGISTRY_EDIT, node.path):
        raise PermissionDenied(_("You may not change records outside your area."))
    if mode not in ImportJob.Mode.values:
        raise ValidationError(_("Unknown import mode."))
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        inspection = check_file(_upload_source(upload))
    if hasattr(upload, "seek"):
        upload.seek(0)
    from ..tasks import import_registry

    job = ImportJob(
        created_by=by, node=node, org_path=node.path, mode=mode, original_name=(getattr(upload, "name", "") or "")[:200],
        language=language, rows_total=max(0, inspection.rows - 1),  # less the header
    )
    try:
        with transaction.atomic():
            job.file.save("upload.xlsx", upload, save=False)
            job.save()
            transaction.on_commit(lambda: import_registry.enqueue(job.pk))
    except BaseException:
        if job.file:
            job.file.storage.delete(job.file.name)  # stored, but no job row holds it
        raise
    return job


def job_progress(job: ImportJob, **fields) -> None:
    """Progress of the validation, visible at once (outside the import's transaction)."""
    for key, value in fields.items():
        setattr(job, key, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _masked(text: str, mask) -> str:
    text = str(text or "").strip()
    if not text:
        return text
    return mask(text) if len(text) >= 8 else "*" * len(text)


def masked_cells(header: list[str], cells: list) -> list:
    """A row's cells for the error report: ID number and phone masked (as ``core.pii`` masks them), the
    birth date of a full export left out. The report is kept; the upload is not."""
    index = {str(label).strip(): i for i, label in enumerate(header)}
    out = list(cells)
    for label, mask in ((HEADERS["id_number"], mask_id_number), (HEADERS["phone"], mask_phone)):
        i = index.get(label)
        if i is not None and i < len(out):
            out[i] = _masked(out[i], mask)
    i = index.get(BIRTH_HEADER)
    if i is not None and i < len(out):
        out[i] = ""
    return out


def job_finish(job: ImportJob, status: str, message: str, rows=None, header=None, outcome=None) -> None:
    """Totals, the error report (personal data masked) and the closing message of a job."""
    failed = [r for r in rows or () if not r.ok]
    job.status, job.finished_at = status, timezone.now()
    job.errors = len(failed)
    if rows is not None:
        job.rows_total = job.rows_validated = len(rows)
    if outcome is not None:
        job.created, job.updated, job.unchanged = outcome.created, outcome.updated, outcome.unchanged
        job.households_created, job.households_updated = outcome.households_created, outcome.households_updated
        job.rows_written = outcome.created + outcome.updated + outcome.unchanged
    if failed:
        report = excel.error_report(header, ((r.number, masked_cells(header, r.cells), r.errors) for r in failed))
        job.error_report.save("errors.xlsx", ContentFile(report), save=False)
    if not message and outcome is not None:
        message = _("Imported %(rows)s rows: %(created)s new, %(updated)s changed, %(unchanged)s unchanged.") % {
            "rows": job.rows_written, "created": outcome.created, "updated": outcome.updated,
            "unchanged": outcome.unchanged}
        if failed:
            message += " " + ngettext(
                "%(errors)s row had errors and was skipped; see the error report.",
                "%(errors)s rows had errors and were skipped; see the error report.", len(failed)) % {"errors": len(failed)}
    elif not message and job.mode == ImportJob.Mode.VALID_ONLY:
        message = _("None of the %(rows)s rows can be imported, so nothing was written; see the error report.") % {
            "rows": len(rows or ())}
    elif not message:
        message = _("%(errors)s of %(rows)s rows have errors, so nothing was written. Correct them (see the error "
                    "report) and upload the file again, or choose “Import valid rows only”.") % {
            "errors": len(failed), "rows": len(rows or ())}
    job.message = message
    job.save()


def import_cleanup(*, now: dt.datetime | None = None) -> dict:
    """Fail the jobs a stopped worker left unfinished for ``IMPORT_STALE_HOURS``, and remove the uploads no
    running job needs: of those jobs, of finished jobs still holding theirs, and files under
    ``imports/`` that no job names (left by a process that died while storing one). Idempotent."""
    now = now or timezone.now()
    before = now - dt.timedelta(hours=settings.IMPORT_STALE_HOURS)
    abandoned = removed = 0
    for job in selectors.stale_jobs(before):
        with translation.override(job.language or settings.LANGUAGE_CODE):
            message = _("The import did not finish: the task worker stopped or never ran it. Nothing was written; "
                        "upload the file again.")
        abandoned += ImportJob.objects.filter(pk=job.pk, status__in=selectors.UNFINISHED).update(
            status=ImportJob.Status.FAILED, finished_at=now, message=message)
    for job in selectors.finished_with_upload():
        upload_discard(job)
        removed += 1
    orphans = _remove_orphans(before)
    if abandoned or removed or orphans:
        log.info("import clean-up: %s abandoned jobs, %s uploads and %s stray files removed", abandoned, removed, orphans)
    return {"abandoned": abandoned, "uploads_removed": removed, "orphans_removed": orphans}


def _remove_orphans(before: dt.datetime) -> int:
    storage = ImportJob._meta.get_field("file").storage
    keep = selectors.upload_names()
    removed = 0
    pending = ["imports"]
    while pending:
        folder = pending.pop()
        try:
            folders, files = storage.listdir(folder)
        except (FileNotFoundError, NotImplementedError):
            continue
        pending += [f"{folder}/{name}" for name in folders if f"{folder}/{name}" != "imports/reports"]
        for name in files:
            path = f"{folder}/{name}"
            try:
                if path not in keep and storage.get_modified_time(path) < before:
                    storage.delete(path)
                    removed += 1
            except (OSError, NotImplementedError):
                continue
    return removed
