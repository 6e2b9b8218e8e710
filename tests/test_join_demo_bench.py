"""The joining demo part (printed codes and waiting requests in the demo grid worker's grid) and the accounts
benchmark at a tiny size, so neither can rot."""

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts import demo_join, selectors
from gongzhi.accounts.models import JoinCode, JoinRequest, User
from gongzhi.orgs.demo import generate
from gongzhi.orgs.models import OrgNode, Resident


def test_demo_grid_has_printed_codes_and_waiting_requests(db):
    generate(seed=7, scale=0.02, today=timezone.localdate())
    demo_join.load_demo(seed=7, scale=0.02, say=lambda _m: None)
    wangge = User.objects.get(username="wangge")
    codes = JoinCode.objects.filter(created_by=wangge)
    assert codes.count() >= 1 and all(c.status == "active" for c in codes)
    waiting = selectors.pending_join_requests(wangge)
    assert waiting.count() == 3 and waiting.filter(code__isnull=True).count() == 1
    jumin = User.objects.get(username="jumin")
    assert Resident.objects.filter(user=jumin).exists()
    demo_join.load_demo(seed=7, scale=0.02, say=lambda _m: None)  # a restarted demo adds nothing
    assert JoinRequest.objects.count() == 3
    client = Client()
    client.force_login(wangge)
    assert client.get(reverse("join:requests")).status_code == 200
    assert "3" in client.get(reverse("join:badge"), {"card": "1"}).content.decode()
    code = codes.first()
    assert client.get(reverse("join:code_print", args=[code.pk])).status_code == 200


def test_accounts_bench_runs_at_a_tiny_size(db, tmp_path):
    report = tmp_path / "bench.md"
    log = tmp_path / "accounts.log"
    call_command("bench", "accounts", "--runs", "5", "--allow-sqlite", "--markdown", str(report),
                 stdout=open(log, "w"))
    text = report.read_text()
    assert "| join, hashing aside |" in text and "| login, with the hasher |" in text
    assert "hasher: make_password" in text
    assert "target: join and login under 50 ms" in log.read_text()
    assert not OrgNode.objects.filter(code="BENCH-JOIN").exists()
    assert not User.objects.filter(username__startswith="19800").exists()
