"""``gongzhi scheduler``: the periodic scheduler alone (``gongzhi worker`` and ``gongzhi demo`` run one too)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core.management.commands.serve import stop_signals
from gongzhi.core.scheduler import TICK_SECONDS, Scheduler, sweep_minutes, tick


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a plain string, in the active language
        return _("Enqueue the periodic jobs (the deadline sweep, outbox retries) for the task worker, until Ctrl-C.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help=gettext_lazy("Enqueue what is due now, then exit."))
        parser.add_argument("--tick", dest="tick_seconds", type=float, default=TICK_SECONDS,
                            help=gettext_lazy("Seconds between checks (default 30)."))

    def handle(self, *args, once, tick_seconds: float, **options):
        if once:
            names = tick()
            self.stdout.write(_("Enqueued: %(jobs)s") % {"jobs": ", ".join(names) or "-"})
            return
        self.stdout.write(_("Scheduler running: deadline sweep every %(minutes)s minutes (Ctrl-C stops it).")
                          % {"minutes": f"{sweep_minutes():g}"})
        self.stdout.flush()
        scheduler = Scheduler(tick_seconds=tick_seconds)
        with stop_signals():
            try:
                scheduler.run()
            except KeyboardInterrupt:
                pass
        self.stdout.write(_("Stopped."))
