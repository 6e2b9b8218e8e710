"""Open311 GeoReport v2 as a client written against the specification sees it: both formats on every
endpoint, api_key errors, filing form-encoded, following a request through our states, the filters and
limits of the request list, the status-update extension, no personal data in public answers, the keys."""

import datetime as dt
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from gongzhi.core.access import Role
from gongzhi.appeals import actions, open311
from gongzhi.appeals.actions import open311 as clients
from gongzhi.appeals.models import OPEN_STATUSES, Appeal, Category, Channel, Open311Client, Status
from gongzhi.core.models import AuditEvent
from gongzhi.core.pii import decrypt

from .appeals_factories import make_categories

BASE = "/open311/v2"
FORMATS = ["json", "xml"]
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]


@pytest.fixture
def cats(tree):
    # Grid centres, so that a point can be placed.
    for node, (lat, lng) in ((tree.grid_a1, (29.350, 102.650)), (tree.micro_a1, (29.351, 102.651)),
                             (tree.grid_a2, (29.360, 102.660)), (tree.grid_b1, (29.400, 102.700))):
        node.lat, node.lng = lat, lng
        node.save()
    return make_categories()


@pytest.fixture
def key(cats, tree):
    _client, raw = clients.open311_client_create(name="城市随手拍", node=tree.county, by=tree.users[Role.COUNTY_ADMIN])
    return raw


def items(response, fmt, root, item):
    """The list a response carries, as dicts of strings in XML; the XML's element names are checked."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return response.json()
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    tree = ET.fromstring(response.content)
    assert tree.tag == root
    assert all(child.tag == item for child in tree)
    return [{field.tag: field for field in child} for child in tree]


def text(value):
    """A field's value the same way in both formats: XML element text, or the JSON value as text."""
    if isinstance(value, ET.Element):
        return value.text or ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def post(client, fmt, data, **extra):
    """Form-encoded, as the specification says an Open311 client posts."""
    body = urllib.parse.urlencode(data, doseq=True)
    return client.post(f"{BASE}/requests.{fmt}", body, content_type="application/x-www-form-urlencoded", **extra)


def errors(response, fmt):
    found = items(response, fmt, "errors", "error")
    assert found, "an error list"
    return [(int(text(e["code"])), text(e["description"])) for e in found]


def file_for(tree, cats, by=None, **kw):
    args = dict(by=by or tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE, reporter=tree.resident_a)
    args.update(kw)
    return actions.appeal_file(**args)


# --- discovery, services, definitions ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery(client, cats, fmt):
    r = client.get(f"{BASE}/discovery.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        endpoint = r.json()["endpoints"][0]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2"
        assert endpoint["formats"] == ["text/xml", "application/json"]
    else:
        root = ET.fromstring(r.content)
        assert root.tag == "discovery"
        assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
        assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2"


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list_every_active_category(client, cats, fmt):
    Category.objects.create(code="retired", name="旧分类", is_active=False)
    cats["garbage"].keywords = "垃圾, 清运"
    cats["garbage"].description = "生活垃圾未及时清运"
    cats["garbage"].save()
    r = client.get(f"{BASE}/services.{fmt}")
    assert r.status_code == 200 and r["Access-Control-Allow-Origin"] == "*"
    services = {text(s["service_code"]): s for s in items(r, fmt, "services", "service")}
    assert set(services) == {"environment", "garbage", "water", "safety"}
    for service in services.values():
        assert list(service) == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
        assert text(service["type"]) == "realtime"
    garbage = {k: text(v) for k, v in services["garbage"].items()}
    assert garbage == {"service_code": "garbage", "service_name": "垃圾清运", "description": "生活垃圾未及时清运",
                       "metadata": "false", "type": "realtime", "keywords": "垃圾, 清运", "group": "环境卫生"}
    assert text(services["water"]["metadata"]) == "true"  # it has form fields
    assert text(services["water"]["group"]) == ""


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_from_form_fields(client, cats, fmt):
    r = client.get(f"{BASE}/services/water.{fmt}")
    assert r.status_code == 200
    if fmt == "json":
        body = r.json()
        assert body["service_code"] == "water"
        assert body["attributes"] == [{
            "variable": True, "code": "outage", "datatype": "singlevaluelist", "required": True,
            "datatype_description": "", "order": 1, "description": "停水情况",
            "values": [{"key": "none", "name": "没有水"}, {"key": "low", "name": "水压低"}],
        }]
    else:
        root = ET.fromstring(r.content)
        assert root.tag == "service_definition" and root.findtext("service_code") == "water"
        (attribute,) = root.findall("attributes/attribute")
        assert [c.tag for c in attribute] == ["variable", "code", "datatype", "required", "datatype_description",
                                              "order", "description", "values"]
        assert (attribute.findtext("variable"), attribute.findtext("required")) == ("true", "true")
        assert [(v.findtext("key"), v.findtext("name")) for v in attribute.findall("values/value")] == [
            ("none", "没有水"), ("low", "水压低")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_is_404(client, cats, fmt):
    r = client.get(f"{BASE}/services/nothing.{fmt}", **EN)
    assert r.status_code == 404
    assert errors(r, fmt) == [(404, "There is no service with the code nothing.")]


def test_unknown_format_is_not_served(client, cats):
    assert client.get(f"{BASE}/services.html").status_code == 404


# --- filing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_spec_client_files_form_encoded_and_follows_to_the_end(client, tree, cats, key, fmt, settings):
    settings.GONGZHI_RATING_WAIT_DAYS = 0  # closed without waiting for a rating: the feed below shows none
    """A client that only knows the specification: attribute[outage]=none, lat/long, personal fields;
    no session and no CSRF token."""
    r = post(Client(enforce_csrf_checks=True), fmt, {
        "api_key": key, "service_code": "water", "lat": "29.3502", "long": "102.6503", "attribute[outage]": "none",
        "first_name": "建国", "last_name": "张", "phone": "13800001111", "email": "zhang@example.com",
        "account_id": "acct-7", "device_id": "dev-1", "media_url": "https://img.example.com/1.jpg",
    }, **EN)
    assert r.status_code == 201
    (created,) = items(r, fmt, "service_requests", "request")
    assert list(created) == ["service_request_id", "service_notice", "account_id"]
    number = text(created["service_request_id"])
    assert text(created["account_id"]) == "acct-7"
    assert text(created["service_notice"]) == (
        "Answered within 2 working hours and resolved within 24 hours; working days follow the official calendar.")

    appeal = Appeal.objects.get(number=number)
    assert appeal.channel == Channel.ONLINE and appeal.filed_by is None
    assert appeal.client.name == "城市随手拍"
    assert appeal.node == tree.grid_a1  # the nearest grid centre to the point
    assert appeal.attributes == {"outage": "none"}
    assert appeal.description == "供水；停水情况：没有水"  # no description sent: made from the answers
    assert (appeal.lat, appeal.lng) == (29.3502, 102.6503)
    assert appeal.reporter_name == "张建国" and appeal.reporter_phone_masked == "138****1111"
    file_event = appeal.events.get(kind="file")
    assert file_event.data["account_id"] == "acct-7" and file_event.data["device_id"] == "dev-1"
    assert decrypt(file_event.data["email_enc"]) == "zhang@example.com"
    assert file_event.data["email_masked"] == "z***@example.com" and "zhang@" not in str(file_event.data)
    # One audit row for the filing, naming the client.
    filed = AuditEvent.objects.filter(object_type="appeals.appeal", object_id=str(appeal.pk))
    assert [(e.action, e.changes.get("client")) for e in filed] == [("appeal.file", "城市随手拍")]

    def follow():
        r = client.get(f"{BASE}/requests/{number}.{fmt}", **EN)
        assert r.status_code == 200
        (found,) = items(r, fmt, "service_requests", "request")
        assert list(found) == REQUEST_FIELDS
        return {k: text(v) for k, v in found.items()}

    seen = follow()
    assert seen["status"] == "open" and seen["status_notes"] == "Received; waiting to be dispatched."
    assert seen["service_code"] == "water" and seen["service_name"] == "供水"
    assert seen["agency_responsible"] == "富林镇城东社区"  # the first receiver until it is dispatched
    assert seen["media_url"] == "https://img.example.com/1.jpg"
    assert (float(seen["lat"]), float(seen["long"])) == (29.3502, 102.6503)
    assert seen["address_id"] == str(tree.grid_a1.pk)
    assert seen["expected_datetime"] == timezone.localtime(appeal.resolve_due).isoformat(timespec="seconds")
    assert seen["requested_datetime"].endswith("+08:00")

    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    assert follow()["status_notes"] == "Dispatched to 富林镇城东社区第一网格; waiting to be accepted."
    actions.appeal_accept(appeal=appeal, by=worker)
    seen = follow()
    assert (seen["status"], seen["status_notes"]) == ("open", "Accepted by 富林镇城东社区第一网格 and being handled.")
    assert seen["agency_responsible"] == "富林镇城东社区第一网格"
    actions.appeal_resolve(appeal=appeal, by=worker, result="已联系自来水公司抢修，下午恢复供水")
    seen = follow()
    assert seen["status"] == "open"
    assert seen["status_notes"] == "Resolved by 富林镇城东社区第一网格, waiting to be checked: 已联系自来水公司抢修，下午恢复供水"
    actions.appeal_verify(appeal=appeal, by=staff)
    actions.appeal_close(appeal=appeal, by=staff)
    seen = follow()
    assert (seen["status"], seen["status_notes"]) == ("closed", "Closed: 已联系自来水公司抢修，下午恢复供水")

    r = client.get(f"{BASE}/servicerequestupdates.{fmt}", {"service_request_id": number}, **EN)
    feed = [{k: text(v) for k, v in u.items()} for u in items(r, fmt, "service_requests_updates", "request_update")]
    assert [u["description"] for u in feed] == [
        "Request received.", "Dispatched to 第一网格.", "Accepted; being handled.",
        "Resolved: 已联系自来水公司抢修，下午恢复供水", "Checked: the work is done.", "Closed.",
    ]
    assert [u["status"] for u in feed] == ["open"] * 5 + ["closed"]
    assert {u["service_request_id"] for u in feed} == {number}
    assert list(items(r, fmt, "service_requests_updates", "request_update")[0]) == [
        "update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]


def test_json_body_and_multivalue_attributes(client, tree, cats, key):
    Category.objects.create(code="noise", name="噪音扰民", form_fields=[
        {"code": "when", "datatype": "multivaluelist", "required": True, "description": "时段",
         "values": [{"key": "day", "name": "白天"}, {"key": "night", "name": "夜间"}]}])
    r = post(client, "json", {"api_key": key, "service_code": "noise", "address_string": "滨河小区1栋",
                              "attribute[when][]": ["day", "night"], "description": "装修噪音"})
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get(number=r.json()[0]["service_request_id"])
    assert appeal.attributes == {"when": ["day", "night"]}
    r = client.post(f"{BASE}/requests.xml", {"api_key": key, "service_code": "noise", "address_id": tree.grid_a2.pk,
                                              "attribute": {"when": ["night"]}, "description": "夜里施工"},
                    content_type="application/json")
    assert r.status_code == 201
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests" and root.find("request/service_request_id") is not None
    appeal = Appeal.objects.get(number=root.findtext("request/service_request_id"))
    assert appeal.attributes == {"when": ["night"]} and appeal.node == tree.grid_a2


@pytest.mark.parametrize("fmt", FORMATS)
def test_api_key_missing_unknown_or_revoked_is_403(client, tree, cats, key, fmt):
    body = {"service_code": "garbage", "address_string": "滨河小区", "description": "垃圾"}
    for api_key in (None, "not-a-key"):
        r = post(client, fmt, {**body, **({"api_key": api_key} if api_key else {})}, **EN)
        assert r.status_code == 403
        assert errors(r, fmt) == [(403, "The api_key is missing, unknown or revoked.")]
    clients.open311_client_revoke(client=Open311Client.objects.get(), by=tree.users[Role.COUNTY_ADMIN])
    r = post(client, fmt, {**body, "api_key": key}, **EN)
    assert r.status_code == 403 and errors(r, fmt)[0][0] == 403
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_requests_answer_400_or_404(client, tree, cats, key, fmt):
    def fails(status, data, words):
        r = post(client, fmt, {"api_key": key, **data}, **EN)
        assert r.status_code == status, (data, r.content)
        found = errors(r, fmt)
        assert found[0][0] == status and words in " ".join(d for _c, d in found), (data, found)

    place = {"address_string": "滨河小区"}
    fails(400, {**place, "description": "x"}, "service_code is required")
    fails(404, {**place, "service_code": "nothing"}, "no service with the code nothing")
    fails(400, {"service_code": "garbage", "description": "垃圾"}, "Say where")
    fails(400, {"service_code": "garbage", "lat": "29.35", "description": "垃圾"}, "lat and long together")
    fails(400, {"service_code": "garbage", "lat": "95", "long": "102.6", "description": "垃圾"}, "lat must be a number")
    fails(400, {"service_code": "garbage", "lat": "39.9", "long": "116.4", "description": "垃圾"}, "outside the area")
    fails(400, {"service_code": "garbage", "address_string": "北京市朝阳区", "description": "垃圾"}, "could not be found")
    fails(400, {"service_code": "garbage", "address_id": "999999", "description": "垃圾"}, "address_id")
    fails(400, {**place, "service_code": "water", "description": "停水"}, "停水情况")  # a required attribute
    fails(400, {**place, "service_code": "water", "attribute[outage]": "flood"}, "one of the listed values")
    fails(400, {**place, "service_code": "garbage", "description": "垃圾", "phone": "12345"}, "phone number")
    fails(400, {**place, "service_code": "garbage", "description": "垃圾", "media_url": "javascript:alert(1)"},
          "media_url")
    assert not Appeal.objects.exists()


def test_places_from_address_and_id_inside_the_jurisdiction(client, tree, cats):
    town_a_client, town_a_key = clients.open311_client_create(name="富林镇小程序", node=tree.town_a, by=None)
    _county_client, county_key = clients.open311_client_create(name="县级平台", node=tree.county, by=None)

    def placed(key, **where):
        r = post(client, "json", {"api_key": key, "service_code": "garbage", "description": "垃圾", **where})
        assert r.status_code == 201, r.content
        return Appeal.objects.get(number=r.json()[0]["service_request_id"]).node

    assert placed(county_key, address_string="滨河小区1栋门口") == tree.grid_a1  # the building's grid
    assert placed(county_key, address_string="滨河小区西门") == tree.comm_a  # compound without a single grid
    # Both communities have a 第一网格: the community named decides.
    assert placed(county_key, address_string="九襄镇文明社区第一网格菜市场") == tree.grid_b1
    assert placed(county_key, address_string="城东社区第一网格") == tree.grid_a1
    assert placed(county_key, address_string="九襄镇") == tree.town_b
    assert placed(county_key, address_id=str(tree.micro_a1.pk)) == tree.micro_a1
    assert placed(county_key, lat="29.3508", long="102.6509") == tree.micro_a1  # nearest centre: the micro-grid
    assert placed(town_a_key, address_string="城东社区") == tree.comm_a
    for where in ({"address_string": "花园小区"}, {"address_id": str(tree.grid_b1.pk)}, {"lat": "29.4", "long": "102.7"}):
        r = post(client, "json", {"api_key": town_a_key, "service_code": "garbage", "description": "垃圾", **where})
        assert r.status_code == 400, where  # the other town is outside this key's jurisdiction
    assert town_a_client.appeals.count() == 1


# --- the public request list ------------------------------------------------------------------------------


@pytest.fixture
def history(tree, cats, settings):
    """Appeals filed 1, 10, 50 and 100 days ago, one of them closed."""
    settings.GONGZHI_RATING_WAIT_DAYS = 0  # closed without waiting for a rating
    now = timezone.now()
    staff, worker = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.GRID_WORKER]
    made = {}
    for days, category in ((1, "garbage"), (10, "safety"), (50, "garbage"), (100, "garbage")):
        made[days] = file_for(tree, cats, category=cats[category], submitted_at=now - dt.timedelta(days=days))
    closed = made[10]
    actions.appeal_dispatch(appeal=closed, by=staff, to_node=tree.grid_a1)
    actions.appeal_accept(appeal=closed, by=worker)
    actions.appeal_resolve(appeal=closed, by=worker, result="已排除隐患")
    actions.appeal_verify(appeal=closed, by=staff)
    actions.appeal_close(appeal=closed, by=staff)
    return made


def listed(client, fmt, **params):
    r = client.get(f"{BASE}/requests.{fmt}", params, **EN)
    assert r.status_code == 200, r.content
    return [text(x["service_request_id"]) for x in items(r, fmt, "service_requests", "request")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_list_filters_and_default_window(client, history, fmt):
    n = {days: a.number for days, a in history.items()}
    assert listed(client, fmt) == [n[1], n[10], n[50]]  # the last 90 days, newest first
    old = (timezone.now() - dt.timedelta(days=120)).isoformat(timespec="seconds")
    assert listed(client, fmt, start_date=old) == [n[50], n[100]]  # start + 90 days: 120 to 30 days ago
    end = (timezone.now() - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert listed(client, fmt, end_date=end) == [n[10], n[50]]  # end - 90 days
    assert listed(client, fmt, start_date=old, end_date=timezone.now().isoformat()) == [n[1], n[10], n[50], n[100]]
    assert listed(client, fmt, status="closed") == [n[10]]
    assert listed(client, fmt, status="open") == [n[1], n[50]]
    assert listed(client, fmt, status="open,closed") == [n[1], n[10], n[50]]
    assert listed(client, fmt, service_code="safety") == [n[10]]
    assert listed(client, fmt, service_code="safety,garbage") == [n[1], n[10], n[50]]
    # service_request_id overrides every other argument, even the window.
    assert listed(client, fmt, service_request_id=f"{n[100]},{n[1]}", status="closed") == [n[1], n[100]]
    assert listed(client, fmt, page_size="2") == [n[1], n[10]]
    assert listed(client, fmt, page_size="2", page="2") == [n[50]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_list_caps_and_rejects_bad_arguments(client, history, monkeypatch, fmt):
    assert open311.MAX_RESULTS == 1000 and open311.DEFAULT_SPAN == dt.timedelta(days=90)  # the specification's
    monkeypatch.setattr(open311, "MAX_RESULTS", 2)
    assert len(listed(client, fmt)) == 2
    for params, words in (({"start_date": "yesterday"}, "start_date must be a W3C date"),
                          ({"status": "pending"}, "status is open, closed"),
                          ({"page_size": "5"}, "page_size is 1 to 2"),
                          ({"start_date": "2025-02-01", "end_date": "2025-01-01"}, "end_date is before start_date")):
        r = client.get(f"{BASE}/requests.{fmt}", params, **EN)
        assert r.status_code == 400, params
        assert words in errors(r, fmt)[0][1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_request_and_tokens(client, history, fmt):
    r = client.get(f"{BASE}/requests/404404.{fmt}", **EN)
    assert r.status_code == 404 and errors(r, fmt) == [(404, "There is no service request 404404.")]
    number = history[1].number
    r = client.get(f"{BASE}/tokens/{number}.{fmt}")
    assert r.status_code == 200
    (found,) = items(r, fmt, "service_requests", "request")
    assert {k: text(v) for k, v in found.items()} == {"service_request_id": number, "token": number}
    r = client.get(f"{BASE}/tokens/nothing.{fmt}")
    assert r.status_code == 404 and errors(r, fmt)[0][0] == 404


STATUS_NOTES = {
    Status.SUBMITTED: ("open", "Received; waiting to be dispatched."),
    Status.DISPATCHED: ("open", "Dispatched to 富林镇城东社区第一网格; waiting to be accepted."),
    Status.ACCEPTED: ("open", "Accepted by 富林镇城东社区第一网格 and being handled."),
    Status.RESOLVED: ("open", "Resolved by 富林镇城东社区第一网格, waiting to be checked: 已清运"),
    Status.VERIFIED: ("open", "Resolved and checked: 已清运"),
    Status.CLOSED: ("closed", "Closed: 已清运"),
    Status.VOIDED: ("closed", "Voided: not taken up (a duplicate, a prank or filed by mistake)."),
    Status.MERGED: ("closed", "Merged into request {main} and handled there."),
}


def test_status_mapping_covers_every_state(client, tree, cats, settings):
    settings.GONGZHI_RATING_WAIT_DAYS = 0  # closed without waiting for a rating
    staff, worker, town = (tree.users[r] for r in (Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.SUBDISTRICT_STAFF))
    main = file_for(tree, cats, description="另一份：3栋门口垃圾")
    steps = [
        lambda a: actions.appeal_dispatch(appeal=a, by=staff, to_node=tree.grid_a1),
        lambda a: actions.appeal_accept(appeal=a, by=worker),
        lambda a: actions.appeal_resolve(appeal=a, by=worker, result="已清运"),
        lambda a: actions.appeal_verify(appeal=a, by=staff),
        lambda a: actions.appeal_close(appeal=a, by=staff),
    ]
    order = [Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED, Status.RESOLVED, Status.VERIFIED, Status.CLOSED]
    appeals = {}
    for n, status in enumerate(order):
        appeal = file_for(tree, cats)
        for step in steps[:n]:
            step(appeal)
        appeals[status] = appeal
    voided = file_for(tree, cats)
    request = actions.void_request(appeal=voided, by=staff, reason="重复提交")
    actions.void_decide(request=request, by=town, approve=True)
    merged = file_for(tree, cats)
    actions.appeal_merge(appeal=merged, into=main, by=staff)
    appeals[Status.VOIDED], appeals[Status.MERGED] = voided, merged
    assert set(appeals) == set(Status.values)
    for status, appeal in appeals.items():
        appeal.refresh_from_db()
        assert appeal.status == status
        r = client.get(f"{BASE}/requests/{appeal.number}.json", **EN)
        want_status, want_notes = STATUS_NOTES[status]
        found = r.json()[0]
        assert (found["status"], found["status_notes"]) == (want_status, want_notes.format(main=main.number)), status
    # The table matches the model's own split of open and ended states.
    assert {s for s, (o, _n) in STATUS_NOTES.items() if o == "open"} == set(OPEN_STATUSES)


def test_status_notes_in_chinese_by_default(client, tree, cats):
    appeal = file_for(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=tree.users[Role.GRID_WORKER])
    found = client.get(f"{BASE}/requests/{appeal.number}.json").json()[0]
    assert "签收" in found["status_notes"] and "办理" in found["status_notes"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_public_answers_carry_no_personal_data(client, tree, cats, key, fmt):
    file_for(tree, cats, description="我家门口垃圾堆了三天，电话13800001111，身份证511823194003150012",
             reporter_phone="13800001111")
    post(client, "json", {"api_key": key, "service_code": "garbage", "address_string": "滨河小区1栋",
                          "description": "楼下垃圾桶满了", "first_name": "小红", "last_name": "刘",
                          "phone": "13911112222", "email": "liu@example.com"})
    bodies = [client.get(f"{BASE}/requests.{fmt}").content.decode(),
              client.get(f"{BASE}/servicerequestupdates.{fmt}").content.decode()]
    for body in bodies:
        for secret in ("13800001111", "511823194003150012", "张建国", "13911112222", "刘小红", "liu@example.com",
                       "滨河小区1栋1单元101"):
            assert secret not in body, secret
    assert "138********" in bodies[0] and "5118**************" in bodies[0]
    resident_filed = [r for r in client.get(f"{BASE}/requests.json").json() if r["description"].startswith("我家")]
    assert resident_filed[0]["address"] == "富林镇城东社区第一网格第一微网格"  # the grid, not the household


FORMATTED = {  # typed -> what the public answer shows
    "138-1234-5678": "138********",
    "138 1234 5678": "138********",
    "0835-1234567": "0835-*******",
    "+86 138 1234 5678": "+86 138********",
    "１３８１２３４５６７８": "１３８********",
    "511823 19400315 0012": "5118**************",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_formatted_phone_and_id_numbers_are_masked_in_public_answers(client, tree, cats, fmt):
    """However a number is written, in the description, the result (status_notes) and the update feed; dates,
    house numbers and amounts stay as typed. A household's point is its grid's centre, not its compound's."""
    tree.compound_a.lat, tree.compound_a.lng = 29.3555, 102.6555
    plain = "2026-12-07起3栋2单元501门口，修了1200元"
    typed = "；".join(FORMATTED)
    # The phone page files a household's appeal at its compound's point (views_resident._household_point).
    appeal = file_for(tree, cats, household=tree.household_a, description=f"{plain}，联系：{typed}",
                      lat=tree.compound_a.lat, lng=tree.compound_a.lng)
    handle = tree.users[Role.GRID_WORKER]
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=handle)
    actions.appeal_resolve(appeal=appeal, by=handle, result=f"已回电{typed}")

    for r in (client.get(f"{BASE}/requests/{appeal.number}.{fmt}"), client.get(f"{BASE}/requests.{fmt}")):
        assert r.status_code == 200
        found = items(r, fmt, "service_requests", "request")[0]
        description, notes = text(found["description"]), text(found["status_notes"])
        for raw, masked in FORMATTED.items():
            assert raw not in description and raw not in notes, raw
            assert masked in description and masked in notes, masked
        assert plain in description
        assert (text(found["lat"]), text(found["long"])) == ("29.351", "102.651")  # micro_a1's centre
    r = client.get(f"{BASE}/servicerequestupdates.{fmt}", {"service_request_id": appeal.number})
    feed = " ".join(text(u["description"]) for u in items(r, fmt, "service_requests_updates", "request_update"))
    for raw, masked in FORMATTED.items():
        assert raw not in feed and masked in feed, raw
    for digits in ("12345678", "19400315", "1234567"):
        assert digits not in r.content.decode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_updates_extension_window_and_public_steps_only(client, tree, cats, fmt):
    staff, town = tree.users[Role.COMMUNITY_STAFF], tree.users[Role.SUBDISTRICT_STAFF]
    old = file_for(tree, cats, submitted_at=timezone.now() - dt.timedelta(days=100))
    appeal = file_for(tree, cats)
    actions.appeal_dispatch(appeal=appeal, by=staff, to_node=tree.grid_a1)
    actions.appeal_supervise(appeal=appeal, by=town, note="尽快处理")  # internal: not an update

    def feed(**params):
        r = client.get(f"{BASE}/servicerequestupdates.{fmt}", params, **EN)
        assert r.status_code == 200
        return [(text(u["service_request_id"]), text(u["description"]))
                for u in items(r, fmt, "service_requests_updates", "request_update")]

    assert feed() == [(appeal.number, "Request received."), (appeal.number, "Dispatched to 第一网格.")]
    since = (timezone.now() - dt.timedelta(days=120)).isoformat(timespec="seconds")
    assert feed(start_date=since)[0] == (old.number, "Request received.")
    assert feed(service_request_id=old.number, start_date=since) == [(old.number, "Request received.")]
    later = (timezone.now() + dt.timedelta(minutes=1)).isoformat(timespec="seconds")
    assert feed(start_date=later) == []


# --- keys ----------------------------------------------------------------------------------------------------


def test_admin_issues_and_revokes_keys_on_the_page(client, tree, cats):
    admin = tree.users[Role.COUNTY_ADMIN]
    client.force_login(admin)
    page = client.get(f"{BASE}/keys/")
    assert page.status_code == 200
    r = client.post(f"{BASE}/keys/", {"name": "市民通APP", "node": tree.town_a.pk})
    assert r.status_code == 200
    raw = r.context["new_raw"]
    assert raw and raw in r.content.decode()  # shown once ...
    assert raw not in client.get(f"{BASE}/keys/").content.decode()  # ... and never again
    issued = Open311Client.objects.get(name="市民通APP")
    assert issued.node == tree.town_a and issued.issued_by == admin and raw not in (issued.key_hash, issued.prefix)
    assert AuditEvent.objects.filter(action="open311.client_create", object_id=str(issued.pk), actor=admin).exists()
    anonymous = Client()
    body = {"api_key": raw, "service_code": "garbage", "address_string": "滨河小区", "description": "垃圾"}
    ok = post(anonymous, "json", body)
    assert ok.status_code == 201
    r = client.post(f"{BASE}/keys/{issued.pk}/revoke")
    assert r.status_code == 302
    issued.refresh_from_db()
    assert issued.revoked_at is not None
    assert AuditEvent.objects.filter(action="open311.client_revoke", object_id=str(issued.pk)).exists()
    refused = post(anonymous, "json", body)
    assert refused.status_code == 403


def test_only_county_admins_manage_keys(client, tree, cats):
    issued, _raw = clients.open311_client_create(name="x", node=tree.county, by=None)
    assert Client().get(f"{BASE}/keys/").status_code == 302  # to the login page
    for role in Role:
        if role == Role.COUNTY_ADMIN:
            continue
        client.force_login(tree.users[role])
        assert client.get(f"{BASE}/keys/").status_code == 403, role
        assert client.post(f"{BASE}/keys/", {"name": "y", "node": tree.county.pk}).status_code == 403, role
        assert client.post(f"{BASE}/keys/{issued.pk}/revoke").status_code == 403, role
    issued.refresh_from_db()
    assert issued.revoked_at is None and Open311Client.objects.count() == 1
    with pytest.raises(PermissionDenied):
        clients.open311_client_create(name="z", node=tree.county, by=tree.users[Role.SUBDISTRICT_STAFF])


def test_the_endpoint_page_is_public(client, cats):
    r = client.get(f"{BASE}/", **EN)
    assert r.status_code == 200
    html = r.content.decode()
    assert "servicerequestupdates.json" in html and "<code>closed</code>" in html


def test_demo_key(client, db):
    from gongzhi.accounts.demo import DEMO_OPEN311_KEY
    from gongzhi.appeals.demo import ensure_demo_client
    from gongzhi.orgs.demo import generate
    from gongzhi.orgs.models import NodeKind, OrgNode

    generate(seed=3, scale=0.02)
    ensure_demo_client()
    ensure_demo_client()  # every demo start runs it: still one key
    assert DEMO_OPEN311_KEY == "gongzhi-demo-open311"
    demo = Open311Client.objects.get()
    county = OrgNode.objects.get(kind=NodeKind.COUNTY)
    assert demo.node == county and demo.key_hash == clients.key_hash(DEMO_OPEN311_KEY)
    Category.objects.get_or_create(code="streetlight", defaults={"name": "路灯"})
    grid = OrgNode.objects.filter(kind=NodeKind.GRID).order_by("path").first()
    r = post(client, "json", {"api_key": DEMO_OPEN311_KEY, "service_code": "streetlight", "lat": grid.lat,
                              "long": grid.lng, "description": "路灯不亮"})
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get(number=r.json()[0]["service_request_id"])
    assert appeal.org_path.startswith(grid.path) and appeal.client == demo
