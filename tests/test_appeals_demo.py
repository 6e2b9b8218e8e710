"""The demo's appeals: default categories and routing, and six months of history that is complete (every
state, channel and category), deterministic, consistent (timeline, counters, deadlines, due states) and
leaves the demo accounts work to do."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.core.access import Role
from gongzhi.appeals import actions, policies, routing, selectors
from gongzhi.appeals import demo_texts as T
from gongzhi.appeals.defaults import ensure_default_categories, leaf_codes
from gongzhi.appeals.demo import generate_history, needs_history
from gongzhi.appeals.models import (
    Appeal,
    AppealRequest,
    Category,
    Channel,
    DueState,
    RoutingRule,
    Satisfaction,
    Status,
)
from gongzhi.core import workdays
from gongzhi.orgs.demo import DemoError, generate
from gongzhi.core.models import AuditEvent

TZ = ZoneInfo("Asia/Shanghai")
# A fixed "now" (a Wednesday afternoon) keeps the history the same on every run.
NOW = dt.datetime(2026, 9, 16, 15, 40, tzinfo=TZ)
SCALE = 0.02


@pytest.fixture
def county(db):
    generate(seed=3, scale=SCALE, today=NOW.date())
    return NOW


@pytest.fixture
def history(county):
    return generate_history(seed=5, scale=SCALE, now=NOW)


def _signature():
    return sorted(
        (a.submitted_at, a.title, a.status, a.due_state, a.category.code, a.channel, a.reporter_name, a.resolve_due,
         a.satisfaction, tuple(a.events.order_by("at", "id").values_list("kind", flat=True)))
        for a in Appeal.objects.select_related("category")
    )


# --- defaults ------------------------------------------------------------------------------------


def test_default_categories_are_idempotent_and_route_like_a_county(tree):
    first = ensure_default_categories(tree.county)
    assert first["categories"] == Category.objects.count() > 40 and first["policies"] == 4
    assert ensure_default_categories(tree.county) == {"policies": 0, "categories": 0, "rules": 0}
    cats = {c.code: c for c in Category.objects.all()}
    place = tree.micro_a1
    assert routing.route(place, cats["garbage"]).node == tree.grid_a1  # environment: the grid worker
    assert routing.route(place, cats["neighbour"]).node == tree.comm_a  # disputes: the community
    assert routing.route(place, cats["power"]).unit == tree.partner  # 县供电公司, a partner unit
    assert routing.route(place, cats["leak"]).unit == tree.department  # housing: 县住建局
    assert routing.route(place, cats["water"]).unit == tree.department  # no water company here: 住建局
    assert routing.route(place, cats["public-order"]).node == tree.comm_a  # no 公安局 in this tree
    assert routing.route(place, cats["fire-hazard"]).auto_dispatch  # emergencies go out at once
    # The 12345 deadlines: emergencies 2 hours, utilities 24 hours, ordinary 7 and complex 15 working days.
    policy = {code: routing.policy_for(cats[code]) for code in ("gas-leak", "water", "garbage", "structure")}
    assert [(p.resolve_amount, p.resolve_unit) for p in policy.values()] == [
        (2, "natural_hours"), (24, "natural_hours"), (7, "working_days"), (15, "working_days")]
    assert policy["garbage"].response_amount == 2 and policy["garbage"].response_unit == "working_hours"
    assert sum(1 for c in cats.values() if c.form_fields) >= 4
    # Every leaf category has demo wording.
    assert set(leaf_codes()) == set(T.APPEALS) == set(T.RESULTS)


# --- the history ---------------------------------------------------------------------------------


def test_history_covers_every_state_channel_and_category(history):
    appeals = Appeal.objects.select_related("category")
    assert history["appeals"] == appeals.count() >= 150
    assert set(appeals.values_list("status", flat=True)) == set(Status.values)
    assert set(appeals.values_list("channel", flat=True)) == set(Channel.values)
    assert set(appeals.values_list("category__code", flat=True)) == set(leaf_codes())
    assert set(appeals.values_list("due_state", flat=True)) == set(DueState.values)
    assert appeals.filter(reopen_count__gt=0).exists() and appeals.filter(return_count__gt=0).exists()
    assert appeals.filter(supervise_count__gt=0).exists() and appeals.filter(rated_by_callback=True).exists()
    assert appeals.filter(rated_by_callback=False, rated_at__isnull=False).exists()
    assert set(appeals.exclude(satisfaction="").values_list("satisfaction", flat=True)) == set(Satisfaction.values)
    requests = Counter(AppealRequest.objects.values_list("kind", "state"))
    for kind in AppealRequest.Kind.values:
        for state in (AppealRequest.State.APPROVED, AppealRequest.State.REJECTED, AppealRequest.State.PENDING):
            assert requests[(kind, state)], (kind, state)
    merged = appeals.filter(status=Status.MERGED, reporter__isnull=False).first()
    assert merged.merged_into.followers.filter(from_appeal=merged, resident=merged.reporter).exists()
    # Reporters from the registry and typed ones; six months back from "now", nothing later.
    assert appeals.filter(reporter__isnull=False).exists()
    assert appeals.filter(reporter__isnull=True).exclude(reporter_phone_masked="").exists()
    first = appeals.order_by("submitted_at").first().submitted_at
    assert NOW - dt.timedelta(days=190) < first < NOW - dt.timedelta(days=150)
    assert not appeals.filter(submitted_at__gt=NOW).exists()
    # One audit row for the load (besides the demo accounts it made sure of).
    assert AuditEvent.objects.filter(action="appeals.demo_history").count() == 1
    assert not AuditEvent.objects.filter(action__startswith="appeal.").exists()
    assert not needs_history()
    with pytest.raises(DemoError):
        generate_history(seed=5, scale=SCALE, now=NOW)


def test_history_is_deterministic(county):
    with transaction.atomic():
        generate_history(seed=5, scale=SCALE, now=NOW)
        first = _signature()
        transaction.set_rollback(True)
    assert not Appeal.objects.exists()
    with transaction.atomic():
        generate_history(seed=6, scale=SCALE, now=NOW)
        other = _signature()
        transaction.set_rollback(True)
    generate_history(seed=5, scale=SCALE, now=NOW)
    assert _signature() == first
    assert other != first


def test_timeline_and_counters_agree_with_each_appeal(history):
    for a in Appeal.objects.prefetch_related("events", "requests"):
        events = sorted(a.events.all(), key=lambda e: (e.at, e.id))
        assert events[0].kind == "file" and events[0].from_status == "" and events[0].at == a.submitted_at
        state = ""
        for e in events:
            assert e.from_status == state, (a.number, e.kind)
            state = e.to_status
            assert e.at <= NOW
        assert state == a.status, a.number
        kinds = Counter(e.kind for e in events)
        assert a.return_count == kinds["return"] and a.reopen_count == kinds["reopen"]
        assert a.supervise_count == kinds["supervise"]
        approved = [r for r in a.requests.all() if r.kind == "extension" and r.state == "approved"]
        assert a.extension_count == len(approved)
        if a.status in (Status.ACCEPTED, Status.RESOLVED, Status.VERIFIED, Status.CLOSED):
            assert a.accepted_by_id and a.accepted_at and a.handler_path or a.handler_unit_id
            assert a.responded_on_time == (a.accepted_at <= a.response_due)
        if a.status in (Status.RESOLVED, Status.VERIFIED, Status.CLOSED):
            assert a.result and a.resolved_on_time == (a.resolved_at <= a.resolve_due)
        if a.status in (Status.CLOSED, Status.VOIDED, Status.MERGED):
            assert a.closed_at
        assert (a.status == Status.MERGED) == (a.merged_into_id is not None)
        if a.rated_at:
            assert a.satisfaction and kinds["rate"] + kinds["callback"] >= 1
        if a.status == Status.VOIDED:
            assert a.requests.filter(kind="void", state="approved").exists()


def test_who_filed_and_when(history):
    office = workdays.office_hours()
    for a in Appeal.objects.select_related("filed_by", "reporter", "node"):
        local = timezone.localtime(a.submitted_at, TZ)
        if a.channel in (Channel.WINDOW, Channel.VISIT, Channel.WISH_WALL):
            assert workdays.is_workday(local.date()), a.number
            assert any(o <= local.time() <= c for o, c in office), a.number
        roles = {(r.role, r.node.path) for r in a.filed_by.role_assignments.all()} if a.filed_by else set()
        if a.channel == Channel.VISIT:
            assert any(role == Role.GRID_WORKER and a.org_path.startswith(path) for role, path in roles)
        elif a.channel in (Channel.WINDOW, Channel.MEETING, Channel.WISH_WALL):
            assert any(role == Role.COMMUNITY_STAFF and a.org_path.startswith(path) for role, path in roles)
        elif a.channel == Channel.ONLINE:
            assert a.reporter is not None and a.reporter.user_id == a.filed_by_id
        elif a.channel == Channel.HOTLINE:
            assert a.filed_by is None and a.reporter_name


def test_deadlines_and_due_states_are_consistent(history):
    for a in Appeal.objects.select_related("category"):
        due = routing.deadlines(routing.policy_for(a.category), a.submitted_at)
        assert a.response_due == due.response_due
        if not a.reopen_count and not a.extension_count:
            assert (a.resolve_due, a.due_soon_at) == (due.resolve_due, due.due_soon_at), a.number
        if a.extension_count and not a.reopen_count:
            assert a.resolve_due > due.resolve_due
        if a.status in (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED):
            expect = (DueState.OVERDUE if a.resolve_due <= NOW else
                      DueState.DUE_SOON if a.due_soon_at <= NOW else DueState.NORMAL)
            assert a.due_state == expect, a.number
            if a.resolve_due + dt.timedelta(minutes=5) <= NOW:
                assert a.escalated_at is not None and a.events.filter(kind="escalate").exists()
    # The deadline sweep finds nothing left to do.
    from gongzhi.appeals.actions.sweep import sweep

    counts = sweep(now=NOW)
    assert counts["cleared"] == counts["due_soon"] == counts["overdue"] == 0
    assert counts["escalated"] <= 1


def test_demo_accounts_have_work_to_do(history):
    users = {u.username: u for u in User.objects.filter(username__in=["shequ", "wangge", "jumin", "jiedao"])}
    shequ, wangge, jumin, jiedao = (users[n] for n in ("shequ", "wangge", "jumin", "jiedao"))
    to_dispatch = selectors.to_dispatch(shequ)
    assert to_dispatch.count() >= 3 and to_dispatch.filter(return_count__gt=0).exists()
    assert selectors.to_verify(shequ).filter(status=Status.RESOLVED).count() >= 2
    assert selectors.to_verify(shequ).filter(status=Status.VERIFIED).exists()
    queue = selectors.to_handle(wangge)
    assert queue.filter(status=Status.DISPATCHED).count() >= 2 and queue.filter(status=Status.ACCEPTED).count() >= 2
    assert queue.filter(due_state=DueState.OVERDUE).count() >= 2 and queue.filter(due_state=DueState.DUE_SOON).exists()
    mine = selectors.mine(jumin)
    assert {Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED, Status.RESOLVED, Status.CLOSED} <= set(
        mine.values_list("status", flat=True))
    assert mine.filter(reopen_count__gt=0).exists()
    pending = [r for r in AppealRequest.objects.filter(state="pending").select_related("appeal")]
    assert any(r.kind == "extension" and policies.can_dispatch(shequ, r.appeal) for r in pending)
    assert any(r.kind == "void" and policies.can_supervise(jiedao, r.appeal) for r in pending)
    # The generated rows work with the real actions.
    unrated = mine.filter(status=Status.RESOLVED, rated_at__isnull=True).first()
    assert policies.can_rate(jumin, unrated)
    actions.appeal_rate(appeal=unrated, by=jumin, resolved=True, satisfaction=Satisfaction.SATISFIED)
    actions.appeal_accept(appeal=queue.filter(status=Status.DISPATCHED).first(), by=wangge)
    appeal = to_dispatch.first()
    route = routing.route(appeal.node, appeal.category)
    actions.appeal_dispatch(appeal=appeal, by=shequ, to_node=route.node, to_unit=route.unit)
    filed = actions.appeal_file(by=jumin, category=unrated.category, title="又有问题", description="楼下垃圾又堆起来了",
                                channel=Channel.ONLINE, reporter=jumin.resident)
    assert filed.pk > Appeal.objects.exclude(pk=filed.pk).order_by("-pk").first().pk
    assert RoutingRule.objects.exists()
