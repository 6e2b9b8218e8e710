"""Roll-up tables for the appeal figures: what each appeal counts for now, and those counts summed per
day, org node and breakdown, so a county's figures for a month are a few hundred rows, not a scan.

``docs/metrics.md`` defines every counter; ``rollups.py`` keeps these tables in step with the appeals.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.orgs.models import PATH_LENGTH

# The counters, in the order of the columns. Every one is a whole-number count per appeal (0 or 1, or
# how many returns / reopens), except the two sums of seconds.
COUNTERS = (
    "filed", "voided", "merged", "open", "dispatched", "responded", "responded_on_time", "resolved",
    "resolved_on_time", "closed", "rated", "rated_resolved", "satisfied", "basic", "unsatisfied", "callback",
    "returned", "reopened", "reworked", "returns", "reopens", "extended", "supervised",
    "handling_seconds", "handling_work_seconds",
)


class Counters(models.Model):
    """The counters of ``COUNTERS`` as columns (see docs/metrics.md for each definition)."""

    filed = models.IntegerField(default=0)
    voided = models.IntegerField(default=0)
    merged = models.IntegerField(default=0)
    open = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    responded_on_time = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    resolved_on_time = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    rated_resolved = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basic = models.IntegerField(default=0)
    unsatisfied = models.IntegerField(default=0)
    callback = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)
    returns = models.IntegerField(default=0)
    reopens = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    supervised = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    handling_work_seconds = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class AppealFact(Counters):
    """What one appeal adds to the roll-ups as it stands now, with the keys it adds them under.

    A change to the appeal is applied to ``AppealRollup`` as the difference between its new fact and
    this one, so applying the same change twice changes nothing. Small nodes (a grid, a micro-grid)
    and the per-worker figures are summed from these rows directly. No foreign keys: derived data
    that ``rollup_rebuild`` recomputes, and that must never stand in the way of bulk loads.
    """

    appeal_id = models.BigIntegerField(primary_key=True)
    day = models.DateField()  # the local (Asia/Shanghai) day it was filed
    # The appeal's place. Not named org_path on purpose: moving a node rewrites every org_path, and the
    # roll-up rows cannot follow one UPDATE; facts and roll-ups stay together until rollup_rebuild.
    place_path = models.CharField(max_length=PATH_LENGTH)
    category_id = models.BigIntegerField()
    handler_unit_id = models.BigIntegerField(null=True)
    handler_path = models.CharField(max_length=PATH_LENGTH, blank=True)  # the handling org node's path
    worker_id = models.BigIntegerField(null=True)  # accepted_by
    due_at = models.DateTimeField(null=True)  # resolve_due while valid and not yet resolved, else empty
    due_day = models.DateField(null=True)  # due_at's local day

    class Meta:
        verbose_name = _("appeal fact")
        indexes = [
            models.Index(fields=["place_path", "day"], name="appealfact_path_day"),
            models.Index(fields=["day"], name="appealfact_day"),
            # Overdue now: how many under a node, and the most overdue first.
            models.Index(fields=["place_path", "due_at"], name="appealfact_path_due",
                         condition=models.Q(due_at__isnull=False)),
            models.Index(fields=["due_at", "place_path"], name="appealfact_due_path",
                         condition=models.Q(due_at__isnull=False)),
        ]


class AppealRollup(Counters):
    """Counters summed per filing day and org node (each ancestor of the appeal's place down to
    ``rollups.ROLLUP_DEPTH``, itself included), whole (``dim`` "a"), and for the top levels (down to
    ``rollups.BREAKDOWN_DEPTH``) by category "c" and by handler "h"; and, as ``dim`` "d", the appeals
    not yet resolved summed by the day their resolution is due instead (how many are overdue now).

    A handler key is "u<unit id>" for a department or partner unit, "n<path>" for an org node, ""
    for none yet. Handling nodes below a row's node are counted under their ancestor one level below
    it, so a county sees its subdistricts handle, a subdistrict its communities, a community its grids.
    """

    class Dim(models.TextChoices):
        ALL = "a", "all"
        CATEGORY = "c", "category"
        HANDLER = "h", "handler"
        DUE = "d", "unresolved by due day"

    day = models.DateField()
    node_path = models.CharField(max_length=PATH_LENGTH)
    depth = models.PositiveSmallIntegerField()  # len(node_path) / steplen, as OrgNode.depth
    dim = models.CharField(max_length=1, choices=Dim.choices)
    key = models.CharField(max_length=PATH_LENGTH + 8, blank=True)

    class Meta:
        verbose_name = _("appeal roll-up")
        constraints = [
            models.UniqueConstraint(fields=["node_path", "dim", "key", "day"], name="appealrollup_key"),
        ]
        indexes = [
            # "the children (or grandchildren) of a node": one level of a subtree over a period
            models.Index(fields=["dim", "depth", "node_path", "day"], name="appealrollup_level"),
        ]


class WorkCalendar(models.Model):
    """Working days as the roll-up rebuild sees them: for each day, whether it is a working day and
    the office seconds of all days before it, so working hours between two moments are one
    subtraction in SQL. Refilled from ``gongzhi.core.workdays`` on every rebuild."""

    day = models.DateField(primary_key=True)
    is_workday = models.BooleanField()
    seconds_before = models.BigIntegerField()

    class Meta:
        verbose_name = _("work calendar day")


class RollupQueue(models.Model):
    """Appeals whose roll-ups are behind. The actions write a row here in their own transaction (so no
    change is ever lost, and the action does not wait for the roll-ups); ``rollups.catch_up`` applies
    them and deletes the rows: the task worker every few seconds, and every figures read before it
    answers, so what the dashboards show includes every committed change."""

    id = models.BigAutoField(primary_key=True)
    appeal_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("roll-up queue entry")
