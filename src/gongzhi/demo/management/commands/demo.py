"""``gongzhi demo``: migrate, load the demo county if the database is empty, then run web server and task worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import unicodedata

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.demo import DEMO_OPEN311_KEY, DEMO_PASSWORD, ensure_demo_accounts
from gongzhi.core import parts
from gongzhi.orgs.models import OrgNode
from gongzhi.core.management.commands.serve import (
    add_server_arguments,
    close_server,
    host_hint,
    open_server,
    run_until_stopped,
    server_url,
    stop_signals,
)

WORKER_STOP_SECONDS = 10


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def _scale() -> float:
    raw = os.environ.get("GONGZHI_DEMO_SCALE", "").strip()
    try:
        scale = float(raw) if raw else 1.0
    except ValueError:
        scale = 0.0
    if not scale > 0:
        raise CommandError(_("GONGZHI_DEMO_SCALE must be a positive number, e.g. 0.1."))
    return scale


def _where(node: OrgNode) -> str:
    names = [a.name for a in OrgNode.objects.get_ancestors(node)][1:] + [node.name]
    return "".join(names)


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a plain string, in the active language
        return _(
            "Run the demo: the database in the data folder, migrated; the demo county loaded when the database "
            "is empty; web server and task worker together until Ctrl-C."
        )

    def add_arguments(self, parser):
        add_server_arguments(parser)
        parser.add_argument("--seed", type=int, default=1, help=gettext_lazy("Seed of the demo county (default 1)."))
        parser.add_argument("--no-scheduler", action="store_true",
                            help=gettext_lazy("Do not run the periodic jobs (deadline sweep, outbox retries)."))

    def say(self, text: str = "") -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, host, port, threads, seed, no_scheduler=False, **options):
        self.run_scheduler = not no_scheduler
        scale = _scale()
        # One in-process waitress server, not gunicorn's workers as `gongzhi serve`: the demo is SQLite (one
        # writer at a time, so more processes buy little), runs on Windows too, and binds the port before the
        # slow loading so that a taken port fails at once, then serves from the process that loaded the data.
        with stop_signals():
            server = open_server(host, port, threads)  # a taken port fails here, before the slow work
            worker = None
            try:
                self.prepare(seed, scale)
                accounts = ensure_demo_accounts()
                worker = self.start_worker()
                self.banner(host, port, worker, accounts)
                run_until_stopped(server)
            except KeyboardInterrupt:
                pass  # stopped while still starting; a half-loaded county was rolled back
            finally:
                close_server(server)
                if worker is not None:
                    self.stop_worker(worker)
        self.say(_("Stopped."))

    def prepare(self, seed: int, scale: float) -> None:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        self.say(_("Data folder: %(path)s") % {"path": settings.DATA_DIR})
        if connection.vendor == "sqlite":
            self.say(_("Database: SQLite %(path)s") % {"path": connection.settings_dict["NAME"]})
        else:
            db = connection.settings_dict
            self.say(_("Database: %(vendor)s %(name)s on %(host)s")
                     % {"vendor": connection.vendor, "name": db["NAME"], "host": db.get("HOST") or "localhost"})
        self.say(_("Bringing the database up to date…"))
        call_command("migrate", interactive=False, verbosity=0)
        for part in parts.demo_parts():
            part.run(seed=seed, scale=scale, say=self.say)

    def start_worker(self) -> subprocess.Popen:
        cmd = [
            sys.executable, "-m", "gongzhi", "worker", "--queue-name", "*", "--no-reload", "--no-startup-delay",
            "--stop-with-parent", str(os.getpid()),
        ] + ([] if getattr(self, "run_scheduler", True) else ["--no-scheduler"])
        env = {**os.environ, "GONGZHI_DATA_DIR": str(settings.DATA_DIR)}
        # Its own process group: Ctrl-C reaches only us, and we stop the worker once, gracefully.
        worker = subprocess.Popen(cmd, env=env, start_new_session=os.name == "posix")
        threading.Thread(target=self.watch_worker, args=(worker,), daemon=True).start()
        return worker

    def watch_worker(self, worker: subprocess.Popen) -> None:
        code = worker.wait()
        if not getattr(self, "stopping", False):
            self.stderr.write(_("The task worker stopped unexpectedly (exit code %(code)s); background tasks will "
                                "wait until the demo is restarted.") % {"code": code})

    def stop_worker(self, worker: subprocess.Popen) -> None:
        self.stopping = True
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def banner(self, host: str, port: int, worker: subprocess.Popen, accounts) -> None:
        self.say()
        self.say(_("Gongzhi demo is running at %(url)s") % {"url": server_url(host, port)})
        self.say(_("Task worker running (pid %(pid)s).") % {"pid": worker.pid})
        if getattr(self, "run_scheduler", True):
            from gongzhi.core.scheduler import sweep_minutes

            self.say(_("Deadline sweep every %(minutes)s minutes (in the task worker).") % {"minutes": f"{sweep_minutes():g}"})
        if hint := host_hint(host):
            self.say(hint)
        if accounts:
            self.say()
            self.say(_("Demo accounts (password for all: %(password)s):") % {"password": DEMO_PASSWORD})
            rows = [[_("user name"), _("role"), _("where"), _("display name")]]
            rows += [[a.username, a.role_label, _where(a.node), a.display_name] for a in accounts]
            for line in _table(rows):
                self.say(line)
            self.say(_("Open311 api_key: %(key)s (%(url)s)")
                     % {"key": DEMO_OPEN311_KEY, "url": server_url(host, port).rstrip("/") + "/open311/v2/"})
        else:
            self.say(_("This database holds no demo county, so no demo accounts were made; "
                       "`gongzhi createadmin` makes an administrator."))
        self.say()
        self.say(_("Press Ctrl-C to stop the server and the worker."))
