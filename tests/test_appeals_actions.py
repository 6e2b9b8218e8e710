"""The appeals loop: filing, routing, every transition and every refusal, ratings, ledger requests, merge."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from gongzhi.core.access import Role
from gongzhi.appeals import actions, routing, selectors
from gongzhi.appeals.actions import TransitionError
from gongzhi.appeals.models import AppealFollower, AppealRequest, Channel, RoutingRule, Status
from gongzhi.core.models import AuditEvent

from .appeals_factories import make_categories


@pytest.fixture
def cats(db):
    return make_categories()


def file(tree, cats, by=None, **kw):
    args = dict(by=by or tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE, reporter=tree.resident_a)
    args.update(kw)
    return actions.appeal_file(**args)


def test_resident_files_for_themselves(tree, cats):
    appeal = file(tree, cats)
    assert appeal.status == Status.SUBMITTED
    assert appeal.node == tree.micro_a1 and appeal.org_path == tree.micro_a1.path
    assert appeal.owner_node == tree.comm_a  # the community owns what residents file
    assert appeal.number.endswith(f"{appeal.pk:06d}")
    assert appeal.resolve_due > appeal.response_due > appeal.submitted_at
    assert AppealFollower.objects.filter(appeal=appeal, user=tree.users[Role.RESIDENT]).exists()
    assert AuditEvent.objects.filter(action="appeal.file", object_id=str(appeal.pk)).exists()
    assert [e.kind for e in appeal.events.all()] == ["file"]


def test_grid_worker_on_rounds_is_first_receiver(tree, cats):
    worker = tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats, by=worker, channel=Channel.VISIT)
    assert appeal.owner_node == tree.grid_a1
    assert selectors.to_dispatch(worker).filter(pk=appeal.pk).exists()


def test_filing_elsewhere_refused(tree, cats):
    worker = tree.users[Role.GRID_WORKER]
    with pytest.raises(PermissionDenied):
        file(tree, cats, by=worker, reporter=tree.resident_b, channel=Channel.VISIT)


def test_form_fields_checked(tree, cats):
    with pytest.raises(ValidationError, match="停水情况"):
        file(tree, cats, category=cats["water"])
    with pytest.raises(ValidationError):
        file(tree, cats, category=cats["water"], attributes={"outage": "flood"})
    appeal = file(tree, cats, category=cats["water"], attributes={"outage": "none"})
    assert appeal.attributes == {"outage": "none"}


def test_routing_inherits_and_most_specific_wins(tree, cats):
    assert routing.route(tree.micro_a1, cats["garbage"]).node == tree.comm_a  # no rule: the community
    RoutingRule.objects.create(node=tree.county, org_path=tree.county.path, category=cats["env"],
                               target=RoutingRule.Target.OWN_GRID)
    assert routing.route(tree.micro_a1, cats["garbage"]).node == tree.grid_a1  # parent category's rule
    RoutingRule.objects.create(node=tree.comm_a, org_path=tree.comm_a.path, category=None,
                               target=RoutingRule.Target.UNIT, target_unit=tree.partner)
    assert routing.route(tree.micro_a1, cats["garbage"]).unit == tree.partner  # deeper node wins
    assert routing.route(tree.grid_b1, cats["garbage"]).node == tree.grid_b1  # other town: county rule


def test_auto_dispatch(tree, cats):
    RoutingRule.objects.create(node=tree.county, org_path=tree.county.path, category=cats["garbage"],
                               target=RoutingRule.Target.OWN_GRID, auto_dispatch=True)
    appeal = file(tree, cats)
    assert appeal.status == Status.DISPATCHED and appeal.handler_node == tree.grid_a1


def test_full_loop(tree, cats):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    assert selectors.to_handle(worker).filter(pk=appeal.pk).exists()
    actions.appeal_accept(appeal=appeal, by=worker)
    assert appeal.responded_on_time is True
    actions.appeal_resolve(appeal=appeal, by=worker, result="已联系环卫清运")
    assert appeal.resolved_on_time is True
    actions.appeal_verify(appeal=appeal, by=staff)
    actions.appeal_rate(appeal=appeal, by=tree.users[Role.RESIDENT], resolved=True, satisfaction="satisfied")
    actions.appeal_close(appeal=appeal, by=staff)  # after the resident's rating (or a callback)
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.satisfaction == "satisfied"
    assert [e.kind for e in appeal.events.all()] == ["file", "dispatch", "accept", "resolve", "verify", "rate", "close"]


@pytest.mark.parametrize("action, kwargs, words", [
    ("appeal_accept", {}, "can be accepted only when it is Dispatched"),
    ("appeal_resolve", {"result": "done"}, "can be resolved only when it is Accepted"),
    ("appeal_close", {}, "can be closed only when it is Verified"),
    ("appeal_verify", {}, "can be verified only when it is Resolved"),
])
def test_illegal_transitions_say_why(tree, cats, action, kwargs, words):
    from django.utils import translation

    appeal = file(tree, cats)
    with translation.override("en"):
        with pytest.raises((TransitionError, PermissionDenied)) as info:
            getattr(actions, action)(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], **kwargs)
    assert words in str(info.value)
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED


def test_wrong_people_refused(tree, cats):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    with pytest.raises(PermissionDenied):
        actions.appeal_dispatch(appeal=appeal, by=worker, to_node=tree.grid_a1)  # owner is the community
    actions.appeal_dispatch(appeal=appeal, by=staff, to_unit=tree.department)
    with pytest.raises(PermissionDenied):
        actions.appeal_accept(appeal=appeal, by=worker)  # dispatched to the department
    handler = tree.users[Role.DEPARTMENT_HANDLER]
    actions.appeal_accept(appeal=appeal, by=handler)
    actions.appeal_resolve(appeal=appeal, by=handler, result="已维修")
    with pytest.raises(PermissionDenied):
        actions.appeal_rate(appeal=appeal, by=worker, resolved=True, satisfaction="satisfied")


def test_second_accept_is_told_who(tree, cats):
    from django.utils import translation

    from gongzhi.accounts.actions import role_assign

    from .factories import make_user

    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    other = make_user("wangge2", Role.GRID_WORKER, tree.grid_a1)
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    stale = type(appeal).objects.get(pk=appeal.pk)
    actions.appeal_accept(appeal=appeal, by=worker)
    with translation.override("en"):
        with pytest.raises(TransitionError, match="wangge already accepted"):
            actions.appeal_accept(appeal=stale, by=other)
    del role_assign


def test_return_goes_back_to_owner_and_into_ledger(tree, cats):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    with pytest.raises(ValidationError):
        actions.appeal_return(appeal=appeal, by=worker, reason="")
    actions.appeal_return(appeal=appeal, by=worker, reason="属于物业管理范围")
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED and appeal.handler_node is None and appeal.return_count == 1
    assert appeal.events.filter(kind="return", data__ledger=True).exists()


def test_unsatisfied_rating_reopens_within_policy(tree, cats):
    staff, worker, resident = (tree.users[r] for r in (Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.RESIDENT))
    cats["ordinary"].max_reopens = 1
    cats["ordinary"].save()
    appeal = file(tree, cats)
    for round_ in range(2):
        if appeal.status == Status.SUBMITTED:
            actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
        actions.appeal_accept(appeal=appeal, by=worker)
        actions.appeal_resolve(appeal=appeal, by=worker, result=f"第{round_ + 1}次处理")
        actions.appeal_rate(appeal=appeal, by=resident, resolved=False, satisfaction="unsatisfied", comment="还是很脏")
        appeal.refresh_from_db()
    # Reopened once (back to the same grid), then the policy's limit keeps it resolved and rated.
    assert appeal.reopen_count == 1 and appeal.status == Status.RESOLVED and appeal.satisfaction == "unsatisfied"
    with pytest.raises(TransitionError):
        actions.appeal_rate(appeal=appeal, by=resident, resolved=False, satisfaction="unsatisfied")


def test_callback_by_staff(tree, cats):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=worker)
    actions.appeal_resolve(appeal=appeal, by=worker, result="已处理")
    actions.appeal_rate(appeal=appeal, by=staff, resolved=True, satisfaction="basic", callback=True)
    appeal.refresh_from_db()
    assert appeal.rated_by_callback and appeal.satisfaction == "basic"


def test_extension_and_void_need_approval(tree, cats):
    staff, worker, town = (tree.users[r] for r in (Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.SUBDISTRICT_STAFF))
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=worker)
    due = appeal.resolve_due
    req = actions.extension_request(appeal=appeal, by=worker, days=3, reason="需要等待配件")
    with pytest.raises(TransitionError):
        actions.extension_request(appeal=appeal, by=worker, days=3, reason="再来一次")
    with pytest.raises(PermissionDenied):
        actions.extension_decide(request=req, by=worker, approve=True)
    actions.extension_decide(request=req, by=staff, approve=True)
    appeal.refresh_from_db()
    assert appeal.resolve_due - due >= dt.timedelta(days=3) and appeal.extension_count == 1
    void = actions.void_request(appeal=appeal, by=staff, reason="重复提交")
    with pytest.raises(PermissionDenied):
        actions.void_decide(request=void, by=staff, approve=True)  # a supervisor decides
    actions.void_decide(request=void, by=town, approve=True)
    appeal.refresh_from_db()
    assert appeal.status == Status.VOIDED
    assert set(AppealRequest.objects.filter(appeal=appeal).values_list("kind", "state")) == {
        ("extension", "approved"), ("void", "approved")}


def test_supervise_by_supervisors_only(tree, cats):
    appeal = file(tree, cats)
    with pytest.raises(PermissionDenied):
        actions.appeal_supervise(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], note="快办")
    actions.appeal_supervise(appeal=appeal, by=tree.users[Role.SUBDISTRICT_STAFF], note="请尽快处理")
    appeal.refresh_from_db()
    assert appeal.supervise_count == 1


def test_merge_makes_reporters_follow(tree, cats):
    staff = tree.users[Role.COMMUNITY_STAFF]
    main = file(tree, cats)
    dup = file(tree, cats, by=staff, reporter=tree.resident_a2, channel=Channel.WINDOW,
               household=None, node=tree.micro_a1)
    dupes = selectors.possible_duplicates(node=tree.micro_a1, category=cats["garbage"], text=dup.description,
                                          exclude=dup.pk)
    assert [a for a, _s in dupes] == [main]
    actions.appeal_merge(appeal=dup, into=main, by=staff)
    dup.refresh_from_db()
    assert dup.status == Status.MERGED and dup.merged_into == main
    assert AppealFollower.objects.filter(appeal=main, resident=tree.resident_a2).exists()
    with pytest.raises(ValidationError):
        actions.appeal_merge(appeal=main, into=main, by=staff)


def test_visibility(tree, cats):
    appeal = file(tree, cats)
    u = tree.users
    for role in (Role.COUNTY_ADMIN, Role.SUBDISTRICT_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.RESIDENT):
        assert selectors.appeals(u[role]).filter(pk=appeal.pk).exists(), role
    for role in (Role.DEPARTMENT_HANDLER, Role.PARTNER_CONTACT, Role.PARTY_SECRETARY):
        assert not selectors.appeals(u[role]).filter(pk=appeal.pk).exists(), role
    actions.appeal_dispatch(appeal=appeal, by=u[Role.COMMUNITY_STAFF], to_unit=tree.department)
    assert selectors.appeals(u[Role.DEPARTMENT_HANDLER]).filter(pk=appeal.pk).exists()
    from .factories import make_user

    outsider = make_user("other_town", Role.SUBDISTRICT_STAFF, tree.town_b)
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.appeal_get(outsider, appeal.pk)
