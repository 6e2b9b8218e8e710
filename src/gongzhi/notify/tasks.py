"""Background jobs of the notification app, and the appeal listeners that enqueue them.

Appeal actions and the sweep only enqueue; the worker makes the notices and outbox rows, then sends
each outbox row in its own task. Every job is idempotent. With the database task backend an action's
notification task is stored in the action's own transaction (it commits with the change or not at all,
and the action pays for one commit, not two); with another backend it is enqueued after commit.
"""

from __future__ import annotations

from django.db import transaction
from django_tasks import task
from django_tasks_db import DatabaseBackend

NOTIFY_BATCH = 1000


def _send_later(ids: list[int]) -> None:
    if ids:
        transaction.on_commit(lambda: [send_delivery.enqueue(pk) for pk in ids])


@task()
def notify_event(event_id: int) -> int:
    """Notices and outbox rows for one appeal event."""
    from .actions import notify_event as make

    ids = make(event_id=event_id)
    _send_later(ids)
    return len(ids)


@task()
def notify_deadline(kind: str, appeal_ids: list[int]) -> int:
    """Notices and outbox rows for a batch of appeals the sweep marked or escalated."""
    from .actions import notify_deadline as make

    ids = make(kind=kind, appeal_ids=appeal_ids)
    _send_later(ids)
    return len(ids)


@task()
def send_delivery(delivery_id: int) -> str:
    """Send one outbox row (a message already sent is not sent again)."""
    from .actions import delivery_send

    return delivery_send(delivery_id=delivery_id)


@task()
def send_due_deliveries() -> dict:
    """Retry the outbox rows whose backoff has passed (enqueued by the scheduler)."""
    from .actions import delivery_send, due_deliveries

    outcomes: dict[str, int] = {}
    for pk in list(due_deliveries().order_by("next_attempt_at").values_list("pk", flat=True)[:1000]):
        outcome = delivery_send(delivery_id=pk)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


# --- listeners (registered in NotifyConfig.ready) ------------------------------------------------


def _enqueue_with_the_change(job, *args) -> None:
    if isinstance(job.get_backend(), DatabaseBackend):
        job.enqueue(*args)
    else:
        transaction.on_commit(lambda: job.enqueue(*args))


def on_appeal_changed(appeal_id: int, kind: str, event_id: int | None = None) -> None:
    """In the appeal action's transaction: enqueue its notifications, keyed to the event just made (the
    action says which; else the newest of its kind)."""
    from gongzhi.appeals.models import AppealEvent

    from .actions import EVENT_KINDS

    if kind not in EVENT_KINDS:
        return
    if event_id is None:
        event_id = (AppealEvent.objects.filter(appeal_id=appeal_id, kind=kind).order_by("-id")
                    .values_list("id", flat=True).first())
    if event_id is not None:
        _enqueue_with_the_change(notify_event, event_id)


def on_appeals_changed(appeal_ids: list[int], kind: str) -> None:
    """After a sweep batch commits: one task per few hundred appeals."""
    from .actions import DEADLINE_KINDS

    if kind not in DEADLINE_KINDS:
        return
    for i in range(0, len(appeal_ids), NOTIFY_BATCH):
        notify_deadline.enqueue(kind, list(appeal_ids[i:i + NOTIFY_BATCH]))


def deliveries_due(now) -> bool:
    """The scheduler's test for the outbox retries: is any delivery's backoff over?"""
    from .actions import due_deliveries

    return due_deliveries(now).exists()
