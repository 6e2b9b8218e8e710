"""The scheduler: the sweep enqueued every period and never while one waits or runs (also with several
schedulers at once), due outbox retries enqueued, a clean stop; the worker and the demo run it."""

import datetime as dt
import os
import signal
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from gongzhi.demo.management.commands import demo as demo_command
from gongzhi.core import scheduler
from gongzhi.core.models import PeriodicJob
from gongzhi.notify.models import Delivery

SWEEP = "gongzhi.appeals.tasks.deadline_sweep"
RETRIES = "gongzhi.notify.tasks.send_due_deliveries"


def queued(path=SWEEP):
    return DBTaskResult.objects.filter(task_path=path)


@pytest.fixture
def minutes(settings):
    settings.GONGZHI_SWEEP_MINUTES = 5


def test_one_sweep_at_a_time_and_every_period(db, minutes):
    now = timezone.now()
    assert scheduler.tick(now) == ["deadline_sweep"]
    assert queued().count() == 1
    # Long past the period, but the last sweep still waits for the worker: not again.
    assert scheduler.tick(now + dt.timedelta(minutes=20)) == []
    queued().update(status=TaskResultStatus.RUNNING)
    assert scheduler.tick(now + dt.timedelta(minutes=25)) == []
    queued().update(status=TaskResultStatus.SUCCESSFUL)
    assert scheduler.tick(now + dt.timedelta(minutes=26)) == ["deadline_sweep"]
    assert queued().count() == 2
    queued().update(status=TaskResultStatus.SUCCESSFUL)
    assert scheduler.tick(now + dt.timedelta(minutes=30)) == []  # within the 5 minutes since the last one
    assert scheduler.tick(now + dt.timedelta(minutes=31)) == ["deadline_sweep"]


def test_a_sweep_left_running_by_a_killed_worker_stops_blocking(db, minutes):
    now = timezone.now()
    scheduler.tick(now)
    queued().update(status=TaskResultStatus.RUNNING)
    assert scheduler.tick(now + scheduler.STALE - dt.timedelta(minutes=1)) == []
    assert scheduler.tick(now + scheduler.STALE + dt.timedelta(minutes=1)) == ["deadline_sweep"]


def test_period_from_the_setting(db, settings):
    settings.GONGZHI_SWEEP_MINUTES = 1
    now = timezone.now()
    scheduler.tick(now)
    queued().update(status=TaskResultStatus.SUCCESSFUL)
    assert scheduler.tick(now + dt.timedelta(seconds=61)) == ["deadline_sweep"]


def test_due_outbox_retries_are_enqueued(db, minutes):
    now = timezone.now()
    scheduler.tick(now)
    assert not queued(RETRIES).exists()  # nothing to retry
    delivery = Delivery.objects.create(event="dispatch", attempts=1, next_attempt_at=now + dt.timedelta(minutes=1),
                                       payload={})
    assert scheduler.tick(now + dt.timedelta(seconds=30)) == []  # not due yet
    assert scheduler.tick(now + dt.timedelta(minutes=2)) == ["outbox_retries"]
    assert scheduler.tick(now + dt.timedelta(minutes=3)) == []  # the retry job has not run yet
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT)
    queued(RETRIES).update(status=TaskResultStatus.SUCCESSFUL)
    assert scheduler.tick(now + dt.timedelta(minutes=10)) == []  # nothing left to retry


@pytest.mark.django_db(transaction=True)
def test_several_schedulers_at_once_enqueue_one_sweep(minutes):
    now = timezone.now()
    results, barrier = [], threading.Barrier(4)

    def one():
        try:
            barrier.wait()
            results.append(scheduler.tick(now))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(map(tuple, results)) == [(), (), (), ("deadline_sweep",)]
    assert queued().count() == 1


@pytest.mark.django_db(transaction=True)
def test_scheduler_thread_ticks_and_stops_cleanly(minutes):
    sched = scheduler.Scheduler(tick_seconds=0.05)
    thread = sched.start()
    end = time.monotonic() + 10
    while not queued().exists() and time.monotonic() < end:
        time.sleep(0.05)
    assert queued().count() == 1
    time.sleep(0.3)  # several more ticks: still one sweep
    assert queued().count() == 1
    assert sched.stop(timeout=5) is True and not thread.is_alive()


def test_scheduler_command_once(db, minutes, capsys):
    call_command("scheduler", "--once")
    assert "deadline_sweep" in capsys.readouterr().out
    assert queued().count() == 1


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_scheduler_and_stops_it(minutes):
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    # If the worker never got its task it would wait forever: end it the way Ctrl-C does instead.
    watchdog = threading.Timer(60, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.start()
    try:  # the worker's own scheduler enqueues the sweep, the worker runs it (one task), then both stop
        call_command("worker", "--max-tasks", "1", "--interval", "0.1", "--no-startup-delay", "--no-reload",
                     "--queue-name", "*", verbosity=0)
    finally:
        watchdog.cancel()
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    result = queued().get()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"cleared": 0, "due_soon": 0, "overdue": 0, "escalated": 0}
    assert not any(t.name == "gongzhi-scheduler" and t.is_alive() for t in threading.enumerate())


@pytest.mark.django_db(transaction=True)
def test_worker_without_scheduler_and_in_batch_mode(minutes):
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
        call_command("worker", "--batch", "--no-scheduler", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert not PeriodicJob.objects.exists() and not queued().exists()


def test_demo_passes_the_choice_to_its_worker(monkeypatch, tmp_path, settings):
    started = []

    class FakePopen:
        pid = 4242

        def __init__(self, cmd, **kwargs):
            started.append(cmd)

        def wait(self):
            return 0

    monkeypatch.setattr(demo_command.subprocess, "Popen", FakePopen)
    command = demo_command.Command()
    command.stopping = True
    command.start_worker()
    command.run_scheduler = False
    command.start_worker()
    assert "worker" in started[0] and "--no-scheduler" not in started[0]
    assert started[1][-1] == "--no-scheduler"
