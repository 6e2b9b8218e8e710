"""The appeal policy at its edges, where the pages, the API and the actions used to disagree: where an appeal
may be dispatched, requests already waiting, decisions on an appeal that moved on, deciding one's own request.
(Who may take which step in the usual states: ``test_appeal_policy_matrix``.)"""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from gongzhi.appeals import actions, policies
from gongzhi.appeals.actions import TransitionError
from gongzhi.appeals.models import Appeal, AppealEvent, AppealRequest, Channel, RoutingRule, Status
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs.models import Unit, UnitKind, UnitService

from .appeals_factories import make_categories

API = "/api/v1"


@pytest.fixture
def cats(tree):
    return make_categories()


@pytest.fixture
def login(client, tree):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    def as_(role):
        client.force_login(tree.users[role])
        return client

    return as_


def file(tree, cats, **kw):
    args = dict(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE, reporter=tree.resident_a)
    args.update(kw)
    return actions.appeal_file(**args)


def written(appeal):
    return (Appeal.objects.filter(pk=appeal.pk).values().get(), AppealEvent.objects.count(),
            AuditEvent.objects.count(), sorted(AppealRequest.objects.values_list("id", "state")))


def post(client, url, body):
    return client.post(API + url, body, content_type="application/json")


def options(response) -> set[str]:
    return set(re.findall(r'<option value="([nu]\d+)"', response.content.decode()))


def test_a_county_administrator_dispatches_only_where_the_appeal_can_be_handled(tree, cats, login):
    """The county administrator sees the whole county; an appeal in 城东社区 still goes to its community, a
    grid there, its subdistrict, or a unit serving it: never to a grid of another town."""
    admin = tree.users[Role.COUNTY_ADMIN]
    town_b_unit = Unit.objects.create(name="九襄镇物业服务中心", kind=UnitKind.PARTNER, home=tree.town_b,
                                      org_path=tree.town_b.path)
    UnitService.objects.create(unit=town_b_unit, node=tree.comm_b, org_path=tree.comm_b.path)
    appeal = file(tree, cats)
    before = written(appeal)

    page = login(Role.COUNTY_ADMIN).get(reverse("appeals:detail", args=[appeal.pk]))
    n, u = (lambda x: f"n{x.pk}"), (lambda x: f"u{x.pk}")
    assert options(page) == {n(tree.town_a), n(tree.comm_a), n(tree.grid_a1), n(tree.micro_a1), n(tree.grid_a2),
                             u(tree.department), u(tree.partner)}

    for target in ({"to_node": tree.grid_b1}, {"to_node": tree.comm_b}, {"to_unit": town_b_unit}):
        with translation.override("en"), pytest.raises(ValidationError, match="does not handle appeals in 城东社区"):
            actions.appeal_dispatch(appeal=Appeal.objects.get(pk=appeal.pk), by=admin, **target)
        key = "to_node_id" if "to_node" in target else "to_unit_id"
        r = post(login(Role.COUNTY_ADMIN), f"/appeals/{appeal.pk}/dispatch", {key: next(iter(target.values())).pk})
        assert r.status_code == 422 and "does not handle appeals in 城东社区" in r.json()["detail"][0]["msg"]
    r = login(Role.COUNTY_ADMIN).post(reverse("appeals:act", args=[appeal.pk, "dispatch"]),
                                      {"seen": "submitted", "target": f"n{tree.grid_b1.pk}"})
    assert r.status_code == 200 and 'data-testid="action-error"' in r.content.decode()
    # The community's staff do not see town B at all: its grid is "not found", like a missing one.
    r = post(login(Role.COMMUNITY_STAFF), f"/appeals/{appeal.pk}/dispatch", {"to_node_id": tree.grid_b1.pk})
    assert r.status_code == 404
    assert written(appeal) == before

    # Where it may go, it goes: a grid of the community the community's staff cannot pick from their own tree
    # is no different from one they can.
    r = post(login(Role.COUNTY_ADMIN), f"/appeals/{appeal.pk}/dispatch", {"to_node_id": tree.grid_a2.pk})
    assert r.status_code == 200 and r.json()["handler_node_id"] == tree.grid_a2.pk


def test_the_routing_suggestion_is_always_a_place_to_dispatch_to(tree, cats, login):
    elsewhere = Unit.objects.create(name="九襄镇供水站", kind=UnitKind.DEPARTMENT, home=tree.town_b,
                                    org_path=tree.town_b.path)
    RoutingRule.objects.create(node=tree.comm_a, org_path=tree.comm_a.path, category=cats["garbage"],
                               target=RoutingRule.Target.UNIT, target_unit=elsewhere)
    appeal = file(tree, cats)
    staff = login(Role.COMMUNITY_STAFF)
    assert f"u{elsewhere.pk}" in options(staff.get(reverse("appeals:detail", args=[appeal.pk])))
    r = post(staff, f"/appeals/{appeal.pk}/dispatch", {"to_unit_id": elsewhere.pk})
    assert r.status_code == 200 and r.json()["handler_unit_id"] == elsewhere.pk


def test_a_second_request_to_void_is_offered_nowhere(tree, cats, login):
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    actions.void_request(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], reason="重复提交")
    worker = login(Role.GRID_WORKER)  # the handler may ask too, but one request is already waiting
    assert "void" not in worker.get(f"{API}/appeals/{appeal.pk}").json()["allowed"]
    assert "void_request" not in policies.allowed_actions(tree.users[Role.GRID_WORKER], appeal)
    assert 'data-action="void_request"' not in worker.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    r = post(worker, f"/appeals/{appeal.pk}/void", {"reason": "不是本网格的"})
    assert r.status_code == 409 and "already waiting" in r.json()["detail"]


def test_a_void_request_outlived_by_its_appeal_can_still_be_turned_down(tree, cats, login):
    """The appeal was finished while voiding waited: the supervisor sees the request on the page and in the API
    alike, can reject it to clear it, and cannot approve it."""
    staff, worker, resident = (tree.users[r] for r in (Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.RESIDENT))
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    actions.void_request(appeal=appeal, by=staff, reason="重复提交")
    actions.appeal_accept(appeal=appeal, by=worker)
    actions.appeal_resolve(appeal=appeal, by=worker, result="已清运")
    actions.appeal_rate(appeal=appeal, by=resident, resolved=True, satisfaction="satisfied")
    actions.appeal_verify(appeal=appeal, by=staff)
    actions.appeal_close(appeal=appeal, by=staff)
    town = login(Role.SUBDISTRICT_STAFF)
    assert "void/decide" in town.get(f"{API}/appeals/{appeal.pk}").json()["allowed"]
    assert 'data-action="void_decide"' in town.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    before = written(appeal)
    r = post(town, f"/appeals/{appeal.pk}/void/decide", {"approve": True})
    assert r.status_code == 409 and "can be voided only when" in r.json()["detail"]
    assert written(appeal) == before
    r = post(town, f"/appeals/{appeal.pk}/void/decide", {"approve": False, "note": "已结案"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert AppealRequest.objects.get(appeal=appeal).state == AppealRequest.State.REJECTED


def test_more_time_is_not_given_to_an_appeal_already_resolved(tree, cats):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=worker)
    request = actions.extension_request(appeal=appeal, by=worker, days=3, reason="等待配件")
    actions.appeal_resolve(appeal=appeal, by=worker, result="已清运")
    appeal.refresh_from_db()
    due = appeal.resolve_due
    assert "extension_decide" in policies.allowed_actions(staff, appeal)  # to clear it
    with translation.override("en"), pytest.raises(TransitionError, match="can be given more time only when"):
        actions.extension_decide(request=AppealRequest.objects.get(pk=request.pk), by=staff, approve=True)
    actions.extension_decide(request=AppealRequest.objects.get(pk=request.pk), by=staff, approve=False)
    appeal.refresh_from_db()
    assert appeal.resolve_due == due and appeal.extension_count == 0


def test_nobody_decides_what_they_asked_for(tree, cats, login):
    town, admin = tree.users[Role.SUBDISTRICT_STAFF], tree.users[Role.COUNTY_ADMIN]
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    void = actions.void_request(appeal=appeal, by=town, reason="恶意重复投诉")  # the subdistrict owns it too
    assert "void_decide" not in policies.allowed_actions(town, appeal)
    client = login(Role.SUBDISTRICT_STAFF)
    assert "void/decide" not in client.get(f"{API}/appeals/{appeal.pk}").json()["allowed"]
    assert 'data-action="void_decide"' not in client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    queue = client.get(reverse("appeals:queue", args=["requests"]))
    assert void.pk not in [r.pk for r in queue.context["page"]["rows"]]
    r = post(client, f"/appeals/{appeal.pk}/void/decide", {"approve": True})
    assert r.status_code == 403 and r.json()["detail"] == "You asked for this yourself: someone else decides."
    assert "void_decide" in policies.allowed_actions(admin, appeal)
    actions.void_decide(request=void, by=admin, approve=False)

    # The community's staff handle for their grids: asking for more time, they do not grant it to themselves.
    actions.appeal_accept(appeal=appeal, by=staff)
    extension = actions.extension_request(appeal=appeal, by=staff, days=2, reason="等待配件")
    with translation.override("zh-hans"), pytest.raises(PermissionDenied, match="您自己提出的申请"):
        actions.extension_decide(request=extension, by=staff, approve=True)
    assert "extension_decide" not in policies.allowed_actions(staff, appeal)
    assert "extension_decide" in policies.allowed_actions(town, appeal)
    with pytest.raises(PermissionDenied):
        actions.extension_decide(request=extension, by=worker, approve=True)  # the grid is not the owner's chain
    actions.extension_decide(request=extension, by=town, approve=True)
    appeal.refresh_from_db()
    assert appeal.extension_count == 1


@pytest.mark.parametrize("role, action, kwargs, chinese", [
    (Role.GRID_WORKER, "appeal_dispatch", {"to_node": "grid_a1"}, "只有首接单位的工作人员才能派发该诉求。"),
    (Role.PARTNER_CONTACT, "appeal_accept", {}, "只有诉求派给的单位才能签收。"),
    (Role.DEPARTMENT_HANDLER, "void_request", {"reason": "重复"}, "只有首接单位的工作人员或承办单位才能申请作废该诉求。"),
])
def test_a_refusal_says_why_in_chinese(tree, cats, role, action, kwargs, chinese):
    appeal = file(tree, cats)
    if action != "appeal_dispatch":
        actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    kwargs = {k: getattr(tree, v) if k == "to_node" else v for k, v in kwargs.items()}
    with translation.override("zh-hans"), pytest.raises(PermissionDenied) as refused:
        getattr(actions, action)(appeal=Appeal.objects.get(pk=appeal.pk), by=tree.users[role], **kwargs)
    assert str(refused.value) == chinese
    assert Appeal.objects.get(pk=appeal.pk).status == (Status.SUBMITTED if action == "appeal_dispatch"
                                                       else Status.DISPATCHED)


# --- closing waits for the resident's word (评价 or 回访) --------------------------------------------------


def verified(tree, cats):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    appeal = file(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=worker)
    actions.appeal_resolve(appeal=appeal, by=worker, result="已清运")
    actions.appeal_verify(appeal=appeal, by=staff)
    return Appeal.objects.get(pk=appeal.pk)


def test_an_appeal_is_not_closed_before_the_resident_is_heard(tree, cats, login):
    staff = tree.users[Role.COMMUNITY_STAFF]
    appeal = verified(tree, cats)
    before = written(appeal)
    with translation.override("zh-hans"), pytest.raises(TransitionError, match="居民尚未评价该诉求：请先登记回访"):
        actions.appeal_close(appeal=appeal, by=staff)
    assert "close" not in policies.allowed_actions(staff, appeal)
    client = login(Role.COMMUNITY_STAFF)
    r = post(client, f"/appeals/{appeal.pk}/close", {})
    assert r.status_code == 409 and "has not rated this appeal yet" in r.json()["detail"]
    assert "close" not in client.get(f"{API}/appeals/{appeal.pk}").json()["allowed"]
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert 'data-action="close"' not in page and 'data-testid="close-waits"' in page
    assert 'data-action="callback"' in page  # what the staff can do about it
    r = client.post(reverse("appeals:act", args=[appeal.pk, "close"]), {"close-seen": "verified"})
    assert r.status_code == 200 and "has not rated this appeal yet" in r.content.decode()
    assert written(appeal) == before

    # The resident rates: now it can be closed.
    actions.appeal_rate(appeal=appeal, by=tree.users[Role.RESIDENT], resolved=True, satisfaction="satisfied")
    assert "close" in client.get(f"{API}/appeals/{appeal.pk}").json()["allowed"]
    assert 'data-testid="close-waits"' not in client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    r = post(client, f"/appeals/{appeal.pk}/close", {})
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_a_callback_counts_as_the_rating(tree, cats, login):
    appeal = verified(tree, cats)
    client = login(Role.COMMUNITY_STAFF)
    act = reverse("appeals:act", args=[appeal.pk, "callback"])
    assert client.post(act, {"callback-seen": "verified", "callback-resolved": "1",
                             "callback-satisfaction": "basic", "callback-comment": "电话回访，基本满意"}).status_code == 302
    page = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert 'data-action="close"' in page
    assert client.post(reverse("appeals:act", args=[appeal.pk, "close"]), {"close-seen": "verified"}).status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).status == Status.CLOSED


def test_nobody_answering_does_not_keep_an_appeal_open_for_ever(tree, cats, settings):
    staff = tree.users[Role.COMMUNITY_STAFF]
    appeal = verified(tree, cats)
    now = timezone.now()
    Appeal.objects.filter(pk=appeal.pk).update(resolved_at=now - dt.timedelta(days=6, hours=23))
    appeal.refresh_from_db()
    assert not policies.may_close_now(appeal) and "close" not in policies.allowed_actions(staff, appeal)
    with pytest.raises(TransitionError):
        actions.appeal_close(appeal=appeal, by=staff)
    settings.GONGZHI_RATING_WAIT_DAYS = 3  # a county that waits less
    assert "close" in policies.allowed_actions(staff, appeal)
    settings.GONGZHI_RATING_WAIT_DAYS = 7
    Appeal.objects.filter(pk=appeal.pk).update(resolved_at=now - dt.timedelta(days=7, minutes=1))
    appeal.refresh_from_db()
    assert "close" in policies.allowed_actions(staff, appeal)
    actions.appeal_close(appeal=appeal, by=staff)
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.rated_at is None  # closed unrated: not counted in the rates
