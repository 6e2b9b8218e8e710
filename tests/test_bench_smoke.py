"""The benchmarks at a tiny size, so their code cannot rot: the appeal data builder and both bench suites."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from django.core.management import call_command

from gongzhi.accounts.models import User
from gongzhi.appeals import actions, routing
from gongzhi.appeals.models import Appeal, AppealEvent, Category, Channel, Status
from gongzhi.bench import appeals as bench_appeals
from gongzhi.bench import appeals_data
from gongzhi.orgs.models import OrgNode, Resident

NOW = dt.datetime(2026, 9, 16, 15, 40, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_appeal_data_builder(db):
    counts = appeals_data.build(appeals=600, residents=4000, now=NOW, log=lambda _m: None)
    appeals = Appeal.objects.select_related("category")
    assert counts["appeals"] == appeals.count() == 600
    assert AppealEvent.objects.count() == counts["events"] >= 3 * 600
    states = Counter(appeals.values_list("status", flat=True))
    assert states[Status.CLOSED] > 300
    open_ = states[Status.SUBMITTED] + states[Status.DISPATCHED] + states[Status.ACCEPTED] + states[Status.RESOLVED]
    assert 20 <= open_ <= 150 and states[Status.VOIDED] + states[Status.MERGED] > 0
    assert appeals.filter(due_state="overdue", status=Status.ACCEPTED).exists()
    assert len(set(appeals.values_list("number", flat=True))) == 600
    assert set(AppealEvent.objects.filter(kind="file").values_list("appeal_id", flat=True)) == set(
        appeals.values_list("id", flat=True))
    for a in appeals.order_by("id")[:50]:
        due = routing.deadlines(routing.policy_for(a.category), a.submitted_at)
        assert (a.response_due, a.resolve_due, a.due_soon_at) == (due.response_due, due.resolve_due, due.due_soon_at)
        assert a.submitted_at <= NOW
    # Ids continue after the bulk load (the PostgreSQL sequence was moved on) and the actions work on the rows.
    grid = OrgNode.objects.get_parent(appeals.first().node)
    worker = User.objects.get(username__startswith="bench-wg-", role_assignments__node=grid)
    reporter = Resident.objects.filter(household__grid=grid).first()
    filed = actions.appeal_file(by=worker, category=Category.objects.get(code="garbage"), title="垃圾",
                                description="楼下垃圾没人清运", channel=Channel.VISIT, reporter=reporter)
    assert filed.pk > max(appeals.exclude(pk=filed.pk).values_list("pk", flat=True))
    # --rebuild drops them all again, with whatever points at them.
    bench_appeals._drop(appeals_data.bench_root(), log=lambda _m: None)
    assert not Appeal.objects.exists() and not AppealEvent.objects.exists()


def test_bench_commands_run_at_a_tiny_size(db, tmp_path):
    report = tmp_path / "bench.md"
    call_command("bench", "registry", "--residents", "4000", "--runs", "1", "--import-rows", "30", "--allow-sqlite",
                 "--markdown", str(report), stdout=open(tmp_path / "registry.log", "w"))
    call_command("bench", "appeals", "--appeals", "2000", "--runs", "3", "--sweep-runs", "1", "--allow-sqlite",
                 "--markdown", str(report), stdout=open(tmp_path / "appeals.log", "w"))
    text = report.read_text()
    assert "### Registry benchmark" in text and "### Appeals benchmark" in text and "2,000 appeals" in text
    for case in ("file an appeal", "dispatch", "accept", "appeal list: subdistrict staff, no filter",
                 "page 201 (keyset)", "deadline sweep over all"):
        assert case in text, case
    assert "| appeal list: county admin, no filter |" in text and "25 rows" in text
    assert "the rates (metrics), county, 30 days" in text and "dashboard payload, county" in text
    for who in ("county admin", "subdistrict staff", "grid worker"):  # the API's list beside the page's
        assert f"| API appeal list (?limit=25, token): {who} |" in text, who
    assert "| base of any page, subdistrict staff: session and user with roles through the middleware" in text
    # The appeals the benchmark filed are gone again, so it can run twice on the same data.
    assert not Appeal.objects.filter(title__startswith="基准测试").exists()
    assert Appeal.objects.count() == 2000
