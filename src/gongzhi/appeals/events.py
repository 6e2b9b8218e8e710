"""Follow-up work after an appeal changes (notifications, roll-ups): listeners run after commit.

Apps register a listener in their ``AppConfig.ready``; actions call ``appeal_changed``. Listeners
must be quick (enqueue a task) and must not fail the action: they run once the transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

log = logging.getLogger(__name__)
_listeners: list[Callable[[int, str], None]] = []


def listen(fn: Callable[[int, str], None]) -> Callable[[int, str], None]:
    if fn not in _listeners:
        _listeners.append(fn)
    return fn


def appeal_changed(appeal, kind: str) -> None:
    """Tell the listeners, after commit, that ``appeal`` went through ``kind`` (file, dispatch, ...)."""
    appeal_id = appeal.pk

    def run():
        for fn in list(_listeners):
            try:
                fn(appeal_id, kind)
            except Exception:  # a listener's failure never undoes or fails the action
                log.exception("appeal listener %s failed for %s/%s", fn, appeal_id, kind)

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
