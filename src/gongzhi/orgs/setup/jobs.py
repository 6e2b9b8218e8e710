"""Running a places import on the task worker: the workbook checked against the limits, its sheets read in
order, every row checked (``parse``), and, when no row has an error, everything written in one transaction
(``write``); otherwise nothing is written and the error report lists every row with its reasons. The
upload is removed at the end, as the registry import's is."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import excel
from gongzhi.core.jobs import run_claimed, upload_source
from gongzhi.core.models import ImportJob

from ..imports import check_file
from ..imports.actions import job_progress
from ..models import NodeKind, OrgNode
from . import policies
from .actions import PLACES_JOB
from .parse import Parser, PlaceTree
from .template import SHEETS
from .write import write

log = logging.getLogger(__name__)

def _kind_labels() -> dict:
    return {
        NodeKind.COMMUNITY: _("communities and villages"), NodeKind.GRID: _("grids"),
        NodeKind.MICRO_GRID: _("micro-grids"), "compound": _("compounds"), "building": _("buildings"),
        "entrance": _("entrances"),
    }


def _read(source) -> list[tuple]:
    """(sheet, its header, its column positions, its rows) of each places sheet the workbook has, in order."""
    names = excel.sheet_names(source)
    found = []
    for sheet in SHEETS:
        if sheet.title not in names:
            continue
        try:
            data = excel.read_sheet(source, sheet.title)
        except excel.SheetError:  # a sheet with nothing in it
            continue
        try:
            positions = excel.header_columns(data.header, known=[*sheet.headers.values(), excel.ROW_HEADER,
                                                                 excel.REASON_HEADER], required=sheet.required)
        except excel.SheetError as exc:
            raise excel.SheetError(_("Sheet %(sheet)s: %(problem)s") % {"sheet": sheet.title, "problem": exc}) from None
        found.append((sheet, data.header, positions, data.rows))
    if not found:
        raise excel.SheetError(_("The workbook has none of the sheets %(sheets)s; use the places template.")
                               % {"sheets": "、".join(s.title for s in SHEETS)})
    return found


def _run(job: ImportJob) -> None:
    user = job.created_by
    if user is None or not user.is_active or job.node is None or not policies.may_import_places_at(user, job.node):
        _finish(job, ImportJob.Status.FAILED, _("You may not change records outside your area."))
        return
    try:
        source = upload_source(job)
        check_file(source)  # again: limits may have changed since the upload; nothing is parsed before
        sheets = _read(source)
    except (excel.SheetError, ValidationError) as exc:
        text = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        _finish(job, ImportJob.Status.FAILED, f"{text} {_('Nothing was written.')}")
        return
    except FileNotFoundError:
        _finish(job, ImportJob.Status.FAILED, _("The uploaded file is no longer there; upload it again."))
        return
    job_progress(job, rows_total=sum(len(rows) for *_rest, rows in sheets), rows_validated=0, rows_written=0)
    headers = {sheet.kind: header for sheet, header, _positions, _rows in sheets}
    with transaction.atomic():
        # One places import at a time in a tree: the second reads what the first wrote.
        list(OrgNode.objects.select_for_update().filter(path=job.node.path[:OrgNode.steplen]))
        tree = PlaceTree(user, job.node)
        parser = Parser(user, tree)
        parser.note_outside_codes(_codes(sheets))
        for sheet, _header, positions, rows in sheets:
            for number, cells in rows:
                parser.read(sheet, number, cells, positions)
        rows = parser.rows
        job_progress(job, rows_validated=len(rows))
        if not rows:
            _finish(job, ImportJob.Status.FAILED, _("The file has no data rows. Nothing was written."))
            return
        if any(not r.ok for r in rows):
            _finish(job, ImportJob.Status.FAILED, "", rows=rows, headers=headers)
            return
        outcome = write(tree, rows, by=user, job=job)
        outcome.skipped = parser.skipped
        _finish(job, ImportJob.Status.SUCCEEDED, "", rows=rows, headers=headers, outcome=outcome)


def _codes(sheets) -> set[str]:
    """Every code the node sheets give."""
    codes = set()
    for sheet, _header, positions, rows in sheets:
        index = positions.get(sheet.headers.get("code", ""))
        if index is not None:
            codes |= {cells[index].strip() for _number, cells in rows if index < len(cells)}
    return codes


def run_places_import(job_id: int) -> ImportJob:
    """Run a queued places job to its end (what the task worker runs; ``core.jobs.run_claimed``)."""
    return run_claimed(job_id, _run, lambda job, message: _finish(job, ImportJob.Status.FAILED, message),
                       kind=PLACES_JOB)


def _finish(job: ImportJob, status: str, message: str, rows=None, headers=None, outcome=None) -> None:
    failed = [r for r in rows or () if not r.ok]
    job.status, job.finished_at, job.errors = status, timezone.now(), len(failed)
    if rows is not None:
        job.rows_total = job.rows_validated = len(rows)
    if outcome is not None:
        job.created, job.updated, job.unchanged = outcome.total, outcome.coded, outcome.unchanged
        job.rows_written = len(rows)
    if failed:
        report = excel.error_report_sheets(
            (sheet.title, headers[sheet.kind], [(r.number, r.cells, r.errors) for r in failed if r.sheet is sheet])
            for sheet in SHEETS if any(r.sheet is sheet for r in failed))
        job.error_report.save("errors.xlsx", ContentFile(report), save=False)
    if not message and outcome is not None:
        labels = _kind_labels()
        added = "、".join(f"{labels[k]} {n}" for k, n in outcome.created.items() if n) or "0"
        message = _("Imported %(rows)s rows. Added: %(added)s. Codes given: %(coded)s. Already registered: "
                    "%(unchanged)s.") % {"rows": len(rows), "added": added, "coded": outcome.coded,
                                         "unchanged": outcome.unchanged}
        if outcome.skipped:
            message += " " + _("The example row of the sheets %(sheets)s was left as it is and skipped.") % {
                "sheets": "、".join(outcome.skipped)}
    elif not message:
        message = _("%(errors)s of %(rows)s rows have errors, so nothing was written. Correct them (see the error "
                    "report) and upload the file again.") % {"errors": len(failed), "rows": len(rows or ())}
    job.message = message
    job.save()
