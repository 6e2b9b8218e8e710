"""The ``gongzhi`` run commands: demo serves and runs tasks and stops both on Ctrl-C, a taken port fails,
serve runs a worker process per CPU and stops on SIGTERM and Ctrl-C, worker takes db_worker's options, createadmin refuses weak passwords."""

import builtins
import getpass
import http.cookiejar
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, load_command_class
from django_tasks import TaskResultStatus, task

from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.access import Role
from gongzhi.accounts.demo import DEMO_PASSWORD
from gongzhi.core.models import AuditEvent

PROBE_TASK = '''
from pathlib import Path

from django_tasks import task


@task()
def touch(path):
    Path(path).write_text("done")
'''


@task()
def double(value):
    return value * 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path) -> dict:
    """A fresh SQLite data folder whatever database the suite runs on; the probe task importable."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # The probe task importable, and the gongzhi under test first (a checkout's src/ on PYTHONPATH).
    path = os.pathsep.join([str(tmp_path)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.update(GONGZHI_DATA_DIR=str(tmp_path / "data"), GONGZHI_DEMO_SCALE="0.02", PYTHONPATH=path,
               PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="gongzhi.settings")
    return env


class _Output:
    """Collects a child's output lines in a thread so its pipe never fills."""

    def __init__(self, proc):
        self.lines = []
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _wait(predicate, timeout: float, what: str, output: _Output | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"; output:\n{output.text}" if output else ""))


def _get(url: str, opener=None):
    try:
        return (opener or urllib.request.build_opener()).open(url, timeout=5)
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _gongzhi(*args, tmp_path, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "gongzhi", *args], cwd=tmp_path, env=_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw,
    )


def test_demo_serves_runs_tasks_and_stops_both_on_ctrl_c(tmp_path):
    (tmp_path / "gz_cli_probe.py").write_text(PROBE_TASK)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _gongzhi("demo", "--port", str(port), tmp_path=tmp_path)
    out = _Output(proc)
    worker = None
    try:
        health = _wait(lambda: _get(base + "/healthz"), 90, "/healthz", out)
        assert health.status == 200 and b'"ok": true' in health.read()
        _wait(lambda: "jumin" in out.text, 10, "the accounts table", out)
        assert base + "/" in out.text and DEMO_PASSWORD in out.text
        for username in ("admin", "jiedao", "shequ", "wangge", "dangyuan", "jumin"):
            assert username in out.text
        assert (tmp_path / "data" / "gongzhi.sqlite3").exists()

        # The login page renders (static files too) and a demo account gets in.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = browser.open(base + "/accounts/login/", timeout=10).read().decode()
        assert 'name="username"' in page and 'name="password"' in page
        assert browser.open(base + "/static/gongzhi/app.css", timeout=10).status == 200
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        form = urllib.parse.urlencode({"username": "wangge", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": csrf})
        landed = browser.open(urllib.request.Request(base + "/accounts/login/", data=form.encode(),
                                                     headers={"Referer": base + "/accounts/login/"}), timeout=10)
        assert landed.status == 200 and "/accounts/login/" not in landed.geturl()

        # The worker is the demo's child and runs a task enqueued from another process.
        workers = _wait(lambda: _children(proc.pid), 10, "the worker process", out)
        assert len(workers) == 1
        worker = workers[0]
        assert b"worker" in Path(f"/proc/{worker}/cmdline").read_bytes()
        done = tmp_path / "task-done"
        enqueue = f"import gz_cli_probe; gz_cli_probe.touch.enqueue({str(done)!r})"
        subprocess.run([sys.executable, "-m", "gongzhi", "shell", "-c", enqueue], cwd=tmp_path, env=_env(tmp_path),
                       check=True, timeout=60, capture_output=True)
        _wait(done.exists, 20, "the worker to run the task", out)

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, out.text  # the worker gets 10 s to finish its task, then is killed
        assert not _alive(worker)
    finally:
        for pid in (proc.pid, worker):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=5)


def test_demo_reports_a_taken_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _gongzhi("demo", "--port", str(port), tmp_path=tmp_path)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert str(port) in output and "--port" in output
    assert not (tmp_path / "data" / "gongzhi.sqlite3").exists()  # it stopped before touching the database


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def test_serve_runs_a_worker_per_cpu_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    proc = _gongzhi("serve", "--port", str(port), "--threads", "2", tmp_path=tmp_path)
    out = _Output(proc)
    workers = []
    try:
        _wait(lambda: _get(f"http://127.0.0.1:{port}/healthz"), 60, "/healthz", out)
        # Every core serves: one worker process per CPU, each with the threads asked for.
        workers = _wait(lambda: len(_children(proc.pid)) == _cpus() and _children(proc.pid), 10, "the workers", out)
        assert f"http://127.0.0.1:{port}/" in out.text
        assert f"{_cpus()} " in out.text and " 2 " in out.text  # "N worker processes with 2 threads each."
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, out.text
        assert not [pid for pid in workers if _alive(pid)]
    finally:
        for pid in [proc.pid, *workers]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=5)


def test_serve_stops_on_ctrl_c(tmp_path):
    """Ctrl-C in a terminal reaches the whole foreground group: the master and every worker."""
    port = _free_port()
    proc = _gongzhi("serve", "--port", str(port), "--workers", "3", tmp_path=tmp_path, start_new_session=True)
    out = _Output(proc)
    workers = []
    try:
        _wait(lambda: _get(f"http://127.0.0.1:{port}/healthz"), 60, "/healthz", out)
        workers = _wait(lambda: len(_children(proc.pid)) == 3 and _children(proc.pid), 10, "three workers", out)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=10) == 0, out.text
        assert not [pid for pid in workers if _alive(pid)]
        assert _get(f"http://127.0.0.1:{port}/healthz") is None
    finally:
        for pid in [proc.pid, *workers]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _connections_of(pid: int, port: int) -> int:
    """Established TCP connections to ``port`` held by process ``pid`` (its socket inodes in /proc/net/tcp)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01" and fields[9] in inodes:
                held += 1
    return held


def test_serve_spreads_kept_alive_connections_over_the_workers(tmp_path):
    """Clients that connect at once and keep their connections (browsers, nginx's upstream keep-alive) are
    served by every worker, not all by whichever worker woke first."""
    port = _free_port()
    proc = _gongzhi("serve", "--port", str(port), "--workers", "2", tmp_path=tmp_path)
    out = _Output(proc)
    clients = []
    try:
        _wait(lambda: _get(f"http://127.0.0.1:{port}/healthz"), 60, "/healthz", out)
        workers = _wait(lambda: len(_children(proc.pid)) == 2 and _children(proc.pid), 10, "two workers", out)
        for _ in range(16):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        for client in clients:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for client in clients:
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
        held = [_connections_of(pid, port) for pid in workers]
        assert sum(held) == 16 and min(held) >= 2, held
    finally:
        for client in clients:
            client.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_reports_a_taken_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _gongzhi("serve", "--port", str(port), tmp_path=tmp_path)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert str(port) in output and "--port" in output and "Traceback" not in output


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks, as it should
def test_worker_takes_db_worker_options():
    result = double.enqueue(21)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:  # db_worker installs its own signal handlers; give pytest its own back
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == 42


@pytest.mark.parametrize(
    "name, option", [("demo", "--port"), ("serve", "--threads"), ("serve", "--workers"), ("worker", "--max-tasks"),
                     ("createadmin", "--username")]
)
def test_help_texts(name, option):
    from django.core.management import get_commands

    parser = load_command_class(get_commands()[name], name).create_parser("gongzhi", name)
    assert option in parser.format_help()


STRONG = "Guan-li-2025-strong"


def test_createadmin_script_mode(tree, monkeypatch):
    monkeypatch.delenv("GONGZHI_ADMIN_PASSWORD", raising=False)
    call_command("createadmin", "--username", "chief", "--password", STRONG, "--no-input")
    user = User.objects.get(username="chief")
    assert user.is_superuser and user.check_password(STRONG)
    assert RoleAssignment.objects.get(user=user).role == Role.COUNTY_ADMIN
    assert RoleAssignment.objects.get(user=user).node == tree.county
    assert AuditEvent.objects.filter(action="user.create_admin", object_id=str(user.pk)).exists()
    with pytest.raises(CommandError):  # the name is taken now
        call_command("createadmin", "--username", "chief", "--password", STRONG, "--no-input")


def test_createadmin_password_from_environment(db, monkeypatch):
    monkeypatch.setenv("GONGZHI_ADMIN_PASSWORD", STRONG)
    call_command("createadmin", "--username", "ops", "--no-input")
    assert User.objects.get(username="ops").check_password(STRONG)


@pytest.mark.parametrize("password", ["", "12345678901", "password123", "short1!"])
def test_createadmin_refuses_empty_and_weak_passwords(db, monkeypatch, password):
    monkeypatch.delenv("GONGZHI_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError):
        call_command("createadmin", "--username", "chief", "--password", password, "--no-input")
    assert not User.objects.filter(username="chief").exists()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_createadmin_prompts(db, monkeypatch):
    monkeypatch.delenv("GONGZHI_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", _Terminal())
    answers = iter(["chief", "县管理员"])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": STRONG)
    call_command("createadmin")
    user = User.objects.get(username="chief")
    assert user.display_name == "县管理员" and user.check_password(STRONG)
