"""The load benchmark: the production server (``gongzhi serve`` with its defaults, DEBUG off, see
docs/deploy.md) on the benchmark database, under 16 and 64 concurrent clients.

It reuses the appeals benchmark's data (``appeals_data``; built first when missing) and users (the county
admin, a subdistrict staff member and a grid worker, as ``gongzhi bench appeals`` makes them), logs them in
without the login form (a session made the way Django's test client's ``force_login`` makes it, and API
tokens from ``accounts.actions.token_create``: the login form is throttled per address), starts the server on
the loopback interface, waits until it answers, and for each case and number of clients sends a bounded
number of requests (with a time cap) over keep-alive HTTP/1.1 connections from one asyncio process:

- ``page``: the staff appeal list page, ``GET /appeals/`` with a session cookie;
- ``api``: the API list, ``GET /api/v1/appeals?limit=25`` with a bearer token;
- ``file``: filing, ``POST /api/v1/appeals`` with a token (the grid worker files for a resident of the grid).

Clients take turns as the three users for the lists. Reported per case: requests/s, p50/p95/p99 latency
(from sending the request to the end of the answer; connecting is not counted), the error count (any
other status, a dropped connection, a timeout), and the CPU the server's processes used per request. The
load generator shares the machine's cores with the server and the database, and says so. The server is
stopped at the end whatever happens, and what the benchmark made (filed appeals, their tasks, sessions,
tokens) is removed.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

# Requests/s and p99 latency the next step aims for (printed beside the figures).
TARGETS = {"page": (500, 100.0), "api": (500, 100.0), "file": (300, 100.0)}
CASES = {
    "page": "staff appeal list page (GET /appeals/, session)",
    "api": "API appeal list (GET /api/v1/appeals?limit=25, token)",
    "file": "file an appeal (POST /api/v1/appeals, token)",
}
MAX_CLIENTS = 256
MAX_REQUESTS = 100_000
MAX_SECONDS = 600.0
REQUEST_TIMEOUT = 30.0
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0


def check_host(host: str) -> str:
    """Only a loopback address: the benchmark sends thousands of requests and files appeals, and must never
    be pointed at another machine."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise CommandError(f"The load benchmark runs on this machine's loopback interface only (e.g. 127.0.0.1), "
                           f"not on {host!r}.")
    return str(address)


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def machine_load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- the server ------------------------------------------------------------------------------------------


def database_url() -> str:
    """The database this process uses, as a DATABASE_URL for the server (the test database under pytest)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    if connection.vendor != "postgresql":
        raise CommandError(f"The load benchmark runs on PostgreSQL (or SQLite for its smoke test), not {connection.vendor}.")
    user = urllib.parse.quote(db.get("USER") or "", safe="")
    password = urllib.parse.quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{urllib.parse.quote(db['NAME'], safe='')}"


def process_cpu(pids) -> dict[int, float]:
    """CPU seconds (user + system) each of these processes has used so far, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


class DatabaseCpu:
    """CPU seconds the PostgreSQL backends serving this database used while it ran, when PostgreSQL runs on this
    machine (its backends' process titles name the database): sampled every 0.2 s, since the server's
    connections are closed and opened again as they age (``CONN_MAX_AGE``) and a closed backend's time would
    be lost. ``None`` where nothing could be seen."""

    def __init__(self):
        import threading

        self.name = connection.settings_dict["NAME"] if connection.vendor == "postgresql" else None
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True) if self.name else None

    def _backends(self) -> list[int]:
        pids = []
        marker = f" {self.name} ".encode()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                title = cmdline.read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and marker in title:
                pids.append(int(cmdline.parent.name))
        return pids

    def _sample(self) -> None:
        for pid, cpu in process_cpu(self._backends()).items():
            self.first.setdefault(pid, 0.0)  # a backend that started meanwhile: all its time counts
            self.last[pid] = cpu

    def _watch(self) -> None:
        while not self.done.wait(0.2):
            self._sample()

    def __enter__(self):
        if self.thread:
            for pid, cpu in process_cpu(self._backends()).items():
                self.first[pid] = self.last[pid] = cpu
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.thread:
            self.done.set()
            self.thread.join()
            self._sample()

    @property
    def seconds(self) -> float | None:
        if not self.last:
            return None
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


def _die_with_parent() -> None:
    """In the server's process before it starts (Linux): SIGTERM when the benchmark's process dies, however it
    dies (killed with SIGKILL, a timeout in CI), so no server is left holding the port and the database."""
    if sys.platform != "linux":
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Server:
    """``gongzhi serve`` in a process group of its own; ``stop()`` ends it (SIGTERM, then SIGKILL to the group)."""

    def __init__(self, host: str, port: int, *, workers: int | None, threads: int | None, log):
        self.host, self.port, self.log = host, port, log
        cmd = [sys.executable, "-m", "gongzhi", "serve", "--host", host, "--port", str(port)]
        if workers:
            cmd += ["--workers", str(workers)]
        if threads:
            cmd += ["--threads", str(threads)]
        env = {
            **os.environ, "DATABASE_URL": database_url(), "GONGZHI_DEBUG": "0", "PYTHONUNBUFFERED": "1",
            "GONGZHI_DATA_DIR": str(settings.DATA_DIR), "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
        }
        self.output = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=os.name == "posix", preexec_fn=_die_with_parent)

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def text(self) -> str:
        self.output.flush()
        self.output.seek(0)
        return self.output.read()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise CommandError(f"gongzhi serve stopped (exit code {self.proc.returncode}):\n{self.text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.25)
        raise CommandError(f"gongzhi serve did not answer within {timeout:.0f} s:\n{self.text()[-3000:]}")

    def pids(self) -> list[int]:
        """The master and its worker processes."""
        pids = [self.proc.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time (user + system) of each server process so far; empty where /proc is missing."""
        return process_cpu(self.pids())

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.log(f"gongzhi serve did not stop within {STOP_TIMEOUT:.0f} s: killed")
        if os.name == "posix":
            try:  # whatever is left of its group (a worker that outlived the master)
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        return self.proc.returncode


# --- the load generator ----------------------------------------------------------------------------------


@dataclass
class Result:
    case: str
    clients: int
    requests: int = 0  # answered as expected
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)  # ms, of the expected answers
    error_samples: dict[str, int] = field(default_factory=dict)
    server_cpu: float | None = None  # server CPU seconds during the run
    database_cpu: float | None = None  # the database's backends' CPU seconds during the run (same machine)
    worker_share: list[float] = field(default_factory=list)  # each server process's part of that CPU
    client_cpu: float = 0.0
    load_before: str = ""
    load_after: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    def per_request(self, seconds: float | None) -> float | None:
        """CPU ms per request answered (or failed)."""
        done = self.requests + self.errors
        return seconds * 1000 / done if seconds is not None and done else None

    @property
    def cpu_per_request(self) -> float | None:
        return self.per_request(self.server_cpu)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """One HTTP/1.1 answer read to its end: (status, connection kept open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, keep = None, False, True
    for line in lines[1:]:
        name, _sep, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            keep = b"close" not in value
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
                    pass
                break
            await reader.readexactly(size + 2)
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        keep = False
    return status, keep


async def _run(host: str, port: int, make: Callable[[int, int], bytes], expect: int, clients: int, total: int,
               seconds: float, warmup: int, result: Result) -> None:
    connections: list[tuple | None] = [None] * clients
    issued = 0
    deadline = 0.0

    async def send(slot: int, raw: bytes) -> tuple[int, bool, float]:
        conn = connections[slot]
        reused = conn is not None
        if conn is None:
            conn = connections[slot] = await asyncio.wait_for(asyncio.open_connection(host, port), REQUEST_TIMEOUT)
        reader, writer = conn
        started = time.perf_counter()
        try:
            writer.write(raw)
            status, keep = await asyncio.wait_for(_read_answer(reader), REQUEST_TIMEOUT)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            # The server closed the idle kept-alive connection as the request went out (nothing of an answer
            # came back): what every HTTP client does, once more on a new connection.
            _close(slot)
            return await send(slot, raw)
        return status, keep, (time.perf_counter() - started) * 1000

    async def one(slot: int, n: int, measured: bool) -> None:
        try:
            status, keep, took = await send(slot, make(n, slot))
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ValueError, IndexError) as exc:
            _close(slot)
            if measured:
                result.errors += 1
                key = type(exc).__name__
                result.error_samples[key] = result.error_samples.get(key, 0) + 1
            return
        if not keep:
            _close(slot)
        if not measured:
            return
        if status == expect:
            result.requests += 1
            result.latencies.append(took)
        else:
            result.errors += 1
            result.error_samples[str(status)] = result.error_samples.get(str(status), 0) + 1

    def _close(slot: int) -> None:
        conn = connections[slot]
        connections[slot] = None
        if conn is not None:
            conn[1].close()

    async def client(slot: int, measured: bool, count: int | None) -> None:
        nonlocal issued
        done = 0
        while True:
            if measured:
                if issued >= total or time.perf_counter() >= deadline:
                    return
                n = issued
                issued += 1
            else:
                if done >= count:
                    return
                n = -1 - slot * warmup - done
            done += 1
            await one(slot, n, measured)

    # Warm-up: every client connects and sends a few requests first (not counted).
    await asyncio.gather(*(client(slot, False, warmup) for slot in range(clients)))
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(client(slot, True, None) for slot in range(clients)))
    result.seconds = time.perf_counter() - started
    for slot in range(clients):
        _close(slot)


def _run_loop(coroutine) -> None:
    """Run the clients' event loop; in a thread of its own when this thread already runs one (a caller such as
    Playwright's sync API keeps a loop running), since asyncio allows one running loop per thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    failure: list[BaseException] = []

    def run():
        try:
            asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name="gongzhi-load-clients")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def generate(host: str, port: int, case: str, make: Callable[[int, int], bytes], expect: int, *, clients: int,
             total: int, seconds: float, warmup: int = 2, server: Server | None = None) -> Result:
    """Send ``total`` requests (at most ``seconds`` long) from ``clients`` concurrent keep-alive connections;
    ``make(n, client)`` is the n-th request's bytes (negative n: warm-up)."""
    result = Result(case, clients, load_before=machine_load())
    cpu_before = server.cpu_seconds() if server else {}
    own_before = os.times()
    with DatabaseCpu() as database:
        _run_loop(_run(host, port, make, expect, clients, total, seconds, warmup, result))
    own_after = os.times()
    result.database_cpu = database.seconds
    result.client_cpu = (own_after.user + own_after.system) - (own_before.user + own_before.system)
    result.load_after = machine_load()
    if server is not None and cpu_before:
        after = server.cpu_seconds()
        used = {pid: after[pid] - cpu_before.get(pid, 0.0) for pid in after}
        result.server_cpu = sum(used.values())
        if result.server_cpu:
            result.worker_share = sorted((u / result.server_cpu for u in used.values()), reverse=True)
    return result


# --- the requests ----------------------------------------------------------------------------------------


def _request(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept-Language: zh-hans", "User-Agent: gongzhi-bench-load"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Identities:
    """Who the clients are: sessions and tokens of the bench users, the places and people to file for."""

    sessions: list[str]
    tokens: list[str]
    filer_token: str
    reporters: list[int]
    category: str
    made_tokens: list = field(default_factory=list)
    since: object = None


def identities(root, log) -> Identities:
    """The appeals benchmark's users (as ``gongzhi bench appeals`` makes them) under the benchmark root."""
    from gongzhi.core.access import Role
    from gongzhi.core.scoping import under
    from gongzhi.orgs.models import NodeKind, OrgNode

    from .registry import _user

    town = OrgNode.objects.filter(under(root.path, "path"), kind=NodeKind.SUBDISTRICT).order_by("path").first()
    community = OrgNode.objects.filter(under(town.path, "path"), kind=NodeKind.COMMUNITY).order_by("path")[3]
    grid = OrgNode.objects.filter(under(community.path, "path"), kind=NodeKind.GRID).order_by("path")[2]
    users = [_user("bench_county", Role.COUNTY_ADMIN, root), _user("bench_town", Role.SUBDISTRICT_STAFF, town),
             _user("bench_grid", Role.GRID_WORKER, grid)]
    return identities_for(users, grid, log)


def identities_for(users: list, grid, log) -> Identities:
    """Sessions and API tokens for ``users`` (the clients of the list cases take turns as them); the last one,
    a grid worker at ``grid``, files for the grid's residents."""
    from django.test import Client

    from gongzhi.accounts.actions import token_create
    from gongzhi.appeals.defaults import leaf_codes
    from gongzhi.appeals.models import Category
    from gongzhi.core.scoping import under
    from gongzhi.orgs.models import Resident

    since = timezone.now()
    sessions, tokens, made = [], [], []
    for user in users:
        client = Client()
        client.force_login(user)  # a session as the login page makes it, without the (throttled) form
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
        token, raw = token_create(user=user, name="gongzhi bench load")
        made.append((token, user))
        tokens.append(raw)
    reporters = list(Resident.objects.filter(under(grid.path)).order_by("id").values_list("id", flat=True)[:200])
    category = "garbage" if Category.objects.filter(code="garbage").exists() else leaf_codes()[0]
    log(f"users: {', '.join(u.username for u in users)} (sessions and API tokens made; {users[-1].username} files "
        f"for {len(reporters)} residents of {grid.name}, category {category})")
    return Identities(sessions, tokens, tokens[-1], reporters, category, made, since)


def requests_for(ids: Identities, host_header: str) -> dict[str, tuple[Callable[[int, int], bytes], int]]:
    from .appeals import MARK

    cookie = settings.SESSION_COOKIE_NAME
    pages = [_request("GET", "/appeals/", host_header, {"Cookie": f"{cookie}={s}"}) for s in ids.sessions]
    lists = [_request("GET", "/api/v1/appeals?limit=25", host_header, {"Authorization": f"Bearer {t}"})
             for t in ids.tokens]

    def file(n: int, slot: int) -> bytes:
        body = json.dumps({
            "category": ids.category, "title": f"{MARK}压测", "description": f"{MARK}：楼下垃圾桶满了没人清运（{n}）",
            "channel": "visit", "reporter_id": ids.reporters[n % len(ids.reporters)],
        }, ensure_ascii=False).encode()
        return _request("POST", "/api/v1/appeals", host_header,
                        {"Authorization": f"Bearer {ids.filer_token}", "Content-Type": "application/json"}, body)

    return {
        "page": (lambda n, slot: pages[slot % len(pages)], 200),
        "api": (lambda n, slot: lists[slot % len(lists)], 200),
        "file": (file, 201),
    }


def cleanup(ids: Identities | None, log) -> None:
    """Remove what the run made: its filed appeals (and their roll-up counts), the tasks they queued, the
    sessions and the tokens."""
    from django.contrib.sessions.models import Session

    from gongzhi.accounts.actions import token_revoke

    from .appeals import _remove_filed

    _remove_filed(log)
    if ids is None:
        return
    try:
        from django_tasks_db.models import DBTaskResult

        gone, _kinds = DBTaskResult.objects.filter(enqueued_at__gte=ids.since).delete()
        log(f"removed the {gone} tasks queued while measuring")
    except ImportError:  # another task backend
        pass
    Session.objects.filter(session_key__in=ids.sessions).delete()
    for token, user in ids.made_tokens:
        token_revoke(token=token, by=user)


# --- where the time goes ---------------------------------------------------------------------------------


def _environ(raw: bytes) -> dict:
    """The WSGI environ gunicorn would hand Django for these request bytes."""

    head, _sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ")
    path, _q, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    for line in lines[1:]:
        name, _c, value = line.partition(":")
        key = name.strip().upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value.strip()
        else:
            environ["HTTP_" + key] = value.strip()
    return environ


def _spots() -> list[tuple[str, object]]:
    """Functions whose time (with what they call) says where a request's time goes: Django's and ninja's by
    their code, Gongzhi's by file and name (the benchmarks read no app's private names)."""
    from django.contrib import auth
    from django.contrib.sessions.backends.base import SessionBase
    from django.db.backends.utils import CursorWrapper
    from django.db.models.query import QuerySet
    from django.template.base import Template
    from django.urls import reverse

    spots = [
        ("SQL: executing statements (incl. waiting for the database)", CursorWrapper._execute),
        ("ORM: running querysets (compiling SQL, rows, model instances)", QuerySet._fetch_all),
        ("session: loading", SessionBase._get_session),
        ("user with roles: loading (auth.get_user)", auth.get_user),
        ("templates: rendering", Template.render),
        ("URLs: reverse() (links in the page)", reverse),
        ("filing: the action (appeals.actions.appeal_file)", ("/appeals/actions/", "appeal_file")),
        ("filing: audit.record", ("/core/audit.py", "record")),
        ("API: the answer's detail (the appeal with its timeline and allowed actions)", ("/appeals/api.py", "_detail")),
    ]
    try:
        from ninja.operation import Operation

        spots.append(("API: the ninja operation (auth, view, validation, serialisation)", Operation.run))
    except ImportError:
        pass
    return spots


def _spot_time(stats: dict, spot) -> float:
    if isinstance(spot, tuple):
        fragment, name = spot
        return sum(ct for (filename, _line, fn), (_cc, _nc, _tt, ct, _c) in stats.items()
                   if fn == name and fragment in filename.replace("\\", "/"))
    code = getattr(spot, "__code__", None)
    if code is None:
        return 0.0
    entry = stats.get((code.co_filename, code.co_firstlineno, code.co_name))
    return entry[3] if entry else 0.0


def profile(ids: Identities, cases: list[str], count: int, log) -> str:
    """``count`` requests of each case through Django's WSGI application in this process, under cProfile: one
    worker's work without the network or the other clients. Returns the summary (also logged)."""
    import cProfile
    import pstats

    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    made = requests_for(ids, "127.0.0.1:8000")
    out = []

    def call(environ, expect):
        status = []
        answer = app(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        if not status[0].startswith(str(expect)):
            raise CommandError(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} answered {status[0]}")

    for case in cases:
        make, expect = made[case]
        for n in range(3):
            call(_environ(make(-1 - n, n)), expect)
        environs = [_environ(make(n, n)) for n in range(count)]
        plain = time.perf_counter()
        for environ in environs[: count // 2]:
            call(environ, expect)
        plain = (time.perf_counter() - plain) * 1000 / max(1, count // 2)
        environs = [_environ(make(count + n, n)) for n in range(count)]
        prof = cProfile.Profile()
        started = time.perf_counter()
        prof.enable()
        for environ in environs:
            call(environ, expect)
        prof.disable()
        wall = (time.perf_counter() - started) * 1000 / count
        stats = pstats.Stats(prof)
        lines = [f"#### Where the time goes: {CASES[case]}, {count} requests in one process",
                 "", f"{plain:.1f} ms per request without the profiler, {wall:.1f} ms under it; "
                 "time with what each calls, per request under the profiler (the rows overlap: the ORM's "
                 "includes its SQL, the ninja operation all of an API request):", "",
                 "| part | ms per request | share |", "| --- | ---: | ---: |"]
        for label, spot in _spots():
            ct = _spot_time(stats.stats, spot)
            if ct:
                lines.append(f"| {label} | {ct * 1000 / count:.2f} | {ct * 1000 / count / wall:.0%} |")
        buffer = io.StringIO()
        pstats.Stats(prof, stream=buffer).sort_stats("tottime").print_stats(12)
        trim = re.compile(r"\S*/(?:site-packages|src)/")  # file names from the package on
        top = [trim.sub("", line) for line in buffer.getvalue().splitlines() if line.strip()][-13:]
        lines += ["", "Own time, the 12 largest (cProfile):", "", "```", *top, "```", ""]
        text = "\n".join(lines)
        log(text)
        out.append(text)
    return "\n".join(out)


# --- the report ------------------------------------------------------------------------------------------


def _fmt(x: float | None, digits: int = 0) -> str:
    return "" if x is None or x != x else f"{x:,.{digits}f}"


def report(results: list[Result], *, setup: str, data: str, started_load: str, ended_load: str) -> str:
    cores = cpu_count()
    lines = [
        f"### Under load, {timezone.localdate()}: {setup}" + (f"; {data}" if data else ""),
        "",
        f"`gongzhi bench load`: {connection.vendor}, DEBUG off, keep-alive HTTP/1.1 clients from one asyncio process "
        f"on the same machine. **The clients share the {cores} cores with the server and the database.** "
        f"Machine load (1/5/15 min) before: {started_load}, after: {ended_load}.",
        "",
        "| case | clients | requests | errors | requests/s | p50 ms | p95 ms | p99 ms | target | CPU ms per request: "
        "server / database / clients | load before |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for r in results:
        rate, p99 = TARGETS[r.case]
        reached = r.rate >= rate and r.percentile(99) < p99 and not r.errors
        target = f"{rate}/s, p99 < {p99:.0f} ms" + ("" if reached else " **not reached**")
        errors = str(r.errors) + (f" ({', '.join(f'{k}: {v}' for k, v in r.error_samples.items())})"
                                  if r.error_samples else "")
        lines.append(
            f"| {CASES[r.case]} | {r.clients} | {r.requests:,} | {errors} | {_fmt(r.rate, 1)} | "
            f"{_fmt(r.percentile(50), 1)} | {_fmt(r.percentile(95), 1)} | {_fmt(r.percentile(99), 1)} | {target} | "
            f"{_fmt(r.cpu_per_request, 1) or 'n/a'} / {_fmt(r.per_request(r.database_cpu), 1) or 'n/a'} / "
            f"{_fmt(r.per_request(r.client_cpu), 1)} | {r.load_before} |")
    shares = [r for r in results if r.worker_share]
    if shares:
        lines += ["", "Server CPU per process (master and workers), share of the server's CPU in each run: "
                  + "; ".join(f"{r.case}@{r.clients}: " + "/".join(f"{s:.0%}" for s in r.worker_share) for r in shares)
                  + f". The load generator itself used {_fmt(sum(r.client_cpu for r in results), 1)} CPU s in all."]
    return "\n".join(lines)


# --- the suite -------------------------------------------------------------------------------------------


def _levels(text: str) -> list[int]:
    try:
        levels = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        levels = []
    if not levels or any(not 1 <= n <= MAX_CLIENTS for n in levels):
        raise CommandError(f"--clients takes numbers from 1 to {MAX_CLIENTS}, separated by commas (e.g. 16,64).")
    return levels


def run(*, host: str = "127.0.0.1", port: int = 0, clients: str = "16,64", requests: int = 3000,
        seconds: float = 30.0, cases: str = "page,api,file", warmup: int = 2, workers: int | None = None,
        threads: int | None = None, appeals: int = 1_000_000, residents: int = 1_000_000,
        markdown: str | None = None, profile_requests: int = 0, log=print) -> dict:
    from gongzhi.appeals.models import Appeal
    from gongzhi.core.scoping import under

    from . import appeals_data

    host = check_host(host)
    levels = _levels(clients)
    chosen = _cases(cases)
    _bounds(requests, seconds, warmup)
    if not 0 <= profile_requests <= 10_000:
        raise CommandError("--profile must be from 0 to 10,000.")
    root = appeals_data.bench_root()
    if root is None or not Appeal.objects.filter(under(root.path)).exists():
        log(f"building {appeals:,} appeals over {residents:,} residents (once) ...")
        appeals_data.build(appeals=appeals, residents=residents, log=log)
        root = appeals_data.bench_root()
    size = Appeal.objects.filter(under(root.path)).count()
    return measure(lambda: identities(root, log), host=host, port=port, levels=levels, cases=chosen,
                   requests=requests, seconds=seconds, warmup=warmup, workers=workers, threads=threads,
                   data=f"{size:,} appeals", markdown=markdown, profile_requests=profile_requests, log=log)


def _cases(text: str) -> list[str]:
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    if not chosen or any(c not in CASES for c in chosen):
        raise CommandError(f"--cases takes some of {', '.join(CASES)}, separated by commas.")
    return chosen


def _bounds(requests: int, seconds: float, warmup: int) -> None:
    if not 1 <= requests <= MAX_REQUESTS:
        raise CommandError(f"--requests must be from 1 to {MAX_REQUESTS:,}.")
    if not 0 < seconds <= MAX_SECONDS:
        raise CommandError(f"--seconds must be above 0 and at most {MAX_SECONDS:.0f}.")
    if not 0 <= warmup <= 100:
        raise CommandError("--warmup must be from 0 to 100.")


def measure(make_identities: Callable[[], Identities], *, host: str = "127.0.0.1", port: int = 0,
            levels: list[int], cases: list[str], requests: int, seconds: float, warmup: int = 2,
            workers: int | None = None, threads: int | None = None, data: str = "", markdown: str | None = None,
            profile_requests: int = 0, log=print) -> dict:
    """Start the server, run each case at each number of clients, stop the server and remove what was made
    (whatever happens: an error, Ctrl-C, SIGTERM); then the report."""
    from gongzhi.core.management.commands import serve

    host = check_host(host)
    port = port or free_port(host)
    ids, server, results, profiled = None, None, [], ""
    if serve.gunicorn_available():
        setup = (f"`gongzhi serve`: gunicorn, {workers or serve.cpu_count()} worker processes with "
                 f"{threads or serve.THREADS_PER_WORKER} threads each")
    else:
        setup = f"`gongzhi serve`: waitress, one process with {(workers or 1) * (threads or serve.THREADS_PER_WORKER)} threads"
    started_load = machine_load()

    def stop():
        if server is not None and server.proc.returncode is None:
            log(f"gongzhi serve stopped (exit code {server.stop()})")

    with serve.stop_signals():  # SIGTERM or SIGHUP: the clean-up below runs too
        try:
            ids = make_identities()
            connection.close()  # the server's workers need the database's connections more than we do
            server = Server(host, port, workers=workers, threads=threads, log=log)
            took = server.wait_ready()
            log(f"gongzhi serve answers at {server.base}/ after {took:.1f} s: {setup}")
            log(f"the clients share this machine's {cpu_count()} cores with the server and the database; "
                f"machine load {machine_load()}")
            made = requests_for(ids, f"{host}:{port}" if ":" not in host else f"[{host}]:{port}")
            for case in cases:
                make, expect = made[case]
                for level in levels:
                    result = generate(host, port, case, make, expect, clients=level, total=requests,
                                      seconds=seconds, warmup=warmup, server=server)
                    results.append(result)
                    rate, p99 = TARGETS[case]
                    log(f"{CASES[case]:58s} {level:3d} clients: {result.rate:7.1f}/s (target {rate})  p50 "
                        f"{result.percentile(50):6.1f}  p95 {result.percentile(95):6.1f}  p99 "
                        f"{result.percentile(99):6.1f} ms (target < {p99:.0f})  {result.errors} errors  "
                        f"{result.requests} in {result.seconds:.1f} s  CPU ms/request server "
                        f"{_fmt(result.cpu_per_request, 1)} database {_fmt(result.per_request(result.database_cpu), 1)}"
                        f" clients {_fmt(result.per_request(result.client_cpu), 1)}  load {result.load_before}")
            stop()
            if profile_requests:
                profiled = profile(ids, cases, profile_requests, log)
        except KeyboardInterrupt:
            log("interrupted: stopping the server")
        finally:
            stop()
            cleanup(ids, log)
    text = report(results, setup=setup, data=data, started_load=started_load, ended_load=machine_load())
    if profiled:
        text += "\n\n" + profiled
    log(text)
    if markdown and results:
        with open(markdown, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return {"results": results, "report": text, "server": server}


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to serve on (default 127.0.0.1; "
                        "no other host is accepted)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--clients", default="16,64", help="numbers of concurrent clients, comma-separated "
                        "(default 16,64)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per case and number of clients "
                        "(default 3,000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time cap per case and number of clients "
                        "(default 30)")
    parser.add_argument("--cases", default="page,api,file", help="which of page, api, file (default all)")
    parser.add_argument("--warmup", type=int, default=2, help="requests each client sends first, not counted (default 2)")
    parser.add_argument("--workers", type=int, help="gongzhi serve --workers (default: its own, one per CPU)")
    parser.add_argument("--threads", type=int, help="gongzhi serve --threads (default: its own)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="then profile N requests of each case in this process (one worker's work, no network) "
                        "and show where the time goes")
    parser.add_argument("--residents", type=int, default=1_000_000, help="registry size to build when missing")
    parser.add_argument("--appeals", type=int, default=1_000_000, help="appeals to build when missing")


def main(opts: dict, log) -> dict:
    """``gongzhi bench load``: the production server under 16 and 64 concurrent clients (list page, API list,
    filing); loopback only. ``--runs`` does not apply."""
    check_host(opts["host"])  # before anything touches the database
    return run(host=opts["host"], port=opts["port"], clients=opts["clients"], requests=opts["requests"],
               seconds=opts["seconds"], cases=opts["cases"], warmup=opts["warmup"], workers=opts["workers"],
               threads=opts["threads"], appeals=opts["appeals"], residents=opts["residents"],
               markdown=opts["markdown"], profile_requests=opts["profile"], log=log)
