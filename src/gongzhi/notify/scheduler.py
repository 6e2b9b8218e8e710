"""The periodic scheduler django-tasks lacks: it enqueues the deadline sweep every
GONGZHI_SWEEP_MINUTES (default 5), the outbox retries when some are due, the roll-up catch-up
when appeal changes are queued for it, and the import clean-up when an import job is stale or a
finished one still holds its upload, for the worker to run.

Never twice at once: a job is enqueued only under a row lock on its ``PeriodicJob`` row, not sooner
than its period after the last time (by any scheduler), and not while that last task is still waiting
or running — so every worker can run a scheduler thread safely. A task left "running" by a killed
worker stops blocking after ``STALE``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus

from .models import PeriodicJob

log = logging.getLogger(__name__)

TICK_SECONDS = 10
STALE = dt.timedelta(hours=1)


def sweep_minutes() -> float:
    return float(getattr(settings, "GONGZHI_SWEEP_MINUTES", 5) or 5)


@dataclass
class Job:
    name: str
    task: object  # a django_tasks Task
    every: dt.timedelta
    needed: Callable[[dt.datetime], bool] | None = None


def jobs() -> list[Job]:
    from gongzhi.appeals.tasks import deadline_sweep
    from gongzhi.dashboards import rollups
    from gongzhi.dashboards.tasks import rollups_catch_up
    from gongzhi.orgs.imports import cleanup_due
    from gongzhi.orgs.tasks import import_cleanup

    from .actions import due_deliveries
    from .tasks import send_due_deliveries

    return [
        Job("deadline_sweep", deadline_sweep, dt.timedelta(minutes=sweep_minutes())),
        Job("outbox_retries", send_due_deliveries, dt.timedelta(seconds=30),
            needed=lambda now: due_deliveries(now).exists()),
        Job("rollups_catch_up", rollups_catch_up, dt.timedelta(seconds=TICK_SECONDS),
            needed=lambda now: rollups.pending()),
        Job("import_cleanup", import_cleanup, dt.timedelta(hours=1), needed=cleanup_due),
    ]


def _busy(task, task_id: str) -> bool:
    """Is the task enqueued last time still waiting or running? Unknown (a backend that cannot tell,
    a result already purged) counts as no: the period alone then keeps runs apart."""
    if not task_id or not task.get_backend().supports_get_result:
        return False
    try:
        status = task.get_result(task_id).status
    except Exception:  # ResultDoesNotExist and friends
        return False
    return status in (TaskResultStatus.READY, TaskResultStatus.RUNNING)


def _enqueue_once(job: Job, now: dt.datetime) -> bool:
    try:
        PeriodicJob.objects.get_or_create(name=job.name)
    except IntegrityError:  # another scheduler made the row at the same moment
        pass
    with transaction.atomic():
        row = PeriodicJob.objects.select_for_update().get(name=job.name)
        last = row.last_enqueued_at
        if last is not None and now - last < job.every:
            return False
        if last is not None and now - last < STALE and _busy(job.task, row.task_id):
            return False
        result = job.task.enqueue()
        row.last_enqueued_at, row.task_id = now, str(result.id)
        row.save(update_fields=["last_enqueued_at", "task_id"])
    return True


def tick(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every job that is due; returns the names enqueued."""
    now = now or timezone.now()
    done = []
    for job in jobs():
        if job.needed is not None and not job.needed(now):
            continue
        if _enqueue_once(job, now):
            done.append(job.name)
    return done


class Scheduler:
    """Ticks every ``tick_seconds`` until stopped; in a thread of its own (``start``/``stop``) or in
    the foreground (``run``)."""

    def __init__(self, tick_seconds: float = TICK_SECONDS):
        self.tick_seconds = tick_seconds
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    tick()
                except Exception:  # a database hiccup must not end the scheduler; the next tick retries
                    log.exception("scheduler tick failed")
                self.stopping.wait(self.tick_seconds)
        finally:
            connection.close()  # this thread's own connection

    def start(self) -> threading.Thread:
        self.thread = threading.Thread(target=self.run, name="gongzhi-scheduler", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self, timeout: float = 10) -> bool:
        """Ask it to stop and wait for the current tick to finish; True when it has."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout)
            return not self.thread.is_alive()
        return True
