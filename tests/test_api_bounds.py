"""Bounded API input: ids past 64 bits, offsets and limits out of range, impossible or far-off days, strict day
syntax and NUL characters answer ninja's 422 naming the field, never a 500; every paged list counts at most
COUNT_CAP + 1 rows and says when it stopped; the appeals list does not join the residents to count."""

import json
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.actions import token_create
from gongzhi.core.access import Role
from gongzhi.api import OPENAPI_FILE
from gongzhi.appeals import actions
from gongzhi.appeals.models import Appeal, Channel
from gongzhi.core import api as core_api

from .appeals_factories import make_categories

API = "/api/v1"
PAST_64_BITS = str(2**63)  # one more than the largest id a row can have
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _default_language_after():
    """The requests here ask for English; the language they leave active would follow into the next test."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def cats(tree):
    return make_categories()


@pytest.fixture
def admin(tree, cats):
    """A client of the county admin, with a bearer token; 500s come back as responses, as a real client sees them."""
    _token, raw = token_create(user=tree.users[Role.COUNTY_ADMIN], name="bounds")
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"}, **EN)
    return client


def refused(response, *loc):
    """A 422 whose detail names the refused value at ``loc`` (e.g. "query", "offset")."""
    assert response.status_code == 422, (response.status_code, response.content[:300])
    found = [tuple(item["loc"]) for item in response.json()["detail"]]
    assert tuple(loc) in found, found
    return response


def file_for(tree, cats, **kw):
    args = dict(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                description="3栋门口垃圾堆了三天没人清运", channel=Channel.ONLINE, reporter=tree.resident_a)
    args.update(kw)
    return actions.appeal_file(**args)


def _paged_lists(tree):
    return ["/nodes", f"/nodes/{tree.county.pk}/children", "/compounds", "/buildings", "/households", "/residents",
            "/party-organizations", "/party-members", "/units", "/appeal-categories", "/appeals", "/auth/tokens"]


# --- the 500s reported ------------------------------------------------------------------------------------


def test_an_offset_past_64_bits_is_422_on_every_paged_list(tree, admin):
    for path in _paged_lists(tree):
        refused(admin.get(API + path, {"offset": PAST_64_BITS}), "query", "offset")


def test_offset_and_limit_are_bounded(tree, admin):
    for path in _paged_lists(tree):
        refused(admin.get(API + path, {"offset": core_api.MAX_OFFSET + 1}), "query", "offset")
        refused(admin.get(API + path, {"limit": core_api.MAX_LIMIT + 1}), "query", "limit")
        refused(admin.get(API + path, {"limit": 0}), "query", "limit")
        r = admin.get(API + path, {"offset": core_api.MAX_OFFSET, "limit": core_api.MAX_LIMIT})
        assert r.status_code == 200 and r.json()["items"] == [], path


def test_an_appeal_filter_id_past_64_bits_is_422(admin):
    refused(admin.get(API + "/appeals", {"handler_unit": PAST_64_BITS}), "query", "handler_unit")
    refused(admin.get(API + "/appeals", {"handler_node": PAST_64_BITS}), "query", "handler_node")
    refused(admin.get(API + "/appeals", {"node": "0"}), "query", "node")


def test_every_id_the_api_reads_is_bounded(tree, admin):
    """Each integer parameter of the committed OpenAPI (path or query) past 64 bits: 422 naming it."""
    schema = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    checked = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                types = [param["schema"].get("type")] + [s.get("type") for s in param["schema"].get("anyOf", [])]
                if "integer" not in types or param["name"] in ("limit", "offset", "depth", "age_min", "age_max"):
                    continue
                url = re.sub(r"\{(\w+)\}", lambda m: PAST_64_BITS if m.group(1) == param["name"] else "1", path)
                query = {param["name"]: PAST_64_BITS} if param["in"] == "query" else {}
                if method == "get":
                    response = admin.get(url, query)
                else:
                    response = getattr(admin, method)(url, json.dumps({}), content_type="application/json")
                refused(response, param["in"], param["name"])
                checked += 1
    assert checked >= 40  # every path id and every id filter


def test_ids_in_a_body_are_bounded(tree, cats, admin):
    appeal = file_for(tree, cats)
    r = admin.post(f"{API}/appeals/{appeal.pk}/merge", {"into_id": PAST_64_BITS}, content_type="application/json")
    refused(r, "body", "payload", "into_id")
    r = admin.post(f"{API}/appeals/{appeal.pk}/dispatch", {"to_unit_id": 2**64}, content_type="application/json")
    refused(r, "body", "payload", "to_unit_id")
    r = admin.post(f"{API}/households/{tree.household_a.pk}/move", {"to_node_id": -1}, content_type="application/json")
    refused(r, "body", "payload", "to_node_id")


def test_a_path_id_that_is_not_a_number_is_422_in_json(tree, admin):
    refused(admin.get(f"{API}/nodes/abc"), "path", "node_id")
    refused(admin.get(f"{API}/appeals/0"), "path", "appeal_id")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-45", "2026-02-30", "1700000000",
                                 "2026-01-01T00:00:00", "2026-1-1", "٢٠٢٦-٠١-٠١", ""])
def test_days_are_parsed_strictly_and_bounded(admin, day):
    for name in ("from", "to"):
        refused(admin.get(API + "/appeals", {name: day}), "query", name)
        refused(admin.get(API + "/metrics/appeals", {name: day}), "query", name)


def test_days_at_the_bounds_are_taken(tree, cats, admin):
    file_for(tree, cats)
    r = admin.get(API + "/appeals", {"from": "1900-01-01", "to": "2999-12-31"})
    assert r.status_code == 200 and r.json()["count"] == 1


def test_text_with_a_nul_character_is_422(tree, cats, admin):
    refused(admin.get(API + "/residents", {"q": "张\x00"}), "query", "q")
    refused(admin.get(API + "/appeals", {"q": "a\x00"}), "query", "q")
    refused(admin.get(API + "/appeals", {"category": "garbage\x00"}), "query", "category")
    appeal = file_for(tree, cats)
    r = admin.post(f"{API}/appeals/{appeal.pk}/supervise", {"note": "快\x00"}, content_type="application/json")
    refused(r, "body", "payload", "note")
    r = admin.post(f"{API}/appeals", {"category": "garbage", "description": "门口垃圾", "node_id": tree.grid_a1.pk,
                                      "attributes": {"x": ["\x00"]}}, content_type="application/json")
    refused(r, "body", "payload", "attributes")
    r = admin.post(f"{API}/auth/token", {"username": "admin\x00", "password": "x"}, content_type="application/json")
    refused(r, "body", "payload", "username")


# --- counting -----------------------------------------------------------------------------------------------


def test_a_list_counts_up_to_the_cap_and_says_so(tree, admin, monkeypatch):
    body = admin.get(API + "/nodes").json()
    assert (body["count"], body["count_capped"]) == (9, False)
    monkeypatch.setattr(core_api, "COUNT_CAP", 9)
    body = admin.get(API + "/nodes").json()
    assert (body["count"], body["count_capped"]) == (9, False)
    monkeypatch.setattr(core_api, "COUNT_CAP", 4)
    body = admin.get(API + "/nodes", {"limit": 3, "offset": 6}).json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (4, True, 3)


def _count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        r = client.get(url, params or {})
    assert r.status_code == 200, (url, r.content[:300])
    return [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_every_paged_list_counts_a_capped_number_of_rows(tree, cats, admin):
    file_for(tree, cats)
    cap = core_api.COUNT_CAP + 1
    for path in _paged_lists(tree):
        counts = _count_queries(admin, API + path)
        if path == "/appeal-categories":  # a short list built in Python: no count query
            assert counts == []
            continue
        assert len(counts) == 1, (path, counts)
        assert re.search(rf"\bLIMIT {cap}\b", counts[0]), (path, counts[0])


def test_the_appeals_list_does_not_join_residents_to_count(tree, cats, admin):
    """The list's page and its count are one statement (``appeals.selectors.listing``); what it counts (the ``found``
    part) reads the appeals alone, capped, whatever the filters."""
    file_for(tree, cats)
    for params in ({}, {"status": "submitted"}, {"queue": "mine"}, {"q": "垃圾"}):
        (statement,) = _count_queries(admin, API + "/appeals", params)
        found = statement.split("), page AS (")[0]
        assert found.upper().startswith("WITH FOUND AS (") and "JOIN" not in found.upper(), (params, statement)
        assert re.search(rf"\bLIMIT {core_api.COUNT_CAP + 1}\b", found), statement


@pytest.mark.parametrize("raw", ["1" + "0" * 400, '"nan"', '"inf"', '"1e999"', '"1e400"'])
def test_a_number_attribute_out_of_range_is_422(tree, cats, admin, raw):
    """A category's number field takes finite numbers only: a 400-digit integer has no float, and NaN or infinity
    cannot be stored in a JSON column."""
    cats["garbage"].form_fields = [{"code": "bags", "datatype": "number", "description": "袋数"}]
    cats["garbage"].save()
    body = '{"category": "garbage", "description": "门口垃圾", "node_id": %d, "attributes": {"bags": %s}}' % (
        tree.grid_a1.pk, raw)
    r = admin.post(f"{API}/appeals", body, content_type="application/json")
    assert r.status_code == 422, (r.status_code, r.content[:300])
    assert "袋数" in r.json()["detail"][0]["msg"]
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_a_body_with_nan_or_infinity_is_not_json_400(tree, cats, admin, raw):
    """Python's json module takes these; JSON does not, and no JSON column stores them."""
    body = '{"category": "garbage", "description": "门口垃圾", "node_id": %d, "attributes": {"note": %s}}' % (
        tree.grid_a1.pk, raw)
    r = admin.post(f"{API}/appeals", body, content_type="application/json")
    assert r.status_code == 400 and r.json() == {"detail": "Cannot parse request body"}
    assert not Appeal.objects.exists()


def _inputs(schema):
    """(where, JSON schema) of every parameter and request body property the committed OpenAPI lists."""
    components = schema["components"]["schemas"]

    def walk(where, node):
        if "$ref" in node:
            yield from walk(where, components[node["$ref"].rsplit("/", 1)[1]])
            return
        for option in node.get("anyOf", []):
            yield from walk(where, option)
        for name, prop in node.get("properties", {}).items():
            yield from walk(f"{where}.{name}", prop)
        if "items" in node:
            yield from walk(f"{where}[]", node["items"])
        if node.get("type") in ("integer", "string", "number"):
            yield where, node

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                yield from walk(f"{method.upper()} {path} {param['name']}", param["schema"])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield from walk(f"{method.upper()} {path} body", body["schema"])


def test_every_number_and_text_the_api_reads_is_bounded_in_the_openapi():
    """A new input without bounds shows up here: integers between 0 or 1 and 2**63 - 1, numbers within limits,
    text of a limited length (or one of listed values, or a day)."""
    schema = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    unbounded = []
    for where, node in _inputs(schema):
        if node["type"] in ("integer", "number"):
            if not ("minimum" in node and node.get("maximum", 2**64) <= 2**63 - 1):
                unbounded.append(where)
        elif not ("maxLength" in node or "enum" in node or node.get("format") == "date"):
            unbounded.append(where)
    assert unbounded == []


@pytest.mark.parametrize("depth", [17, 500, 900])
def test_a_value_nested_too_deeply_is_422(tree, cats, admin, depth):
    """Nested lists in a form answer: 422 for that field (from 500 levels on, walking it overflowed the stack)."""
    body = '{"category": "garbage", "description": "门口垃圾", "node_id": %d, "attributes": {"a": %s}}' % (
        tree.grid_a1.pk, "[" * depth + "]" * depth)
    refused(admin.post(f"{API}/appeals", body, content_type="application/json"), "body", "payload", "attributes")
    assert not Appeal.objects.exists()


def test_the_appeals_list_pages_by_offset_past_its_count_cap(tree, cats, admin, monkeypatch):
    """Offsets walk the list in its one order (newest first), also past where the count stops."""
    import datetime as dt

    from django.utils import timezone

    from gongzhi.appeals import api as appeals_api

    start = timezone.now() - dt.timedelta(hours=1)
    filed = [file_for(tree, cats, title=f"第{i}件", submitted_at=start + dt.timedelta(minutes=i)) for i in range(7)]
    newest_first = [a.number for a in reversed(filed)]
    monkeypatch.setattr(appeals_api, "COUNT_CAP", 3)
    seen = []
    for offset in (0, 2, 4, 6):
        body = admin.get(API + "/appeals", {"limit": 2, "offset": offset}).json()
        assert (body["count"], body["count_capped"]) == (3, True)
        seen += [item["number"] for item in body["items"]]
    assert seen == newest_first
    assert admin.get(API + "/appeals", {"limit": 2, "offset": 8}).json()["items"] == []
