"""``gongzhi worker``: the background task worker (django-tasks-db's ``db_worker`` and all its options), with
the periodic scheduler (deadline sweep, outbox retries) in a thread unless ``--no-scheduler`` or ``--batch``."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


def _watch_parent(pid: int) -> None:
    """Stop gracefully once the process that started us is gone, so a killed ``gongzhi demo`` leaves no orphan."""
    while os.getppid() == pid:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


class Command(DbWorkerCommand):
    @property
    def help(self):  # argparse needs a plain string, in the active language
        return _(
            "Run the background task worker. Options as django-tasks-db's db_worker: --queue-name, --interval, "
            "--batch, --max-tasks, --backend, --worker-id, --no-startup-delay, --reload."
        )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--stop-with-parent", type=int, metavar="PID", help=argparse.SUPPRESS)
        parser.add_argument("--no-scheduler", action="store_true",
                            help=gettext_lazy("Do not enqueue the periodic jobs (deadline sweep, outbox retries) here."))

    def handle(self, *args, stop_with_parent=None, no_scheduler=False, **options):
        if stop_with_parent:
            threading.Thread(target=_watch_parent, args=(stop_with_parent,), daemon=True).start()
        # Not in --batch runs, nor in the autoreloader's watching parent (its child runs the tasks).
        reloader_parent = options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        scheduler = None
        if not (no_scheduler or options.get("batch") or reloader_parent):
            from gongzhi.core.scheduler import Scheduler

            scheduler = Scheduler()
            scheduler.start()
        try:
            return super().handle(*args, **options)
        finally:  # also on Ctrl-C / SIGTERM, which end db_worker with SystemExit
            if scheduler is not None:
                scheduler.stop()
