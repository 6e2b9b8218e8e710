"""Running an import job on the task worker: check the file against the limits, read it, validate every
row, match with the registry and write, all in one transaction; the upload is removed at the end."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction

from django.utils.translation import gettext as _

from gongzhi.orgs.permissions import Perm
from gongzhi.core import excel
from gongzhi.core.jobs import run_claimed, upload_source
from gongzhi.core.models import ImportJob

from .actions import check_file, job_finish, job_progress
from .columns import HEADERS, IGNORED_HEADERS, REQUIRED, SHEET
from .match import lock_registry, match
from .parse import Places, check_rows, parse_row
from .write import Writer

log = logging.getLogger(__name__)


def run_import(job_id: int) -> ImportJob:
    """Run a queued job to its end; what the task worker runs (``core.jobs.run_claimed``: idempotent, the
    upload removed however the job ends)."""
    return run_claimed(job_id, _run, lambda job, message: job_finish(job, ImportJob.Status.FAILED, message))


class _SideProgress:
    """Write progress from inside the import's transaction through a second connection, so the page
    sees it. PostgreSQL only: SQLite has a single writer, there the figures appear at the end."""

    def __init__(self, job: ImportJob):
        self.job, self.conn = job, None

    def __call__(self, **fields) -> None:
        for key, value in fields.items():
            setattr(self.job, key, value)
        if connection.vendor != "postgresql":
            return
        try:
            if self.conn is None:
                self.conn = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.conn.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '500ms'")
            sets = ", ".join(f"{key} = %s" for key in fields)
            with self.conn.cursor() as cursor:
                cursor.execute(f"UPDATE {ImportJob._meta.db_table} SET {sets} WHERE id = %s", [*fields.values(), self.job.pk])
        except DatabaseError:  # progress is a courtesy; never let it fail the import
            log.warning("import job %s: progress not written", self.job.pk, exc_info=True)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class _Laps:
    """Seconds spent per phase of a job, logged at INFO so slow imports can be diagnosed."""

    def __init__(self):
        self.last, self.laps = time.perf_counter(), {}

    def __call__(self, label: str) -> None:
        now = time.perf_counter()
        self.laps[label] = round(now - self.last, 2)
        self.last = now

    def __str__(self):
        return ", ".join(f"{k} {v}s" for k, v in self.laps.items())


def _run(job: ImportJob) -> None:
    user = job.created_by
    if user is None or not user.is_active or job.node is None or not user.can(Perm.REGISTRY_EDIT, job.org_path):
        job_finish(job, ImportJob.Status.FAILED, _("You may not change records outside your area."))
        return
    lap = _Laps()
    try:
        source = upload_source(job)
        check_file(source)  # again: limits may have changed since the upload; nothing is parsed before
        sheet = excel.read_sheet(source, SHEET)
        positions = excel.header_columns(sheet.header, known=[*HEADERS.values(), *IGNORED_HEADERS], required=REQUIRED)
    except (excel.SheetError, ValidationError) as exc:
        text = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        job_finish(job, ImportJob.Status.FAILED, f"{text} {_('Nothing was written.')}")
        return
    except FileNotFoundError:
        job_finish(job, ImportJob.Status.FAILED, _("The uploaded file is no longer there; upload it again."))
        return
    if not sheet.rows:
        job_finish(job, ImportJob.Status.FAILED, _("The file has no data rows. Nothing was written."))
        return
    job_progress(job, rows_total=len(sheet.rows), rows_validated=0, rows_written=0)
    lap("read")

    places = Places(user, job.node)
    rows = []
    for index, (number, cells) in enumerate(sheet.rows, start=1):
        rows.append(parse_row(number, cells, positions, places))
        if index % 5000 == 0:
            job_progress(job, rows_validated=index)
    check_rows(rows)
    job_progress(job, rows_validated=len(rows))
    lap("validate")

    all_or_nothing = job.mode == ImportJob.Mode.ALL_OR_NOTHING
    status = ImportJob.Status.FAILED
    outcome = None
    if not (all_or_nothing and any(not r.ok for r in rows)):
        side = _SideProgress(job)
        try:
            with transaction.atomic():
                lock_registry()
                registry = match(rows, root_path=job.org_path, scope_paths=user.paths_with(Perm.REGISTRY_EDIT))
                lap("match")
                if any(r.ok for r in rows) and not (all_or_nothing and any(not r.ok for r in rows)):
                    writer = Writer(job, user, places, side)
                    writer.lap = lap
                    outcome = writer.write(rows, registry)
                    status = ImportJob.Status.SUCCEEDED
                    # Totals and status commit with the writes: a job never reads as done when they are not.
                    job_finish(job, status, "", rows=rows, header=sheet.header, outcome=outcome)
        finally:
            side.close()
    if outcome is None:
        job_finish(job, status, "", rows=rows, header=sheet.header)
    lap("finish")
    log.info("import job %s (%s rows): %s", job.pk, len(rows), lap)
