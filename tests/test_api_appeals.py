"""The appeals JSON API: filing, every transition, refusals as 409 with the reason, 403/404/422, filters,
the timeline per viewer, masked phones, constant queries for the list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.core.access import Role
from gongzhi.appeals import actions
from gongzhi.appeals.models import Appeal, AppealRequest, Channel, Status

from .appeals_factories import make_categories
from .factories import make_user

API = "/api/v1"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def cats(tree):
    return make_categories()


class Caller:
    """A logged-in API client for one of the tree's users."""

    def __init__(self, client, user):
        self.client, self.user = client, user

    def _login(self):
        self.client.force_login(self.user)

    def get(self, url, params=None):
        self._login()
        return self.client.get(API + url, params or {}, **EN)

    def post(self, url, body=None):
        self._login()
        return self.client.post(API + url, body or {}, content_type="application/json", **EN)


@pytest.fixture
def as_(client, tree):
    return lambda role: Caller(client, tree.users[role])


def file_for(tree, cats, by=None, **kw):
    args = dict(by=by or tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE, reporter=tree.resident_a)
    args.update(kw)
    return actions.appeal_file(**args)


def test_the_whole_loop_through_the_api(tree, cats, as_):
    resident, staff, worker = as_(Role.RESIDENT), as_(Role.COMMUNITY_STAFF), as_(Role.GRID_WORKER)
    r = resident.post("/appeals", {"category": "garbage", "description": "3栋门口垃圾堆了三天", "channel": "hotline"})
    assert r.status_code == 201, r.content
    filed = r.json()
    pk = filed["id"]
    assert filed["status"] == "submitted" and filed["reporter_id"] == tree.resident_a.pk
    assert filed["channel"] == "online"  # a resident filing for themselves files online
    assert filed["node_id"] == tree.micro_a1.pk and filed["household_id"] == tree.household_a.pk
    assert filed["allowed"] == []

    r = staff.get(f"/appeals/{pk}")
    assert r.json()["allowed"] == ["dispatch", "merge", "void"]
    r = staff.post(f"/appeals/{pk}/dispatch", {"to_node_id": tree.grid_a1.pk, "note": "请网格员处理"})
    assert r.status_code == 200 and r.json()["status"] == "dispatched"
    assert r.json()["handler_node_id"] == tree.grid_a1.pk and r.json()["handler_name"] == "第一网格"
    assert worker.get(f"/appeals/{pk}").json()["allowed"] == ["accept", "return", "extension", "void"]
    for step, body, status in (("accept", {}, "accepted"), ("resolve", {"result": "已联系环卫清运"}, "resolved")):
        r = worker.post(f"/appeals/{pk}/{step}", body)
        assert r.status_code == 200 and r.json()["status"] == status, step
    assert r.json()["result"] == "已联系环卫清运" and r.json()["accepted_by"] == "wangge"
    r = staff.post(f"/appeals/{pk}/verify", {})
    assert r.status_code == 200 and r.json()["status"] == "verified"
    assert staff.post(f"/appeals/{pk}/close", {}).status_code == 409  # the resident has not rated it yet
    r = resident.post(f"/appeals/{pk}/rate", {"resolved": True, "satisfaction": "satisfied", "comment": "很快"})
    assert r.status_code == 200 and r.json()["satisfaction"] == "satisfied"
    r = staff.post(f"/appeals/{pk}/close", {})
    assert r.status_code == 200 and r.json()["status"] == "closed"

    staff_view = staff.get(f"/appeals/{pk}").json()
    assert [e["kind"] for e in staff_view["events"]] == [
        "file", "dispatch", "accept", "resolve", "verify", "rate", "close"]
    assert staff_view["events"][2]["actor"] == "wangge" and staff_view["events"][1]["data"] == {"to": "第一网格"}
    resident_view = resident.get(f"/appeals/{pk}").json()
    assert all(e["public"] and e["actor"] == "" and e["data"] == {} for e in resident_view["events"])


def test_supervise_is_internal_in_the_residents_timeline(tree, cats, as_):
    appeal = file_for(tree, cats)
    r = as_(Role.SUBDISTRICT_STAFF).post(f"/appeals/{appeal.pk}/supervise", {"note": "尽快处理"})
    assert r.status_code == 200 and r.json()["supervise_count"] == 1
    assert "supervise" in [e["kind"] for e in as_(Role.COMMUNITY_STAFF).get(f"/appeals/{appeal.pk}").json()["events"]]
    assert "supervise" not in [e["kind"] for e in as_(Role.RESIDENT).get(f"/appeals/{appeal.pk}").json()["events"]]
    assert as_(Role.COMMUNITY_STAFF).post(f"/appeals/{appeal.pk}/supervise", {"note": "x"}).status_code == 403


@pytest.mark.parametrize("step, body, words", [
    ("accept", {}, "can be accepted only when it is Dispatched"),
    ("resolve", {"result": "已处理"}, "can be resolved only when it is Accepted"),
    ("verify", {}, "can be verified only when it is Resolved"),
    ("close", {}, "can be closed only when it is Verified"),
    ("reopen", {"reason": "没解决"}, "can be reopened only when it is"),
    ("rate", {"resolved": True, "satisfaction": "satisfied"}, "can be rated only when it is"),
    ("extension", {"days": 3, "reason": "等配件"}, "can be asked for more time only when it is"),
])
def test_illegal_transitions_are_409_with_the_reason(tree, cats, as_, step, body, words):
    appeal = file_for(tree, cats)
    r = as_(Role.COUNTY_ADMIN).post(f"/appeals/{appeal.pk}/{step}", body)
    assert r.status_code == 409
    assert words in r.json()["detail"]
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED


def test_a_stale_second_accept_is_409_and_says_who(tree, cats, as_):
    appeal = file_for(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    assert as_(Role.GRID_WORKER).post(f"/appeals/{appeal.pk}/accept").status_code == 200
    r = as_(Role.COMMUNITY_STAFF).post(f"/appeals/{appeal.pk}/accept")
    assert r.status_code == 409 and "Accepted" in r.json()["detail"]


def test_validation_errors_are_422(tree, cats, as_):
    appeal = file_for(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    worker = as_(Role.GRID_WORKER)
    r = worker.post(f"/appeals/{appeal.pk}/return", {"reason": ""})
    assert r.status_code == 422 and "not yours" in r.json()["detail"][0]["msg"]
    assert worker.post(f"/appeals/{appeal.pk}/extension", {"days": 99, "reason": "x"}).status_code == 422
    r = as_(Role.COMMUNITY_STAFF).post("/appeals", {"category": "water", "description": "停水", "reporter_id":
                                                    tree.resident_a.pk})
    assert r.status_code == 422 and "停水情况" in r.json()["detail"][0]["msg"]


def test_return_reopen_and_callback(tree, cats, as_):
    staff, worker = as_(Role.COMMUNITY_STAFF), as_(Role.GRID_WORKER)
    department = as_(Role.DEPARTMENT_HANDLER)
    appeal = file_for(tree, cats)
    staff.post(f"/appeals/{appeal.pk}/dispatch", {"to_unit_id": tree.department.pk})
    assert department.get(f"/appeals/{appeal.pk}").status_code == 200
    r = department.post(f"/appeals/{appeal.pk}/return", {"reason": "不属于住建局职责"})
    # The department no longer sees it once returned, yet is answered with what it did.
    assert r.status_code == 200 and r.json()["status"] == "submitted" and r.json()["return_count"] == 1
    assert department.get(f"/appeals/{appeal.pk}").status_code == 404
    staff.post(f"/appeals/{appeal.pk}/dispatch", {"to_node_id": tree.grid_a1.pk})
    worker.post(f"/appeals/{appeal.pk}/accept")
    worker.post(f"/appeals/{appeal.pk}/resolve", {"result": "已处理"})
    r = staff.post(f"/appeals/{appeal.pk}/reopen", {"reason": "复查仍有垃圾"})
    assert r.status_code == 200 and r.json()["status"] == "dispatched" and r.json()["reopen_count"] == 1
    worker.post(f"/appeals/{appeal.pk}/accept")
    worker.post(f"/appeals/{appeal.pk}/resolve", {"result": "再次清运"})
    r = staff.post(f"/appeals/{appeal.pk}/rate", {"resolved": True, "satisfaction": "basic", "callback": True})
    assert r.status_code == 200 and r.json()["rated_by_callback"] is True
    r = as_(Role.RESIDENT).post(f"/appeals/{appeal.pk}/rate", {"resolved": True, "satisfaction": "satisfied"})
    assert r.status_code == 409 and "rated already" in r.json()["detail"]


def test_extension_and_void_requests_and_decisions(tree, cats, as_):
    staff, worker, town = as_(Role.COMMUNITY_STAFF), as_(Role.GRID_WORKER), as_(Role.SUBDISTRICT_STAFF)
    appeal = file_for(tree, cats)
    staff.post(f"/appeals/{appeal.pk}/dispatch", {"to_node_id": tree.grid_a1.pk})
    worker.post(f"/appeals/{appeal.pk}/accept")
    before = Appeal.objects.get(pk=appeal.pk).resolve_due
    assert staff.post(f"/appeals/{appeal.pk}/extension/decide", {"approve": True}).status_code == 409  # none pending
    r = worker.post(f"/appeals/{appeal.pk}/extension", {"days": 3, "reason": "需要等待配件"})
    assert r.status_code == 200
    requests = staff.get(f"/appeals/{appeal.pk}").json()["requests"]
    assert [(q["kind"], q["state"], q["extend_days"]) for q in requests] == [("extension", "pending", 3)]
    assert "extension/decide" in staff.get(f"/appeals/{appeal.pk}").json()["allowed"]
    assert as_(Role.RESIDENT).get(f"/appeals/{appeal.pk}").json()["requests"] == []  # the ledger is for staff
    assert worker.post(f"/appeals/{appeal.pk}/extension/decide", {"approve": True}).status_code == 403
    r = staff.post(f"/appeals/{appeal.pk}/extension/decide", {"approve": True, "note": "同意"})
    assert r.status_code == 200 and r.json()["extension_count"] == 1
    assert Appeal.objects.get(pk=appeal.pk).resolve_due > before

    r = worker.post(f"/appeals/{appeal.pk}/void", {"reason": "重复提交"})
    assert r.status_code == 200
    assert staff.post(f"/appeals/{appeal.pk}/void/decide", {"approve": True}).status_code == 403
    r = town.post(f"/appeals/{appeal.pk}/void/decide", {"approve": True, "note": "核实重复"})
    assert r.status_code == 200 and r.json()["status"] == "voided"
    assert AppealRequest.objects.filter(appeal=appeal, state="approved").count() == 2


def test_merge(tree, cats, as_):
    staff = as_(Role.COMMUNITY_STAFF)
    main, duplicate = file_for(tree, cats), file_for(tree, cats, description="同一处垃圾")
    elsewhere = file_for(tree, cats, by=tree.users[Role.COUNTY_ADMIN], reporter=tree.resident_b,
                         channel=Channel.HOTLINE)
    assert staff.post(f"/appeals/{duplicate.pk}/merge", {"into_id": elsewhere.pk}).status_code == 404  # not in view
    r = staff.post(f"/appeals/{duplicate.pk}/merge", {"into_id": main.pk, "note": "同一问题"})
    assert r.status_code == 200 and r.json()["status"] == "merged" and r.json()["merged_into_id"] == main.pk
    r = staff.post(f"/appeals/{duplicate.pk}/merge", {"into_id": main.pk})
    assert r.status_code == 409


def test_dispatch_targets(tree, cats, as_):
    staff = as_(Role.COMMUNITY_STAFF)
    appeal = file_for(tree, cats)
    assert staff.post(f"/appeals/{appeal.pk}/dispatch", {"to_node_id": tree.grid_b1.pk}).status_code == 404
    assert staff.post(f"/appeals/{appeal.pk}/dispatch", {}).status_code == 422  # one handling unit
    # The county's department is not among the community's units, but it sits above the place.
    r = staff.post(f"/appeals/{appeal.pk}/dispatch", {"to_unit_id": tree.department.pk})
    assert r.status_code == 200 and r.json()["handler_unit_id"] == tree.department.pk
    assert as_(Role.DEPARTMENT_HANDLER).post(f"/appeals/{appeal.pk}/accept").status_code == 200
    other = file_for(tree, cats)
    r = staff.post(f"/appeals/{other.pk}/dispatch", {"to_node_id": tree.town_a.pk})  # up to the subdistrict
    assert r.status_code == 200 and r.json()["handler_node_id"] == tree.town_a.pk


def test_filing_rules(tree, cats, as_, client):
    resident, staff = as_(Role.RESIDENT), as_(Role.COMMUNITY_STAFF)
    r = resident.post("/appeals", {"category": "garbage", "description": "x", "reporter_id": tree.resident_b.pk})
    assert r.status_code == 404  # someone the resident cannot see
    assert resident.post("/appeals", {"category": "nothing", "description": "x"}).status_code == 404
    r = staff.post("/appeals", {"category": "garbage", "description": "楼道堆物", "channel": "window",
                                "household_id": tree.household_a2.pk, "reporter_name": "李秀英",
                                "reporter_phone": "13900002222"})
    assert r.status_code == 201
    body = r.json()
    assert body["channel"] == "window" and body["node_id"] == tree.grid_a2.pk and body["filed_by"] == "shequ"
    assert body["reporter_phone"] == "139****2222" and "13900002222" not in r.content.decode()
    assert staff.post("/appeals", {"category": "garbage", "description": "x",
                                   "reporter_id": tree.resident_b.pk}).status_code == 404
    nobody = make_user("nobody")
    client.force_login(nobody)
    r = client.post(f"{API}/appeals", {"category": "garbage", "description": "x"}, content_type="application/json")
    assert r.status_code == 403


def test_categories_with_form_fields(tree, cats, as_):
    r = as_(Role.RESIDENT).get("/appeal-categories")
    assert r.status_code == 200
    found = {c["code"]: c for c in r.json()["items"]}
    assert set(found) == {"environment", "garbage", "water", "safety"}
    assert found["water"]["form_fields"][0]["code"] == "outage"
    assert found["garbage"]["parent_id"] == cats["env"].pk
    assert (found["garbage"]["resolve_amount"], found["garbage"]["resolve_unit"]) == (7, "working_days")  # inherited
    assert (found["safety"]["resolve_amount"], found["safety"]["resolve_unit"]) == (2, "natural_hours")


def test_list_filters_and_queues(tree, cats, as_):
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    garbage = file_for(tree, cats)
    water = file_for(tree, cats, category=cats["water"], attributes={"outage": "low"}, description="水压很低")
    at_a2 = file_for(tree, cats, by=staff, reporter=tree.resident_a2, channel=Channel.WINDOW)
    actions.appeal_dispatch(appeal=water, by=staff, to_unit=tree.partner)
    actions.appeal_dispatch(appeal=at_a2, by=staff, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=at_a2, by=worker)
    actions.appeal_resolve(appeal=at_a2, by=worker, result="已清理")

    def ids(caller, **params):
        r = caller.get("/appeals", {"limit": 200, **params})
        assert r.status_code == 200, r.content
        return {x["id"] for x in r.json()["items"]}

    c = as_(Role.COMMUNITY_STAFF)
    assert ids(c) == {garbage.pk, water.pk, at_a2.pk}
    assert ids(c, status="dispatched") == {water.pk}
    assert ids(c, category="environment") == {garbage.pk, at_a2.pk}  # with its subcategory
    assert ids(c, category="water") == {water.pk}
    assert ids(c, node=tree.grid_a2.pk) == {at_a2.pk}
    assert ids(c, node=tree.grid_b1.pk) == set()  # out of scope: nothing, not an error
    assert ids(c, handler_unit=tree.partner.pk) == {water.pk}
    assert ids(c, handler_node=tree.grid_a1.pk) == {at_a2.pk}
    assert ids(c, q=water.number) == {water.pk}
    assert ids(c, q="水压") == {water.pk}
    assert ids(c, due_state="overdue") == set()
    today = timezone.localtime(garbage.submitted_at).date().isoformat()
    assert ids(c, **{"from": today, "to": today}) == {garbage.pk, water.pk, at_a2.pk}
    assert ids(c, **{"from": "2000-01-01", "to": "2000-01-02"}) == set()
    assert ids(c, queue="dispatch") == {garbage.pk}
    assert ids(c, queue="verify") == {at_a2.pk}
    assert ids(as_(Role.GRID_WORKER), queue="handle") == set()
    assert ids(as_(Role.PARTNER_CONTACT), queue="handle") == {water.pk}
    assert ids(as_(Role.RESIDENT), queue="mine") == {garbage.pk, water.pk}
    r = as_(Role.COMMUNITY_STAFF).get("/appeals", {"queue": "everything"})
    assert r.status_code == 422


def test_list_takes_a_constant_number_of_queries(tree, cats, as_):
    caller = as_(Role.COUNTY_ADMIN)
    caller.get("/appeals")  # warm up the session

    def count():
        with CaptureQueriesContext(connection) as queries:
            r = caller.get("/appeals", {"limit": 200})
        assert r.status_code == 200
        return len(queries), r.json()["count"]

    for n in range(2):
        appeal = file_for(tree, cats)
        actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_unit=tree.department)
    few, shown = count()
    for n in range(6):
        appeal = file_for(tree, cats, by=tree.users[Role.COUNTY_ADMIN], reporter=tree.resident_b,
                          channel=Channel.HOTLINE)
        actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COUNTY_ADMIN], to_node=tree.grid_b1)
    many, shown_many = count()
    assert (shown, shown_many) == (2, 8)
    assert many == few
