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
