"""The deadline sweep: yellow (due soon), red (overdue) and escalation of overdue appeals, set-based.

Which appeals: the open ones whose handling is still owed — submitted, dispatched, accepted. A resolved
(or verified) appeal is not swept: the handler's part ended when it resolved, ``resolved_on_time``
records whether that was in time, and its due state stays what it was at that moment.

- due soon: ``due_soon_at <= now < resolve_due``;
- overdue: ``resolve_due <= now``; the first time, the appeal is also escalated (``escalated_at``, a
  non-public ``escalate`` event, an audit row) to the supervisors of its handling unit (who they are:
  ``gongzhi.notify.selectors.supervisors``);
- a deadline moved later (extension, reopening) puts the appeal back on time first.

Each change is made once: the conditions exclude what is already marked, so running the sweep twice
changes nothing. Each step is one transaction: the rows to change are read and locked (their ids are
needed to tell the listeners), then changed with one UPDATE over the same conditions; the escalation
events and audit rows are written with one INSERT ... SELECT each. No per-row Python work: a first run
over a large backlog is as set-based as the usual run that finds nothing. Listeners hear of the
changed ids after commit (``events.appeals_changed``: "due_soon", "overdue", "escalate");
notifications hook in there and work through them in batches on the task worker.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from gongzhi.core import audit

from .. import events
from ..models import Appeal, AppealEvent, DueState, Status

SWEPT = (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED)


def sweep(now: dt.datetime | None = None) -> dict:
    """Mark, escalate and tell; returns how many appeals went back on time, due soon, overdue, escalated."""
    now = now or timezone.now()
    swept = Appeal.objects.filter(status__in=SWEPT)
    counts = {"cleared": 0, "due_soon": 0, "overdue": 0, "escalated": 0}

    # Deadline moved later: back to on time (quietly); the next step marks it due soon again if so.
    counts["cleared"] = (
        swept.filter(resolve_due__gt=now)
        .exclude(due_state=DueState.NORMAL)
        .filter(Q(due_state=DueState.OVERDUE) | Q(due_soon_at__gt=now))
        .update(due_state=DueState.NORMAL, updated_at=now)
    )

    due_soon = swept.filter(due_state=DueState.NORMAL, due_soon_at__lte=now, resolve_due__gt=now)
    with transaction.atomic():
        # Locked first, so the UPDATE over the same conditions changes exactly these rows.
        ids = list(due_soon.select_for_update().values_list("id", flat=True))
        if ids:
            due_soon.update(due_state=DueState.DUE_SOON, updated_at=now)
            events.appeals_changed(ids, "due_soon")
    counts["due_soon"] = len(ids)

    overdue = swept.filter(Q(resolve_due__lte=now) & (~Q(due_state=DueState.OVERDUE) | Q(escalated_at__isnull=True)))
    with transaction.atomic():
        rows = list(overdue.select_for_update().values_list("id", "due_state", "escalated_at"))
        if rows:
            # One UPDATE for both marks: each changed row is written once.
            overdue.update(due_state=DueState.OVERDUE, escalated_at=Coalesce("escalated_at", Value(now)), updated_at=now)
            escalated = [pk for pk, _state, at in rows if at is None]
            _escalation_records(now)
            events.appeals_changed([pk for pk, state, _at in rows if state != DueState.OVERDUE], "overdue")
            events.appeals_changed(escalated, "escalate")
            counts["overdue"] = sum(1 for _pk, state, _at in rows if state != DueState.OVERDUE)
            counts["escalated"] = len(escalated)
    return counts


def _escalation_records(now: dt.datetime) -> None:
    """The timeline event and the audit row of every appeal escalated at ``now``: the events in one
    INSERT ... SELECT, the audit rows through ``audit.record_many`` (a first sweep may escalate thousands)."""
    with override(settings.LANGUAGE_CODE):  # stored text, in the site's language like the actions' notes
        note = _("Overdue: escalated to the supervisors of the handling unit.")
    appeal, event = Appeal._meta.db_table, AppealEvent._meta.db_table
    json_param = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    # Found again by the (status, resolve_due) index: escalated_at is exactly this sweep's time.
    where = "status IN (%s, %s, %s) AND resolve_due <= %s AND escalated_at = %s"
    at = connection.ops.adapt_datetimefield_value(now)  # raw SQL: the backend's own datetime form
    where_params = [*SWEPT, at, at]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {event} (appeal_id, at, actor_id, actor_name, kind, from_status, to_status, note, public, data) "
            f"SELECT id, %s, NULL, '', 'escalate', status, status, %s, %s, {json_param} FROM {appeal} WHERE {where}",
            [at, note, False, "{}", *where_params],
        )
    escalated = Appeal.objects.filter(status__in=SWEPT, resolve_due__lte=now, escalated_at=now).order_by("id")
    audit.record_many(
        actor=None, action="appeal.escalate", reason=note, changes={"due_state": str(DueState.OVERDUE)},
        subjects=(audit.Subject("appeals.appeal", str(pk), f"{number} {title}"[:200], path)
                  for pk, number, title, path in escalated.values_list("id", "number", "title", "org_path").iterator()),
    )
