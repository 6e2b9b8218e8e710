"""``gongzhi bench load`` at a tiny size: it serves the test database with ``gongzhi serve``, sends each kind of
request from a few concurrent clients, reports the figures beside the targets, stops the server and removes
what it made; and it never runs against anything but this machine's loopback interface."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from gongzhi.accounts.models import ApiToken
from gongzhi.appeals.models import Appeal
from gongzhi.bench import load
from gongzhi.bench.appeals import MARK
from gongzhi.core.access import Role

from .appeals_factories import make_categories


@pytest.mark.parametrize("host", ["10.0.0.8", "0.0.0.0", "::", "localhost", "gongzhi.example.gov.cn"])
def test_refuses_any_host_but_loopback(host):
    with pytest.raises(CommandError, match="loopback"):
        call_command("bench", "load", "--host", host, "--allow-sqlite")
    with pytest.raises(CommandError, match="loopback"):
        load.measure(lambda: pytest.fail("nothing may start"), host=host, levels=[1], cases=["api"], requests=1,
                     seconds=1)


@pytest.mark.parametrize("option, value", [("--clients", "0"), ("--clients", "16,9999"), ("--cases", "page,delete"),
                                           ("--requests", "0"), ("--seconds", "0")])
def test_refuses_unbounded_runs(option, value):
    with pytest.raises(CommandError):
        call_command("bench", "load", option, value, "--allow-sqlite")


@pytest.mark.django_db(transaction=True)  # the server reads what this test wrote, from another process
def test_load_suite_at_a_tiny_size(tree, tmp_path):
    make_categories()
    users = [tree.users[Role.COUNTY_ADMIN], tree.users[Role.SUBDISTRICT_STAFF], tree.users[Role.GRID_WORKER]]
    report, lines = tmp_path / "load.md", []
    out = load.measure(lambda: load.identities_for(users, tree.grid_a1, lines.append), levels=[1, 3],
                       cases=["page", "api", "file"], requests=6, seconds=30, warmup=1, workers=1, threads=2,
                       data="the test tree", markdown=str(report), profile_requests=2, log=lines.append)

    results = out["results"]
    assert [(r.case, r.clients) for r in results] == [
        ("page", 1), ("page", 3), ("api", 1), ("api", 3), ("file", 1), ("file", 3)]
    for r in results:
        assert (r.requests, r.errors, r.error_samples) == (6, 0, {}), r
        assert r.rate > 0 and 0 < r.percentile(50) <= r.percentile(95) <= r.percentile(99)
        assert r.server_cpu is not None and r.load_before
    text = report.read_text()
    assert text.startswith("### Under load, ") and "`gongzhi serve`: gunicorn, 1 worker processes with 2 threads each" in text
    assert "share the" in text and "the test tree" in text
    rows = [line for line in text.splitlines() if line.startswith(tuple(f"| {c} |" for c in load.CASES.values()))]
    assert len(rows) == 6
    assert all(row.count("|") == 12 for row in rows)
    assert sum("500/s, p99 < 100 ms" in row for row in rows) == 4 and sum("300/s, p99 < 100 ms" in row for row in rows) == 2
    assert "| staff appeal list page (GET /appeals/, session) | 3 | 6 | 0 |" in text
    for case in load.CASES.values():  # and where one worker's time goes, profiled in this process
        assert f"#### Where the time goes: {case}, 2 requests in one process" in text
    assert "| SQL: executing statements (incl. waiting for the database) |" in text

    # The server is stopped, and what the run made is gone: filed appeals, sessions, tokens.
    server = out["server"]
    assert server.proc.returncode == 0
    with pytest.raises(OSError):
        urllib.request.urlopen(server.base + "/healthz", timeout=2)
    assert not Appeal.objects.filter(title__startswith=MARK).exists()
    assert not ApiToken.objects.filter(name="gongzhi bench load", revoked_at=None).exists()
    assert any("stopped (exit code 0)" in line for line in lines)


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_server_ends_when_the_benchmark_is_killed(tmp_path):
    """A benchmark killed outright (SIGKILL, a CI timeout) leaves no server behind: the server's process is
    started with ``_die_with_parent``, so it is sent SIGTERM when its parent dies."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "from gongzhi.bench.load import _die_with_parent\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], preexec_fn=_die_with_parent)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # a dead child not yet reaped by init still answers; /proc tells a zombie apart
        state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{child}").exists() else "Z"
        if state == "Z":
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the server outlived the benchmark that started it")
