"""The deadline sweep: yellow and red on Chinese working days (国庆 with its make-up days, into an
unconfirmed 2027), one escalation to the right supervisors, idempotent, set-based."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.core.access import Role
from gongzhi.appeals import actions as appeals
from gongzhi.appeals.models import Appeal, AppealEvent, Channel, DueState, Status
from gongzhi.appeals.actions.sweep import sweep
from gongzhi.appeals.tasks import deadline_sweep
from gongzhi.core.models import AuditEvent
from gongzhi.notify.models import Notice

from .appeals_factories import make_categories
from .notify_helpers import immediate  # noqa: F401 (fixture)

TZ = ZoneInfo("Asia/Shanghai")
NOTHING = {"cleared": 0, "due_soon": 0, "overdue": 0, "escalated": 0}


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture
def cats(db):
    return make_categories()


def filed(tree, cats, when, *, to_node=None, to_unit=None, dispatch=True):
    appeal = appeals.appeal_file(
        by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清", description="3栋门口垃圾堆了三天",
        channel=Channel.ONLINE, reporter=tree.resident_a, submitted_at=when,
    )
    if dispatch:
        appeals.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF],
                                to_node=to_node if to_node or to_unit else tree.grid_a1, to_unit=to_unit)
    return appeal


def told(kind) -> list[str]:
    return sorted(Notice.objects.filter(kind=kind).values_list("user__username", flat=True))


def run(capture, now):
    with capture(execute=True):
        return sweep(now)


def state(appeal):
    appeal.refresh_from_db()
    return appeal.due_state


def test_national_day_deadline(tree, cats, immediate, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    # Friday 26 September 2025, 7 working days: Sunday 28 Sep is a make-up working day, 1-8 October are
    # the holiday, Saturday 11 October is a make-up working day -> due Monday 13 October 17:30.
    appeal = filed(tree, cats, at(2025, 9, 26, 10))
    assert appeal.resolve_due == at(2025, 10, 13, 17, 30)
    assert at(2025, 10, 9) < appeal.due_soon_at < at(2025, 10, 9, 10)  # 25 % of the time left

    assert run(capture, at(2025, 10, 3, 18)) == NOTHING  # seven calendar days, but a holiday week
    assert state(appeal) == DueState.NORMAL
    assert run(capture, at(2025, 10, 9, 10)) == {**NOTHING, "due_soon": 1}
    assert state(appeal) == DueState.DUE_SOON and told("due_soon") == ["wangge"]
    assert run(capture, at(2025, 10, 11, 12)) == NOTHING
    assert run(capture, at(2025, 10, 13, 17, 29)) == NOTHING
    assert state(appeal) == DueState.DUE_SOON

    assert run(capture, at(2025, 10, 13, 17, 31)) == {**NOTHING, "overdue": 1, "escalated": 1}
    assert state(appeal) == DueState.OVERDUE and appeal.escalated_at == at(2025, 10, 13, 17, 31)
    assert appeal.status == Status.DISPATCHED
    event = AppealEvent.objects.get(appeal=appeal, kind="escalate")
    assert event.public is False and event.actor is None and event.at == appeal.escalated_at
    assert AuditEvent.objects.filter(action="appeal.escalate", object_id=str(appeal.pk), org_path=appeal.org_path).count() == 1
    assert told("overdue") == ["wangge"]  # the handlers
    assert told("escalate") == ["shequ"]  # a grid's supervisors: its community's staff

    # Running it again changes nothing at all.
    before = (Appeal.objects.values().get(pk=appeal.pk), AppealEvent.objects.count(), AuditEvent.objects.count(),
              Notice.objects.count())
    assert run(capture, at(2025, 10, 14, 9)) == NOTHING
    assert run(capture, at(2025, 10, 20, 9)) == NOTHING
    after = (Appeal.objects.values().get(pk=appeal.pk), AppealEvent.objects.count(), AuditEvent.objects.count(),
             Notice.objects.count())
    assert after == before


def test_resolved_appeals_are_not_swept(tree, cats):
    appeal = filed(tree, cats, at(2025, 9, 26, 10))
    appeals.appeal_accept(appeal=appeal, by=tree.users[Role.GRID_WORKER])
    appeals.appeal_resolve(appeal=appeal, by=tree.users[Role.GRID_WORKER], result="已清运")
    assert sweep(at(2025, 10, 20)) == NOTHING
    assert state(appeal) == DueState.NORMAL and appeal.escalated_at is None


def test_not_dispatched_goes_to_the_first_receiver(tree, cats, immediate, django_capture_on_commit_callbacks):
    appeal = filed(tree, cats, at(2025, 9, 26, 10), dispatch=False)
    assert run(django_capture_on_commit_callbacks, at(2025, 10, 14)) == {**NOTHING, "overdue": 1, "escalated": 1}
    assert state(appeal) == DueState.OVERDUE
    assert told("overdue") == ["shequ"]  # nobody handles it yet: the community that owns it must dispatch
    assert told("escalate") == ["jiedao"]  # and the community's supervisors are the subdistrict's staff


def test_unit_escalates_to_the_county(tree, cats, immediate, django_capture_on_commit_callbacks):
    filed(tree, cats, at(2025, 9, 26, 10), to_unit=tree.department)
    run(django_capture_on_commit_callbacks, at(2025, 10, 14))
    assert told("overdue") == ["bumen"] and told("escalate") == ["admin"]


def test_extension_starts_a_new_deadline_but_escalates_once(tree, cats, immediate, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    appeal = filed(tree, cats, at(2025, 9, 26, 10))
    run(capture, at(2025, 10, 14, 9))
    request = appeals.extension_request(appeal=appeal, by=tree.users[Role.GRID_WORKER], days=3, reason="需要协调物业")
    appeals.extension_decide(request=request, by=tree.users[Role.COMMUNITY_STAFF], approve=True)
    appeal.refresh_from_db()
    assert appeal.resolve_due == at(2025, 10, 16, 17, 30) and appeal.due_state == DueState.NORMAL
    assert run(capture, at(2025, 10, 14, 10)) == {**NOTHING, "due_soon": 1}
    assert run(capture, at(2025, 10, 16, 18)) == {**NOTHING, "overdue": 1}  # overdue again, not escalated again
    assert told("overdue") == ["wangge", "wangge"] and told("escalate") == ["shequ"]
    assert AppealEvent.objects.filter(appeal=appeal, kind="escalate").count() == 1


def test_deadline_moved_later_goes_back_on_time(tree, cats, immediate, django_capture_on_commit_callbacks):
    appeal = filed(tree, cats, at(2025, 9, 26, 10))
    Appeal.objects.filter(pk=appeal.pk).update(due_state=DueState.OVERDUE)  # e.g. a deadline corrected by hand
    assert run(django_capture_on_commit_callbacks, at(2025, 10, 1)) == {**NOTHING, "cleared": 1}
    assert state(appeal) == DueState.NORMAL and not Notice.objects.exists()


def test_into_unconfirmed_2027(tree, cats, immediate, django_capture_on_commit_callbacks):
    appeal = filed(tree, cats, at(2026, 12, 28, 10))
    assert appeal.deadline_unconfirmed and appeal.resolve_due == at(2027, 1, 6, 17, 30)  # Mon-Fri for 2027
    assert run(django_capture_on_commit_callbacks, at(2027, 1, 6, 18)) == {**NOTHING, "overdue": 1, "escalated": 1}
    assert "(holidays not confirmed yet)" in Notice.objects.get(kind="overdue").body


def test_task_and_set_based_queries(tree, cats):
    def queries(n):
        Appeal.objects.all().delete()
        for _ in range(n):
            filed(tree, cats, at(2025, 9, 26, 10))
        with CaptureQueriesContext(connection) as ctx:
            assert deadline_sweep.call() == {**NOTHING, "overdue": n, "escalated": n}
        return len(ctx.captured_queries)

    assert queries(2) == queries(12)  # per-row work is bulk: the number of queries does not grow with rows
