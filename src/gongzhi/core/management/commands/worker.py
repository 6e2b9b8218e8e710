"""``gongzhi worker``: the background task worker alone (django-tasks-db's ``db_worker`` and all its options)."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time

from django.utils.translation import gettext as _
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

    def handle(self, *args, stop_with_parent=None, **options):
        if stop_with_parent:
            threading.Thread(target=_watch_parent, args=(stop_with_parent,), daemon=True).start()
        return super().handle(*args, **options)
