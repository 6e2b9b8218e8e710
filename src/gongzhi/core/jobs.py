"""Running an upload's job (``core.models.ImportJob``) on the task worker: claimed once, run in the language
of the person who uploaded it, failed with a message on an unexpected error, and its upload removed however it
ends (an upload holds personal data as typed). The registry import, the places workbook and the staff roster
each give only their own work (``body``) and how they write a failure (``fail``)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import ImportJob

log = logging.getLogger(__name__)


def run_claimed(job_id: int, body: Callable[[ImportJob], None], fail: Callable[[ImportJob, str], None], *,
                kind: str | None = None) -> ImportJob:
    """Run a queued job (of ``kind``, when given) to its end; a job another worker took, or one finished
    already, is left alone. ``fail(job, message)`` writes the failure of an unexpected error."""
    queued = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED)
    if kind is not None:
        queued = queued.filter(kind=kind)
    claimed = queued.update(status=ImportJob.Status.RUNNING, started_at=timezone.now())
    job = ImportJob.objects.select_related("created_by", "node").get(pk=job_id)
    if not claimed:
        return job
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            try:
                body(job)
            except Exception:
                log.exception("%s job %s failed", job.kind, job.pk)
                fail(job, _("The import stopped on an unexpected error; nothing was written."))
    finally:
        upload_discard(job)
    return job


def upload_source(job: ImportJob):
    """The upload as a path, or its bytes where the storage has no local paths."""
    try:
        return job.file.path
    except NotImplementedError:
        with job.file.open("rb") as fh:
            return io.BytesIO(fh.read())


def upload_discard(job: ImportJob) -> None:
    """Remove the uploaded file of a job that is over (it holds full ID numbers or phones as typed)."""
    name = job.file.name if job.file else ""
    if not name:
        return
    try:
        job.file.storage.delete(name)
    except OSError:  # stays listed; the next clean-up tries again
        log.warning("%s job %s: upload %s not removed", job.kind, job.pk, name, exc_info=True)
        return
    ImportJob.objects.filter(pk=job.pk, file=name).update(file="")
    job.file.name = ""
