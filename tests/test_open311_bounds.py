"""Open311 parameters out of bounds answer 400 in the specification's error list, in JSON and XML, never a 500:
pages past any real list, impossible or far-off dates, offsets past a day, NUL characters, odd digits in
address_id."""

import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from gongzhi.core.access import Role
from gongzhi.appeals import open311
from gongzhi.appeals.actions import open311 as clients
from gongzhi.appeals.models import Appeal

from .appeals_factories import make_categories

BASE = "/open311/v2"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _default_language_after():
    """The requests here ask for English; the language they leave active would follow into the next test."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.fixture
def key(tree):
    make_categories()
    _client, raw = clients.open311_client_create(name="城市随手拍", node=tree.county, by=tree.users[Role.COUNTY_ADMIN])
    return raw


def error_list(response, fmt):
    """The specification's error list: [(code, description)], checked for its format."""
    assert response.status_code == 400, (response.status_code, response.content[:300])
    if fmt == "json":
        return [(e["code"], e["description"]) for e in response.json()]
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    return [(int(e.find("code").text), e.find("description").text) for e in root]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("resource", ["requests", "servicerequestupdates"])
@pytest.mark.parametrize("params, words", [
    ({"page": "99999999999999999999"}, "whole numbers"),
    ({"page": "1_000"}, "whole numbers"),
    ({"page": "²"}, "whole numbers"),
    ({"page": "-1"}, "whole numbers"),
    ({"page": "102", "page_size": "1000"}, "at most 100,000"),
    ({"start_date": "2026-13-45T00:00:00Z"}, "start_date must be a W3C date"),
    ({"end_date": "2026-02-30"}, "end_date must be a W3C date"),
    ({"start_date": "2026-01-01T00:00:00+99:00"}, "start_date must be a W3C date"),
    ({"start_date": "٢٠٢٦-٠١-٠١"}, "start_date must be a W3C date"),
    ({"end_date": "0001-01-01"}, "end_date must lie in the years 1900 to 2999"),
    ({"start_date": "9999-12-31T23:59:59Z"}, "start_date must lie in the years 1900 to 2999"),
    ({"service_request_id": "1\x00"}, "NUL"),
    ({"service_code": "garbage\x00"}, "NUL"),
])
def test_bad_list_parameters_answer_400(client, tree, fmt, resource, params, words):
    r = client.get(f"{BASE}/{resource}.{fmt}", params, **EN)
    ((code, description),) = error_list(r, fmt)
    assert code == 400 and words in description, description


def test_the_last_page_within_reach_is_taken(client, tree):
    r = client.get(f"{BASE}/requests.json", {"page": "101", "page_size": "1000"})
    assert r.status_code == 200 and r.json() == []
    assert open311.MAX_SKIPPED == 100_000


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("address_id", ["²", "9223372036854775808", "99999999999999999999"])
def test_an_address_id_of_odd_digits_is_400(client, tree, key, fmt, address_id):
    r = client.post(f"{BASE}/requests.{fmt}", {"api_key": key, "service_code": "garbage", "description": "垃圾",
                                               "address_id": address_id}, **EN)
    ((code, description),) = error_list(r, fmt)
    assert "address_id" in description
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_posted_nul_character_is_400(client, tree, key, fmt):
    place = {"api_key": key, "service_code": "garbage", "address_id": str(tree.grid_a1.pk)}
    r = client.post(f"{BASE}/requests.{fmt}", {**place, "description": "垃圾\x00"}, **EN)
    assert "NUL" in error_list(r, fmt)[0][1]
    r = client.post(f"{BASE}/requests.{fmt}", {**place, "description": "垃圾", "attribute": {"a": ["\x00"]}},
                    content_type="application/json", **EN)
    assert "NUL" in error_list(r, fmt)[0][1]
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("body", [
    '{"description": NaN}', '{"lat": Infinity}', '{"attribute": {"outage": 1e400}}', "[" * 100_000 + "]" * 100_000,
])
def test_a_json_body_that_is_not_json_is_400(client, tree, key, fmt, body):
    r = client.post(f"{BASE}/requests.{fmt}?api_key={key}", body, content_type="application/json", **EN)
    assert "not valid JSON" in error_list(r, fmt)[0][1]
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("value", ["1e999", "nan", "-inf", "1" + "0" * 400])
def test_a_number_attribute_out_of_range_is_400(client, tree, key, value):
    from gongzhi.appeals.models import Category

    Category.objects.filter(code="garbage").update(
        form_fields=[{"code": "bags", "datatype": "number", "description": "袋数"}])
    r = client.post(f"{BASE}/requests.json", {"api_key": key, "service_code": "garbage", "description": "垃圾",
                                              "address_id": str(tree.grid_a1.pk), "attribute[bags]": value}, **EN)
    assert "袋数" in error_list(r, "json")[0][1]
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_json_body_nested_too_deeply_is_400(client, tree, key, fmt):
    body = '{"service_code": "garbage", "attribute": {"a": %s}}' % ("[" * 500 + "]" * 500)
    r = client.post(f"{BASE}/requests.{fmt}?api_key={key}", body, content_type="application/json", **EN)
    assert "nested too deeply" in error_list(r, fmt)[0][1]
    assert not Appeal.objects.exists()
