"""``gongzhi serve``: the web server (waitress) alone; static files come through WhiteNoise."""

from __future__ import annotations

import errno
import signal
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def server_url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def open_server(host: str, port: int, threads: int):
    """Bind the port now, so a taken port is reported before any slow start-up work; not yet serving."""
    from django.core.wsgi import get_wsgi_application
    from waitress.server import create_server

    # WhiteNoise warns about a missing STATIC_ROOT; the files themselves come from the app folders.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    try:
        return create_server(get_wsgi_application(), host=host, port=port, threads=threads, ident="gongzhi")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                _("Port %(port)s on %(host)s is already in use. Stop the program using it, or choose another "
                  "port with --port.") % {"port": port, "host": host}
            ) from None
        raise CommandError(
            _("Cannot listen on %(host)s:%(port)s: %(error)s") % {"host": host, "port": port, "error": exc}
        ) from None


def _stop(signum, frame):
    raise KeyboardInterrupt


@contextmanager
def stop_signals():
    """Inside the block SIGTERM and SIGHUP act like Ctrl-C, so the clean-up code runs for each of them; and
    Ctrl-C (SIGINT) stops us even when whatever started us ignored it (a shell's background job, nohup)."""
    signals = (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
    previous = {sig: signal.getsignal(sig) for sig in signals if sig}
    for sig in previous:
        signal.signal(sig, _stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_until_stopped(server) -> None:
    """Serve until interrupted (waitress ends its loop on KeyboardInterrupt and stops its threads)."""
    try:
        server.run()
    except KeyboardInterrupt:
        pass


def close_server(server) -> None:
    """Stop the request threads and close the listening socket; safe to call twice."""
    server.task_dispatcher.shutdown()
    server.close()


def host_hint(host: str) -> str:
    if host in LOOPBACK:
        return ""
    return _("Other computers reach this server only if their address for it is listed in GONGZHI_ALLOWED_HOSTS.")


def add_server_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help=gettext_lazy("Address to listen on (default 127.0.0.1)."))
    parser.add_argument("--port", type=int, default=8000, help=gettext_lazy("Port to listen on (default 8000)."))
    parser.add_argument("--threads", type=int, default=8, help=gettext_lazy("Request threads (default 8)."))


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a plain string, in the active language
        return _("Run the Gongzhi web server (waitress) alone.")

    def add_arguments(self, parser):
        add_server_arguments(parser)

    def handle(self, *args, host, port, threads, **options):
        with stop_signals():
            server = open_server(host, port, threads)
            try:
                self.stdout.write(
                    _("Gongzhi is serving at %(url)s (Ctrl-C stops it).") % {"url": server_url(host, port)}
                )
                if hint := host_hint(host):
                    self.stdout.write(hint)
                self.stdout.flush()
                run_until_stopped(server)
            finally:
                close_server(server)
        self.stdout.write(_("Stopped."))
