"""The periodic scheduler django-tasks lacks: it enqueues the jobs the apps register (``register``, from
their ``AppConfig.ready``) when they are due, for the worker to run: the appeals' deadline sweep every
GONGZHI_SWEEP_MINUTES (default 5), the outbox retries when some are due, the roll-up catch-up when appeal
changes are queued for it, and whatever a new app adds.

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
from django.utils.module_loading import import_string
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


@dataclass
class _Registered:
    name: str
    task: str  # dotted path of a django_tasks Task
    every: dt.timedelta | Callable[[], dt.timedelta]
    needed: str | None  # dotted path of a callable(now) -> bool


_REGISTERED: dict[str, _Registered] = {}


def register(name: str, task: str, *, every: dt.timedelta | Callable[[], dt.timedelta], needed: str | None = None) -> None:
    """Add a periodic job (an app calls this from its ``AppConfig.ready``): ``task`` (dotted path of a
    django-tasks task) is enqueued at most once per ``every`` (a period, or a function giving it, read each
    tick) across every scheduler of the deployment, and only when ``needed(now)`` (dotted path) says so.
    Paths are imported when the scheduler first ticks, not at start-up."""
    _REGISTERED[name] = _Registered(name, task, every, needed)


def jobs() -> list[Job]:
    out = []
    for r in _REGISTERED.values():
        every = r.every() if callable(r.every) else r.every
        out.append(Job(r.name, import_string(r.task), every, import_string(r.needed) if r.needed else None))
    return out


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
