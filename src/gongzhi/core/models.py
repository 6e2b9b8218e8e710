"""Plumbing tables shared by every app: the audit trail and the working-day calendar."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditEvent(models.Model):
    """One write action or personal-data reveal: who did what to which object, and what changed.

    Written in the same transaction as the change it records; personal data in
    ``changes`` is masked. ``org_path`` is the path of the object's org node so
    the audit page is scoped like everything else.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    org_path = models.CharField(_("org path"), max_length=64, blank=True, db_index=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"


def _import_upload_to(job, filename):
    return f"imports/{job.created_at:%Y/%m}/{job.kind}-{uuid.uuid4().hex}.xlsx"


def _import_report_to(job, filename):
    return f"imports/reports/{job.kind}-{job.pk}-{uuid.uuid4().hex[:8]}.xlsx"


class ImportJob(models.Model):
    """One uploaded spreadsheet and what became of it: validation and write progress, totals, error report.

    Visible only to its creator and to county administrators over ``org_path``
    (the node the import was limited to). The upload holds personal data as typed:
    it lives under MEDIA_ROOT/imports/ only until the job ends (``file`` is then
    empty). The error report, kept, masks ID numbers and phones and is only served
    through a view that checks who asks.
    """

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", _("All or nothing")
        VALID_ONLY = "valid", _("Import valid rows only")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=32, default="registry")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    node = models.ForeignKey(
        "orgs.OrgNode", verbose_name=_("org node"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    org_path = models.CharField(max_length=64, db_index=True, editable=False)
    file = models.FileField(_("file"), upload_to=_import_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    language = models.CharField(max_length=16, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_validated = models.PositiveIntegerField(_("rows validated"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    created = models.PositiveIntegerField(pgettext_lazy("import count", "created"), default=0)
    updated = models.PositiveIntegerField(pgettext_lazy("import count", "updated"), default=0)
    unchanged = models.PositiveIntegerField(pgettext_lazy("import count", "unchanged"), default=0)
    errors = models.PositiveIntegerField(_("rows with errors"), default=0)
    households_created = models.PositiveIntegerField(_("households created"), default=0)
    households_updated = models.PositiveIntegerField(_("households updated"), default=0)
    error_report = models.FileField(_("error report"), upload_to=_import_report_to, max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.original_name or self.kind} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        """Validation is the first half of the bar, writing the second."""
        if self.is_finished:
            return 100
        if not self.rows_total:
            return 0
        done = self.rows_validated + self.rows_written
        return min(99, int(done * 50 / self.rows_total))


class CalendarDay(models.Model):
    """An admin's word on one day: a working day or a day off. Wins over ``chinesecalendar``.

    Used for years the library does not know yet (the State Council publishes each year's
    holidays and make-up working days, 调休, in the autumn before) and for local changes.
    """

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=50, blank=True, help_text=_("e.g. 春节, 国庆节调休上班"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.name}"


class CalendarYear(models.Model):
    """A year whose official holiday schedule an admin has entered and confirmed."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    confirmed = models.BooleanField(_("confirmed"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)


class PeriodicJob(models.Model):
    """The scheduler's memory of a periodic job: when it was last enqueued and as which task result, so
    several schedulers (one per worker) never enqueue it twice or while it is still waiting or running."""

    name = models.CharField(max_length=50, unique=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")

    def __str__(self):
        return self.name
