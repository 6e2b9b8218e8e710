"""Follow-up work after an appeal changes (roll-ups, notifications).

Apps register a listener in their ``AppConfig.ready``; actions call ``appeal_changed``. Two kinds:

- ``listen(fn)``: runs once the action's transaction commits. Must be quick (enqueue a task) and can
  never fail the action. Notifications hook in here.
- ``listen(fn, in_transaction=True)``: runs at once, inside the action's transaction, so what it writes
  commits or rolls back with the change itself. Must be one small write (a queue row). The roll-ups
  hook in here: the dashboards app queues the appeal and catches up later (``rollups.catch_up``); so do
  the notifications, whose task row goes in with the change.

A listener is called as ``fn(appeal_id, kind, event_id=...)``: ``event_id`` is the timeline event the action
wrote for the change, when it passed one (None otherwise).

Kinds (``appeal_changed``): file, dispatch, return, accept, resolve, verify, verify_reject, close, rate,
callback, reopen, extension_decide, void_decide, supervise, merge. Batch kinds (``appeals_changed``, the
deadline sweep): due_soon, overdue, escalate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)
_listeners: list[Callable[..., None]] = []
_in_transaction: list[Callable[..., None]] = []


def listen(fn: Callable[..., None], *, in_transaction: bool = False) -> Callable[..., None]:
    group = _in_transaction if in_transaction else _listeners
    if fn not in group:
        group.append(fn)
    return fn


def appeal_changed(appeal, kind: str, *, event=None) -> None:
    """Tell the listeners that ``appeal`` went through ``kind`` (file, dispatch, ...): the in-transaction
    ones now, the others after commit. ``event``: the timeline event the action wrote for it."""
    appeal_id = appeal.pk
    event_id = event.pk if event is not None else None
    for fn in list(_in_transaction):
        fn(appeal_id, kind, event_id=event_id)

    def run():
        for fn in list(_listeners):
            try:
                fn(appeal_id, kind, event_id=event_id)
            except Exception:  # a listener's failure never undoes or fails the action
                log.exception("appeal listener %s failed for %s/%s", fn, appeal_id, kind)

    if _listeners:
        transaction.on_commit(run)


# Changes made to many appeals at once (the deadline sweep's due_soon / overdue / escalate): one call
# per batch, so a sweep that marks thousands of appeals enqueues a few tasks, not thousands.
_batch_listeners: list[Callable[[list[int], str], None]] = []


def listen_batch(fn: Callable[[list[int], str], None]) -> Callable[[list[int], str], None]:
    if fn not in _batch_listeners:
        _batch_listeners.append(fn)
    return fn


def appeals_changed(appeal_ids, kind: str) -> None:
    """Tell the batch listeners, after commit, that ``appeal_ids`` went through ``kind``."""
    ids = list(appeal_ids)
    if not ids:
        return

    def run():
        for fn in list(_batch_listeners):
            try:
                fn(ids, kind)
            except Exception:  # as above: never fails the sweep
                log.exception("appeal batch listener %s failed for %s x %s", fn, len(ids), kind)

    transaction.on_commit(run)
