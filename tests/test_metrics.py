"""The appeal figures on a hand-built set of appeals driven through the actions: every figure, rolled
up the tree, per handler, category and worker; incremental roll-up == rebuild == a direct count;
the metrics API's shape and scope."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from gongzhi.core.access import Role
from gongzhi.appeals import actions
from gongzhi.appeals.actions import loop as appeal_loop
from gongzhi.appeals.models import Appeal, Channel, Status
from gongzhi.core.scoping import under
from gongzhi.dashboards import rollups
from gongzhi.dashboards.metrics import dashboard_payload, metrics
from gongzhi.dashboards.models import COUNTERS, AppealFact, AppealRollup

from .appeals_factories import make_categories
from .factories import make_user

TZ = ZoneInfo("Asia/Shanghai")
D0, D1, D2 = dt.date(2025, 6, 10), dt.date(2025, 6, 11), dt.date(2025, 6, 12)  # Tue, Wed, Thu: working days


def at(day, hour, minute=0):
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@pytest.fixture
def loop(tree, monkeypatch, django_capture_on_commit_callbacks):
    """Runs an action at a given local time, then its after-commit listeners (the roll-up)."""
    clock = {"now": at(D1, 9)}
    monkeypatch.setattr(appeal_loop, "_now", lambda: clock["now"])

    def run(when, fn, **kwargs):
        clock["now"] = when
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run


@pytest.fixture
def story(tree, loop):
    """Eight appeals (seven filed in D1..D2, one the day before) in every state the figures care about.

    A1 on time all the way, closed, rated resolved + satisfied by the resident.
    A2 to a department, accepted late, resolved late, closed; callback: resolved, basically satisfied.
    A3 returned once, resolved, rated unsatisfied -> reopened, accepted again; still open.
    A4 voided.  A5 merged into A3.  A6 (other town, water) extended, supervised, resolved on time;
    callback: not resolved, unsatisfied (its policy does not reopen).  A7 filed, never dispatched.
    A8 filed on D0: outside the period.
    """
    cats = make_categories()
    water_policy = cats["water"].policy
    water_policy.reopen_on_unsatisfied = False
    water_policy.save()
    u = tree.users
    resident, staff, worker = u[Role.RESIDENT], u[Role.COMMUNITY_STAFF], u[Role.GRID_WORKER]
    dept, town, admin = u[Role.DEPARTMENT_HANDLER], u[Role.SUBDISTRICT_STAFF], u[Role.COUNTY_ADMIN]

    def file(when, by, **kw):
        args = dict(by=by, category=cats["garbage"], title="垃圾没人清", description="门口垃圾堆了三天没人清运",
                    channel=Channel.ONLINE, reporter=tree.resident_a, submitted_at=when)
        args.update(kw)
        return loop(when, actions.appeal_file, **args)

    a = {}
    a[1] = file(at(D1, 10), resident)
    loop(at(D1, 10, 30), actions.appeal_dispatch, appeal=a[1], by=staff, to_node=tree.grid_a1)
    loop(at(D1, 11), actions.appeal_accept, appeal=a[1], by=worker)
    loop(at(D2, 15), actions.appeal_resolve, appeal=a[1], by=worker, result="已清运")
    loop(at(D2, 16), actions.appeal_verify, appeal=a[1], by=staff)
    loop(at(D2, 16, 5), actions.appeal_close, appeal=a[1], by=staff)
    loop(at(D2, 17), actions.appeal_rate, appeal=a[1], by=resident, resolved=True, satisfaction="satisfied")

    a[2] = file(at(D1, 14), staff, reporter=tree.resident_a2, channel=Channel.WINDOW)
    loop(at(D1, 14, 10), actions.appeal_dispatch, appeal=a[2], by=staff, to_unit=tree.department)
    loop(at(D1, 17), actions.appeal_accept, appeal=a[2], by=dept)  # due 16:00
    loop(at(dt.date(2025, 6, 25), 10), actions.appeal_resolve, appeal=a[2], by=dept, result="已维修")  # due 6-20
    loop(at(dt.date(2025, 6, 25), 11), actions.appeal_verify, appeal=a[2], by=staff)
    loop(at(dt.date(2025, 6, 25), 12), actions.appeal_close, appeal=a[2], by=staff)
    loop(at(dt.date(2025, 6, 26), 10), actions.appeal_rate, appeal=a[2], by=staff, resolved=True, satisfaction="basic",
         callback=True)

    a[3] = file(at(D1, 15), resident)
    loop(at(D1, 15, 5), actions.appeal_dispatch, appeal=a[3], by=staff, to_node=tree.grid_a1)
    loop(at(D1, 15, 10), actions.appeal_return, appeal=a[3], by=worker, reason="需要社区协调")
    loop(at(D1, 15, 20), actions.appeal_dispatch, appeal=a[3], by=staff, to_node=tree.grid_a1)
    loop(at(D1, 15, 30), actions.appeal_accept, appeal=a[3], by=worker)
    loop(at(D1, 16), actions.appeal_resolve, appeal=a[3], by=worker, result="已处理")
    loop(at(D1, 17), actions.appeal_rate, appeal=a[3], by=resident, resolved=False, satisfaction="unsatisfied")
    a[3].refresh_from_db()
    loop(at(D2, 9, 30), actions.appeal_accept, appeal=a[3], by=worker)  # its response deadline passed long ago

    a[4] = file(at(D2, 10), resident)
    request = loop(at(D2, 10, 5), actions.void_request, appeal=a[4], by=staff, reason="重复提交")
    loop(at(D2, 10, 10), actions.void_decide, request=request, by=town, approve=True)

    a[5] = file(at(D2, 11), staff, reporter=tree.resident_a2, channel=Channel.WINDOW, node=tree.micro_a1,
                household=None)
    loop(at(D2, 11, 5), actions.appeal_merge, appeal=a[5], into=a[3], by=staff)

    a[6] = file(at(D2, 9), admin, category=cats["water"], reporter=tree.resident_b, channel=Channel.HOTLINE,
                attributes={"outage": "none"})
    loop(at(D2, 9, 10), actions.appeal_dispatch, appeal=a[6], by=admin, to_node=tree.grid_b1)
    loop(at(D2, 9, 20), actions.appeal_accept, appeal=a[6], by=admin)
    ext = loop(at(D2, 10), actions.extension_request, appeal=a[6], by=admin, days=2, reason="等待配件")
    loop(at(D2, 10, 30), actions.extension_decide, request=ext, by=admin, approve=True)
    loop(at(D2, 11), actions.appeal_supervise, appeal=a[6], by=admin, note="请尽快")
    loop(at(D2, 16), actions.appeal_resolve, appeal=a[6], by=admin, result="已恢复供水")
    loop(at(D2, 17), actions.appeal_rate, appeal=a[6], by=admin, resolved=False, satisfaction="unsatisfied",
         callback=True)

    a[7] = file(at(D1, 16), resident, category=cats["safety"], reporter_phone="13912345678")
    a[8] = file(at(D0, 10), resident)
    for appeal in a.values():
        appeal.refresh_from_db()
    return a


def county(tree, group=None, node=None, start=D1, end=D2):
    return metrics(user=tree.users[Role.COUNTY_ADMIN], node=node or tree.county, date_from=start, date_to=end,
                   group=group)


def test_the_story_went_as_told(story):
    s = {k: a.status for k, a in story.items()}
    assert s == {1: Status.CLOSED, 2: Status.CLOSED, 3: Status.ACCEPTED, 4: Status.VOIDED, 5: Status.MERGED,
                 6: Status.RESOLVED, 7: Status.SUBMITTED, 8: Status.SUBMITTED}
    assert story[3].reopen_count == 1 and story[3].return_count == 1
    # The first acceptance decides: accepting again after the reopen does not make it late.
    assert story[3].responded_on_time is True and story[2].responded_on_time is False


def test_every_figure_for_the_county(tree, story):
    f = county(tree)["figures"]
    assert {k: f[k] for k in ("filed", "voided", "merged", "valid", "open", "dispatched", "responded",
                              "responded_on_time", "resolved", "resolved_on_time", "closed", "rated",
                              "rated_resolved", "satisfied", "basic", "unsatisfied", "callback", "returned",
                              "reopened", "reworked", "returns", "reopens", "extended", "supervised")} == {
        "filed": 7, "voided": 1, "merged": 1, "valid": 5, "open": 3, "dispatched": 4, "responded": 4,
        "responded_on_time": 3, "resolved": 3, "resolved_on_time": 2, "closed": 2, "rated": 3, "rated_resolved": 2,
        "satisfied": 1, "basic": 1, "unsatisfied": 1, "callback": 2, "returned": 1, "reopened": 1, "reworked": 1,
        "returns": 1, "reopens": 1, "extended": 1, "supervised": 1,
    }
    assert f["response_rate"] == 0.75  # A1, A3, A6 of 4 dispatched
    assert f["resolution_rate"] == 0.6667  # A1, A2 of 3 rated
    assert f["satisfaction_rate"] == 0.6667  # satisfied A1 + basic A2 of 3 rated
    assert f["on_time_rate"] == 0.6667  # A1, A6 of 3 resolved
    assert f["closure_rate"] == 0.4  # A1, A2 of 5 valid
    assert f["rework_rate"] == 0.25  # A3 of 4 dispatched
    # Filing to resolution: A1 29 h, A2 332 h, A6 7 h; in office hours 10.5 h, 67.5 h, 5.5 h.
    assert f["avg_handling_hours"] == round((29 + 332 + 7) / 3, 2)
    assert f["avg_handling_work_hours"] == round((10.5 + 67.5 + 5.5) / 3, 2)


def test_period_is_by_filing_day_inclusive(tree, story):
    assert county(tree, start=D0, end=D0)["figures"]["filed"] == 1
    assert county(tree, start=D0, end=D2)["figures"]["filed"] == 8
    assert county(tree, start=D2, end=D2)["figures"]["filed"] == 3  # A4, A5, A6
    assert county(tree, start=D1, end=D1)["figures"]["response_rate"] == 0.6667  # A1, A3 of A1-A3
    empty = county(tree, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31))["figures"]
    assert empty["filed"] == 0 and empty["response_rate"] is None and empty["avg_handling_hours"] is None


def test_rolled_up_the_tree(tree, story):
    def filed(node):
        return county(tree, node=node)["figures"]["filed"]

    assert filed(tree.town_a) == filed(tree.comm_a) == 6 and filed(tree.town_b) == filed(tree.grid_b1) == 1
    assert filed(tree.grid_a1) == filed(tree.micro_a1) == 5 and filed(tree.grid_a2) == 1
    children = {g["name"]: g["figures"] for g in county(tree, "child")["groups"]}
    assert children["富林镇"]["filed"] == 6 and children["富林镇"]["resolved"] == 2
    assert children["九襄镇"]["on_time_rate"] == 1.0 and children["九襄镇"]["satisfaction_rate"] == 0.0
    grids = {g["name"]: g["figures"]["filed"] for g in county(tree, "child", node=tree.comm_a)["groups"]}
    assert grids == {"第一网格": 5, "第二网格": 1}


def test_by_handler_category_and_worker(tree, story):
    u = tree.users
    units = {g["key"]: g for g in county(tree, "unit")["groups"]}
    dept = units[f"u{tree.department.pk}"]
    assert dept["name"] == "县住建局" and dept["kind"] == "unit"
    assert dept["figures"]["response_rate"] == 0.0 and dept["figures"]["on_time_rate"] == 0.0
    # Seen from the county, the grids handling appeals count for their subdistricts ...
    assert {k: g["figures"]["filed"] for k, g in units.items()} == {
        f"n{tree.town_a.path}": 2, f"n{tree.town_b.path}": 1, f"u{tree.department.pk}": 1, "": 3}
    assert units[f"n{tree.town_a.path}"]["name"] == "富林镇"
    assert units[""]["figures"]["filed"] == 3  # A4 (voided), A5 (merged), A7: never dispatched
    # ... and seen from the community, each grid for itself.
    here = {g["key"]: g for g in county(tree, "unit", node=tree.comm_a)["groups"]}
    assert {k: g["figures"]["filed"] for k, g in here.items()} == {
        f"n{tree.grid_a1.path}": 2, f"u{tree.department.pk}": 1, "": 3}
    assert here[f"n{tree.grid_a1.path}"]["figures"]["response_rate"] == 1.0
    cats = {g["name"]: g["figures"]["filed"] for g in county(tree, "category")["groups"]}
    assert cats == {"环境卫生 / 垃圾清运": 5, "供水": 1, "安全隐患": 1}
    workers = {g["name"]: g["figures"] for g in county(tree, "worker")["groups"]}
    assert {k: v["responded"] for k, v in workers.items()} == {
        str(u[Role.GRID_WORKER]): 2, str(u[Role.DEPARTMENT_HANDLER]): 1, str(u[Role.COUNTY_ADMIN]): 1}
    assert workers[str(u[Role.GRID_WORKER])]["resolved"] == 1  # A3 is being handled again


def test_roll_ups_and_facts_give_the_same_figures(tree, story, monkeypatch):
    """Small nodes are summed from facts, large ones from roll-up rows: both ways agree everywhere."""
    nodes = [tree.county, tree.town_a, tree.town_b, tree.comm_a, tree.grid_a1, tree.grid_a2, tree.micro_a1]
    asked = [(n, g) for n in nodes for g in (None, "child", "unit", "category", "worker")]
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: at(dt.date(2025, 6, 20), 17))  # A7, A8 overdue; A3 due at 17:30

    def everything():
        out = [county(tree, g, node=n) for n, g in asked]
        for n in nodes:
            payload = dashboard_payload(user=tree.users[Role.COUNTY_ADMIN], node=n, date_from=D0, date_to=D2)
            out.append({k: v for k, v in payload.items() if k != "generated_at"})
        for item in out:
            item.get("groups", []).sort(key=lambda r: r["key"])
            item.get("handlers", []).sort(key=lambda r: r["key"])
        return out

    via_rollups = everything()
    assert via_rollups[-len(nodes)]["overdue"]["count"] == 2
    monkeypatch.setattr(rollups, "ROLLUP_DEPTH", 0)
    monkeypatch.setattr(rollups, "BREAKDOWN_DEPTH", 0)
    via_facts = everything()
    for i, (a, b) in enumerate(zip(via_rollups, via_facts)):
        assert a == b, asked[i] if i < len(asked) else nodes[i - len(asked)].name


def _rollup_rows():
    rollups.catch_up()
    rows = AppealRollup.objects.values_list("day", "node_path", "depth", "dim", "key", *COUNTERS)
    return sorted(r for r in rows if any(r[5:]))  # rows whose counts went back to zero are equal to none


def _facts():
    rollups.catch_up()
    return sorted(AppealFact.objects.values_list("appeal_id", "day", "place_path", "category_id", "handler_unit_id",
                                                 "handler_path", "worker_id", "due_at", *COUNTERS))


def test_incremental_equals_rebuild_equals_direct_count(tree, story):
    incremental, facts = _rollup_rows(), _facts()
    assert len(facts) == 8
    result = rollups.rollup_rebuild()
    assert result["appeals"] == 8
    assert _rollup_rows() == incremental
    assert _facts() == facts
    # A partial rebuild from D2 leaves the same again.
    rollups.rollup_rebuild(since=D2)
    assert _rollup_rows() == incremental

    # Straight from the appeals table, without the roll-ups' code: the town of A1-A5 and A7.
    start, end = at(D1, 0), at(D2 + dt.timedelta(days=1), 0)
    filed = Appeal.objects.filter(under(tree.town_a.path), submitted_at__gte=start, submitted_at__lt=end)
    valid = filed.exclude(status__in=[Status.VOIDED, Status.MERGED])
    f = county(tree, node=tree.town_a)["figures"]
    assert f["filed"] == filed.count() == 6
    assert f["valid"] == valid.count()
    assert f["dispatched"] == valid.filter(dispatched_at__isnull=False).count()
    assert f["responded_on_time"] == valid.filter(responded_on_time=True).count()
    assert f["resolved_on_time"] == valid.filter(resolved_at__isnull=False, resolved_on_time=True).count()
    assert f["rated"] == valid.filter(rated_at__isnull=False).count()
    assert f["satisfied"] + f["basic"] == valid.filter(satisfaction__in=["satisfied", "basic"]).count()
    assert f["closed"] == valid.filter(status=Status.CLOSED).count()


def test_listener_is_idempotent_and_follows_changes(tree, story):
    before = _rollup_rows()
    assert rollups.refresh(story[1].pk) is False  # nothing changed: nothing added
    assert _rollup_rows() == before
    # A change made behind the actions' back (as a bulk fix would) is picked up by the next refresh.
    Appeal.objects.filter(pk=story[7].pk).update(status=Status.VOIDED)
    assert rollups.refresh(story[7].pk) is True
    assert county(tree)["figures"]["voided"] == 2
    Appeal.objects.filter(pk=story[7].pk).delete()
    rollups.refresh(story[7].pk)
    assert county(tree)["figures"]["filed"] == 6
    assert not AppealFact.objects.filter(appeal_id=story[7].pk).exists()


def test_working_seconds_over_a_holiday_and_weekend(db):  # the admin calendar table is read first
    # 2025-09-30 (Tue) 16:00 to 2025-10-09 (Thu) 10:00: 国庆 1-8 Oct off, 9 Oct a working day
    # (and Sat 2025-09-28 a make-up working day, before the start). 1.5 h + 1 h.
    assert rollups.working_seconds(at(dt.date(2025, 9, 30), 16), at(dt.date(2025, 10, 9), 10)) == 2.5 * 3600
    # Friday 17:00 to Monday 9:30: half an hour on Friday, half an hour on Monday.
    assert rollups.working_seconds(at(dt.date(2025, 6, 13), 17), at(dt.date(2025, 6, 16), 9, 30)) == 3600


def test_scope_and_period_refusals(tree, story):
    town_b = make_user("jiuxiang", Role.SUBDISTRICT_STAFF, tree.town_b)
    with pytest.raises(Http404):
        metrics(user=town_b, node=tree.comm_a, date_from=D1, date_to=D2)
    with pytest.raises(Http404):
        metrics(user=tree.users[Role.DEPARTMENT_HANDLER], node=tree.county, date_from=D1, date_to=D2)
    assert metrics(user=town_b, node=tree.town_b, date_from=D1, date_to=D2)["figures"]["filed"] == 1
    with pytest.raises(ValidationError):
        county(tree, start=D2, end=D1)
    with pytest.raises(ValidationError):
        county(tree, start=dt.date(2020, 1, 1), end=D2)
    with pytest.raises(ValidationError):
        county(tree, group="street")


def test_dashboard_payload(tree, story, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: at(dt.date(2025, 7, 1), 9))
    p = dashboard_payload(user=tree.users[Role.COUNTY_ADMIN], node=tree.county, date_from=D1, date_to=D2)
    assert p["figures"] == county(tree)["figures"]
    assert p["trend"]["days"] == ["2025-06-11", "2025-06-12"] and p["trend"]["filed"] == [4, 3]
    assert [c["name"] for c in p["categories"]] == ["环境卫生", "供水", "安全隐患"]  # 垃圾清运 counts for its parent
    assert {c["name"]: c["filed"] for c in p["children"]} == {"富林镇": 6, "九襄镇": 1}
    heat = {h["name"]: h for h in p["heat"]}
    assert heat["富林镇"]["value"] == 6 and heat["富林镇"]["children"] == [
        {"id": tree.comm_a.pk, "name": "城东社区", "value": 6, "open": 2}]
    # Overdue now (1 July): A3 (accepted, due 20 June) and A7, A8 (never dispatched), whenever filed.
    assert p["overdue"]["count"] == 3
    assert [i["number"] for i in p["overdue"]["items"]] == [story[n].number for n in (7, 8, 3)]  # most overdue first
    assert p["overdue"]["items"][0]["url"] == f"/appeals/{story[7].pk}/"


# --- the API -------------------------------------------------------------------------------------

URL = "/api/v1/metrics/appeals"


def test_api_answers_the_same_figures(client, tree, story):
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    r = client.get(URL, {"node": tree.comm_a.pk, "from": "2025-06-11", "to": "2025-06-12", "group": "child"})
    assert r.status_code == 200, r.content
    body = r.json()
    expected = county(tree, "child", node=tree.comm_a)
    assert body["figures"] == expected["figures"] and body["figures"]["filed"] == 6
    assert {k: body["node"][k] for k in ("id", "name", "kind")} == {"id": tree.comm_a.pk, "name": "城东社区",
                                                                  "kind": "community"}
    assert body["date_from"] == "2025-06-11" and body["date_to"] == "2025-06-12" and body["group"] == "child"
    assert [(g["name"], g["figures"]["filed"]) for g in body["groups"]] == [("第一网格", 5), ("第二网格", 1)]
    # No node: the top of the user's area.
    r = client.get(URL, {"from": "2025-06-11", "to": "2025-06-12"})
    assert r.json()["node"]["id"] == tree.county.pk and r.json()["figures"]["response_rate"] == 0.75


def test_api_scope_and_errors(client, tree, story):
    r = client.get(URL, {"node": tree.county.pk})
    assert r.status_code == 401
    client.force_login(make_user("jiuxiang", Role.SUBDISTRICT_STAFF, tree.town_b))
    missing = client.get(URL, {"node": 999999})
    outside = client.get(URL, {"node": tree.comm_a.pk})
    assert missing.status_code == outside.status_code == 404 and missing.json() == outside.json()
    assert client.get(URL, {"node": tree.town_b.pk}).status_code == 200
    assert client.get(URL, {"node": tree.town_b.pk, "from": "2025-06-12", "to": "2025-06-11"}).status_code == 422
    assert client.get(URL, {"node": tree.town_b.pk, "group": "street"}).status_code == 422
    client.force_login(tree.users[Role.DEPARTMENT_HANDLER])  # handles appeals, sees no area's figures
    assert client.get(URL).status_code == 404


def test_actions_queue_and_figures_reads_catch_up(tree, story, loop):
    """An action writes a queue row in its own transaction and leaves the roll-ups alone; the next
    figures read applies it first, so the figures include every committed action."""
    from gongzhi.dashboards.models import RollupQueue

    def raw():
        return sorted(AppealRollup.objects.values_list("day", "node_path", "dim", "key", *COUNTERS))

    before = county(tree)["figures"]["closed"]
    assert not rollups.pending()
    rows = raw()
    a6 = Appeal.objects.get(pk=story[6].pk)
    loop(at(D2, 16), actions.appeal_verify, appeal=a6, by=tree.users[Role.COUNTY_ADMIN])
    loop(at(D2, 16, 5), actions.appeal_close, appeal=a6, by=tree.users[Role.COUNTY_ADMIN])
    assert list(RollupQueue.objects.values_list("appeal_id", flat=True)) == [a6.pk, a6.pk]
    assert raw() == rows  # the actions did not wait for the roll-ups
    assert county(tree)["figures"]["closed"] == before + 1  # the read caught up ...
    assert not rollups.pending()  # ... and emptied the queue


def test_a_figures_read_leaves_a_backlog_to_the_worker(tree, story, monkeypatch):
    """A burst of changes (more than a read applies) is the worker's: the read answers at once with the
    figures as they stand and says how many changes they do not include yet."""
    from gongzhi.dashboards import metrics as metrics_module

    rollups.catch_up()
    monkeypatch.setattr(metrics_module, "READ_CATCH_UP", 2)
    before = county(tree)
    assert before["waiting"] == 0
    for appeal in Appeal.objects.all()[:3]:
        rollups.on_appeal_changed(appeal.pk, "touch")
    queued = rollups.waiting(100)
    assert queued >= 3
    after = county(tree)
    assert after["waiting"] == 3 and rollups.waiting(100) == queued  # nothing applied by the read
    rollups.catch_up()  # the worker
    assert county(tree)["waiting"] == 0


def test_a_failed_action_queues_nothing(tree, story):
    rollups.catch_up()
    a1 = Appeal.objects.get(pk=story[1].pk)  # closed: cannot be dispatched
    with pytest.raises(ValidationError):
        actions.appeal_dispatch(appeal=a1, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    assert not rollups.pending()


def test_worker_catches_up_and_scheduler_enqueues_it(tree, story, settings):
    from django_tasks_db.models import DBTaskResult

    from gongzhi.dashboards.tasks import rollups_catch_up
    from gongzhi.core import scheduler

    rollups.catch_up()
    assert "rollups_catch_up" not in scheduler.tick()  # nothing queued: nothing enqueued
    Appeal.objects.filter(pk=story[7].pk).update(status=Status.VOIDED)  # as an action would, with its queue row
    rollups.on_appeal_changed(story[7].pk, "void_decide")
    assert "rollups_catch_up" in scheduler.tick()
    assert DBTaskResult.objects.filter(task_path__endswith="rollups_catch_up").count() == 1
    assert rollups_catch_up.call() == 1  # what the worker runs
    assert not rollups.pending()
    assert AppealFact.objects.get(appeal_id=story[7].pk).voided == 1


def test_rebuild_after_moving_a_community(tree, story, settings, django_capture_on_commit_callbacks):
    from gongzhi.appeals.selectors import appeals, to_dispatch
    from gongzhi.orgs.actions import orgnode_move

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    staff = tree.users[Role.COMMUNITY_STAFF]
    waiting = set(to_dispatch(staff).values_list("pk", flat=True))
    assert waiting
    with django_capture_on_commit_callbacks(execute=True):  # the move enqueues the rebuild (here: runs it)
        orgnode_move(node=tree.comm_a, new_parent=tree.town_b, by=tree.users[Role.COUNTY_ADMIN], reason="区划调整")
    tree.town_b.refresh_from_db()
    assert county(tree, node=tree.town_b)["figures"]["filed"] == 7
    assert county(tree, node=tree.town_a)["figures"]["filed"] == 0
    # The appeals' owner and handler paths followed: the community's staff keep their queue and
    # the subdistrict it left no longer sees its appeals.
    staff = type(staff).objects.get(pk=staff.pk)
    assert set(to_dispatch(staff).values_list("pk", flat=True)) == waiting
    old_town = type(staff).objects.get(pk=tree.users[Role.SUBDISTRICT_STAFF].pk)
    assert not appeals(old_town).filter(pk__in=waiting).exists()
    # and the listener carries on from there
    before = _rollup_rows()
    assert rollups.refresh(story[1].pk) is False and _rollup_rows() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_add_up():
    """Actions on four connections at once, all adding to the same roll-up rows, and two refreshes of
    one appeal racing each other: the roll-ups still equal the rebuild."""
    import threading

    from django.db import connections

    from .factories import build_tree

    tree = build_tree()
    cats = make_categories()
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeals = [
        actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title=f"路灯{i}",
                            description=f"小区路灯坏了{i}", channel=Channel.ONLINE, reporter=tree.resident_a)
        for i in range(8)
    ]
    barrier = threading.Barrier(4)
    failures = []

    def work(batch):
        try:
            barrier.wait(timeout=10)
            for appeal in batch:
                appeal = Appeal.objects.get(pk=appeal.pk)
                actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
                actions.appeal_accept(appeal=appeal, by=worker)
                rollups.refresh(appeals[0].pk)  # everyone refreshes A0 too
                rollups.catch_up()  # and drains the queue, racing the others
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(appeals[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    incremental = _rollup_rows()
    assert metrics(user=tree.users[Role.COUNTY_ADMIN], node=tree.county, date_from=None, date_to=None,
                   )["figures"]["responded"] == 8
    rollups.rollup_rebuild()
    assert _rollup_rows() == incremental
