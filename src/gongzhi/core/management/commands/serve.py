"""``gongzhi serve``: the production web server. Static files come through WhiteNoise.

On Linux and macOS it is gunicorn, run from here (``gunicorn.app.base.BaseApplication``): one master that
binds the port and keeps ``--workers`` worker processes (default: one per CPU) of ``--threads`` threads each,
so every core serves requests; one Python process only ever uses one core. Where gunicorn cannot run
(Windows) it falls back to one waitress process with ``--workers`` x ``--threads`` threads.
"""

from __future__ import annotations

import errno
import gc
import os
import signal
import socket
import sys
from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
THREADS_PER_WORKER = 4
GRACEFUL_SECONDS = 8  # requests under way get this long to finish when the server is stopped
WORKER_TIMEOUT_SECONDS = 120  # a worker stuck this long in one request is restarted


def server_url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def cpu_count() -> int:
    """The CPUs this process may run on (a container's or taskset's limit, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def gunicorn_available() -> bool:
    """gunicorn forks worker processes: POSIX only (it is not installed on Windows, see pyproject.toml)."""
    if os.name != "posix":
        return False
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def _port_error(exc: OSError, host: str, port: int) -> CommandError:
    if exc.errno == errno.EADDRINUSE:
        return CommandError(
            _("Port %(port)s on %(host)s is already in use. Stop the program using it, or choose another "
              "port with --port.") % {"port": port, "host": host}
        )
    return CommandError(_("Cannot listen on %(host)s:%(port)s: %(error)s") % {"host": host, "port": port, "error": exc})


def _prepare_static() -> None:
    # WhiteNoise warns about a missing STATIC_ROOT; the files themselves come from the app folders.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)


def open_server(host: str, port: int, threads: int):
    """A waitress server (one process), the port bound now, so a taken port is reported before any slow
    start-up work; not yet serving. ``gongzhi demo`` and the fallback of ``gongzhi serve``."""
    from django.core.wsgi import get_wsgi_application
    from waitress.server import create_server

    _prepare_static()
    try:
        return create_server(get_wsgi_application(), host=host, port=port, threads=threads, ident="gongzhi")
    except OSError as exc:
        raise _port_error(exc, host, port) from None


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening socket for gunicorn's master, bound here so a taken port fails with our message at once
    (gunicorn itself retries for five seconds and then logs in English)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise _port_error(exc, host, port) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise _port_error(exc, host, port) from None
    return sock


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


def _positive(value: str) -> int:
    import argparse

    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(_("a whole number of at least 1"))
    return number


def add_server_arguments(parser, *, threads: int = 8, threads_help=gettext_lazy("Request threads (default 8).")) -> None:
    parser.add_argument("--host", default="127.0.0.1", help=gettext_lazy("Address to listen on (default 127.0.0.1)."))
    parser.add_argument("--port", type=int, default=8000, help=gettext_lazy("Port to listen on (default 8000)."))
    parser.add_argument("--threads", type=_positive, default=threads, help=threads_help)


def gunicorn_server(wsgi, listener: socket.socket, *, workers: int, threads: int):
    """gunicorn's master for ``wsgi`` on the bound ``listener``: ``.run()`` serves until SIGINT, SIGTERM or
    SIGHUP and ends with ``SystemExit`` (in the master, and in each worker process when it stops)."""
    from gunicorn import sock as gunicorn_sock
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter

    host, port = listener.getsockname()[:2]
    # On Linux each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new connections
    # over them evenly. With one shared socket, whichever worker woke first took every connection that came at
    # once, and kept-alive connections stay where they landed: 16 clients were all served by one worker, one core.
    reuse_port = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
    options = {
        "workers": workers, "threads": threads, "worker_class": "gthread", "preload_app": True,
        "timeout": WORKER_TIMEOUT_SECONDS, "graceful_timeout": GRACEFUL_SECONDS, "proc_name": "gongzhi",
        "loglevel": "warning", "accesslog": None, "errorlog": "-",
        "control_socket_disable": True,  # gunicorn 24+ would open a control socket in the home folder
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "reuse_port": reuse_port,
    }

    class Master(Arbiter):
        def start(self):
            if reuse_port:
                listener.close()  # it showed the port free; each worker binds its own socket to it now
            else:  # our socket, already bound: gunicorn takes it over as it does systemd's sockets
                self.LISTENERS = gunicorn_sock.create_sockets(self.cfg, self.log, [listener.detach()])
            super().start()

        def handle_hup(self):
            # As before, a closed terminal (SIGHUP) stops the server (gunicorn's own would reload the workers).
            raise StopIteration

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self):
            return wsgi

        def run(self):
            Master(self).run()

    return Server()


class Command(BaseCommand):
    @property
    def help(self):  # argparse needs a plain string, in the active language
        return _("Run the Gongzhi web server alone: gunicorn with one worker process per CPU (waitress on Windows).")

    def add_arguments(self, parser):
        add_server_arguments(parser, threads=THREADS_PER_WORKER,
                             threads_help=gettext_lazy("Request threads in each worker process (default 4)."))
        parser.add_argument(
            "--workers", type=_positive, default=cpu_count(),
            help=gettext_lazy("Worker processes (default: one per CPU, %(default)s here)."))

    def announce(self, host: str, port: int, workers: int, threads: int, processes: bool) -> None:
        self.stdout.write(_("Gongzhi is serving at %(url)s (Ctrl-C stops it).") % {"url": server_url(host, port)})
        if processes:
            self.stdout.write(_("%(workers)s worker processes with %(threads)s threads each.")
                              % {"workers": workers, "threads": threads})
        else:
            self.stdout.write(_("One process with %(threads)s threads (gunicorn does not run here).")
                              % {"threads": threads})
        if hint := host_hint(host):
            self.stdout.write(hint)
        self.stdout.flush()

    def handle(self, *args, host, port, threads, workers=1, **options):
        if not gunicorn_available():
            self.serve_waitress(host, port, workers * threads)
        else:
            self.serve_gunicorn(host, port, workers, threads)
        self.stdout.write(_("Stopped."))

    def serve_waitress(self, host: str, port: int, threads: int) -> None:
        with stop_signals():
            server = open_server(host, port, threads)
            try:
                self.announce(host, port, 1, threads, processes=False)
                run_until_stopped(server)
            finally:
                close_server(server)

    def serve_gunicorn(self, host: str, port: int, workers: int, threads: int) -> None:
        from django.core.wsgi import get_wsgi_application
        from django.db import connections
        from django.urls import get_resolver

        with stop_signals():
            listener = bind(host, port)
            try:
                _prepare_static()
                wsgi = get_wsgi_application()
                get_resolver().url_patterns  # import every view once, before the workers are forked
                connections.close_all()  # no database connection may be shared with the forked workers
                # What is loaded now is shared by the workers (copy-on-write) and never collected: a worker's
                # collections and its exit skip it (on a busy machine the final collection took seconds).
                gc.freeze()
            except KeyboardInterrupt:
                listener.close()
                return  # stopped while starting
            except BaseException:
                listener.close()
                raise
        master = os.getpid()
        self.announce(host, port, workers, threads, processes=True)
        sys.stderr.flush()  # a buffer not yet written would be written again by every worker
        try:
            gunicorn_server(wsgi, listener, workers=workers, threads=threads).run()
        except SystemExit as exc:
            if os.getpid() != master:
                raise  # a worker process leaving: it goes straight out, as under the gunicorn command
            if exc.code not in (None, 0):
                raise CommandError(_("The web server stopped with an error (exit code %(code)s); see the messages "
                                     "above.") % {"code": exc.code}) from None
