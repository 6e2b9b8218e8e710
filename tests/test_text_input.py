"""What free text the platform takes (core.text): titles, names and reasons are one line; descriptions and
notes keep their lines and tabs (CRLF becomes LF); control characters never; surrounding whitespace trimmed.
The JSON API answers 422 naming the field, Open311 400 in its own format, pages show the error on the field."""

import json
import urllib.parse

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts.models import User
from gongzhi.accounts.models import ApiToken
from gongzhi.core.access import Role
from gongzhi.appeals import actions
from gongzhi.appeals.actions import open311 as clients
from gongzhi.appeals.models import Appeal, AppealEvent, Channel, Status
from gongzhi.core import text
from gongzhi.orgs.models import Resident

from .appeals_factories import make_categories
from .factories import PASSWORD, make_id

API = "/api/v1"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MULTILINE, MULTILINE_STORED = "  第一行\r\n第二行\r\t缩进的第三行\n\n", "第一行\n第二行\n\t缩进的第三行"


@pytest.fixture
def cats(tree):
    return make_categories()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- the rule ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("  垃圾没人清 ", "垃圾没人清"), ("\u3000张 三\u3000", "张 三"), ("", ""), ("a\x1f", "a"),
])
def test_a_line_is_trimmed(value, expected):
    assert text.clean_line(value) == expected


@pytest.mark.parametrize("value, code", [
    ("a\x07b", "control_character"), ("a\x00b", "control_character"), ("a\x1bb", "control_character"),
    ("a\x7fb", "control_character"), ("a\x85b", "control_character"), ("a\x9fb", "control_character"),
    ("a\tb", "control_character"), ("a\nb", "line_break"), ("a\r\nb", "line_break"), ("a\u2028b", "line_break"),
    ("a\ud800b", "invalid_character"), ("a\uffffb", "invalid_character"),
])
def test_a_line_refuses_control_characters_and_line_breaks(value, code):
    with pytest.raises(text.TextError) as caught:
        text.clean_line(value)
    assert caught.value.code == code


def test_a_block_keeps_lines_and_tabs_with_lf_line_ends():
    assert text.clean_block(MULTILINE) == MULTILINE_STORED
    assert text.clean_block("甲\u2028乙\u2029丙") == "甲\n乙\n丙"


@pytest.mark.parametrize("value", ["a\x00b", "a\x07b", "a\x0bb", "a\x0cb", "a\x1bb", "a\x7fb", "a\x85b", "a\ud800b"])
def test_a_block_refuses_other_control_characters(value):
    with pytest.raises(text.TextError):
        text.clean_block(value)


def test_messages_say_what_and_where():
    with pytest.raises(text.TextError) as caught:
        text.clean_line("坏\x07标题")
    with translation.override("en"):
        assert caught.value.message("title") == "title contains an invisible control character (U+0007); remove it."
        assert caught.value.message() == "Contains an invisible control character (U+0007); remove it."
    with translation.override("zh-hans"):
        assert caught.value.message("标题") == "标题：含有看不见的控制字符（U+0007），请删除后再提交。"


class _Form(forms.Form):
    name = text.LineField(max_length=20)
    note = text.BlockField(required=False)


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_form_fields(english):
    form = _Form({"name": " 张三 ", "note": MULTILINE})
    assert form.is_valid() and form.cleaned_data == {"name": "张三", "note": MULTILINE_STORED}
    form = _Form({"name": "张\x07三", "note": "a\x00b"})
    assert not form.is_valid()
    assert form.errors["name"] == ["Contains an invisible control character (U+0007); remove it."]
    assert "note" in form.errors
    assert isinstance(_Form().fields["note"].widget, forms.Textarea)


# --- the JSON API ---------------------------------------------------------------------------------------


def api_post(client, user, url, body):
    client.force_login(user)
    return client.post(API + url, json.dumps(body), content_type="application/json", **EN)


def refused(response, field: str) -> str:
    assert response.status_code == 422, response.content
    items = response.json()["detail"]
    mine = [i for i in items if i["loc"][-1] == field]
    assert mine, items
    assert field in mine[0]["msg"]
    return mine[0]["msg"]


def test_api_refuses_a_control_character_in_a_title(client, tree, cats):
    resident = tree.users[Role.RESIDENT]
    r = api_post(client, resident, "/appeals", {"category": "garbage", "title": "垃圾\x07没人清", "description": "三天了"})
    assert "U+0007" in refused(r, "title")
    r = api_post(client, resident, "/appeals", {"category": "garbage", "title": "两行\n标题", "description": "三天了"})
    assert "single line" in refused(r, "title")
    r = api_post(client, resident, "/appeals", {"category": "garbage", "description": "三天\x00了"})
    refused(r, "description")
    assert not Appeal.objects.exists()


def test_api_keeps_a_multi_line_description(client, tree, cats):
    r = api_post(client, tree.users[Role.RESIDENT], "/appeals",
                 {"category": "garbage", "title": "  垃圾没人清  ", "description": MULTILINE})
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get()
    assert (appeal.title, appeal.description) == ("垃圾没人清", MULTILINE_STORED)
    assert r.json()["description"] == MULTILINE_STORED
    r = api_post(client, tree.users[Role.RESIDENT], "/appeals", {"category": "garbage", "description": MULTILINE})
    assert r.status_code == 201 and r.json()["title"] == "第一行 第二行 缩进的第三行"  # a title made of it is one line


def test_api_refuses_control_characters_in_notes_names_and_searches(client, tree, cats):
    staff = tree.users[Role.COMMUNITY_STAFF]
    appeal = actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                                 description="三天了", channel=Channel.ONLINE, reporter=tree.resident_a)
    r = api_post(client, staff, f"/appeals/{appeal.pk}/dispatch", {"to_node_id": tree.grid_a1.pk, "note": "快\x1b去"})
    refused(r, "note")
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED and not AppealEvent.objects.filter(kind="dispatch").exists()
    r = api_post(client, staff, "/residents", {"household_id": tree.household_a.pk, "name": "张\x07三",
                                               "id_number": make_id()})
    refused(r, "name")
    assert not Resident.objects.filter(name__contains="三").exclude(pk__in=[tree.resident_a.pk]).exists()
    # A search with a NUL (PostgreSQL cannot even compare with one) is refused too, not a server error.
    client.force_login(staff)
    r = client.get(f"{API}/appeals", {"q": "垃\x00圾"}, **EN)
    refused(r, "q")
    r = client.get(f"{API}/residents", {"q": "张\x00"}, **EN)
    refused(r, "q")
    r = client.get(f"{API}/appeals", {"category": "garbage\x00"}, **EN)
    refused(r, "category")
    refused(api_post(client, staff, "/appeals", {"category": "garbage\x00", "description": "三天了",
                                                 "node_id": tree.grid_a1.pk}), "category")


def test_answers_to_a_categorys_questions_follow_the_rule(client, tree, cats):
    cats["garbage"].form_fields = [
        {"code": "plate", "datatype": "string", "required": True, "description": "车牌号"},
        {"code": "detail", "datatype": "text", "description": "补充说明"},
    ]
    cats["garbage"].save()
    resident = tree.users[Role.RESIDENT]
    body = {"category": "garbage", "description": "三天了"}
    r = api_post(client, resident, "/appeals", {**body, "attributes": {"plate": "川A\x0712345"}})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "“车牌号” contains an invisible control character (U+0007); remove it."
    r = api_post(client, resident, "/appeals", {**body, "attributes": {"plate": "  "}})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"] == "“车牌号” is required."
    r = api_post(client, resident, "/appeals", {**body, "attributes": {"plate": " 川A12345 ", "detail": MULTILINE}})
    assert r.status_code == 201, r.content
    assert Appeal.objects.get().attributes == {"plate": "川A12345", "detail": MULTILINE_STORED}


def test_api_token_label_is_one_line(client, tree):
    r = client.post(f"{API}/auth/token", json.dumps({"username": "shequ", "password": PASSWORD, "name": "脚本\x07"}),
                    content_type="application/json", **EN)
    refused(r, "name")
    assert not ApiToken.objects.exists()


# --- pages --------------------------------------------------------------------------------------------


def test_resident_form_refuses_a_control_character_and_keeps_lines(client, tree, cats):
    client.force_login(tree.users[Role.RESIDENT])
    r = client.post(reverse("appeals:m_new"), {"category": cats["garbage"].pk, "description": "垃圾\x07三天",
                                               "place": "household"}, **EN)
    assert r.status_code == 200 and "invisible control character (U+0007)" in r.content.decode()
    assert not Appeal.objects.exists()
    r = client.post(reverse("appeals:m_new"), {"category": cats["garbage"].pk, "description": MULTILINE,
                                               "place": "household"}, **EN)
    assert r.status_code == 302
    assert Appeal.objects.get().description == MULTILINE_STORED


def test_staff_action_form_refuses_a_control_character(client, tree, cats):
    appeal = actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                                 description="三天了", channel=Channel.ONLINE, reporter=tree.resident_a)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    client.force_login(tree.users[Role.GRID_WORKER])
    url = reverse("appeals:act", args=[appeal.pk, "return"])
    r = client.post(url, {"return-seen": "dispatched", "return-reason": "不归\x07我们"}, **EN)
    assert "invisible control character (U+0007)" in r.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == Status.DISPATCHED
    r = client.post(url, {"return-seen": "dispatched", "return-reason": "不归我们管\r\n请转交供电公司"}, **EN)
    appeal.refresh_from_db()
    assert appeal.status == Status.SUBMITTED
    assert AppealEvent.objects.get(appeal=appeal, kind="return").note == "不归我们管\n请转交供电公司"


def test_export_reason_is_one_line(client, tree):
    client.force_login(User.objects.get(username="wangge"))
    r = client.post(reverse("excel:export"), {"node": tree.grid_a1.pk, "reveal": "on", "reason": "核对\x07名单"}, **EN)
    assert r.status_code == 400 and "invisible control character (U+0007)" in r.content.decode()


# --- Open311 -----------------------------------------------------------------------------------------------


@pytest.fixture
def key(cats, tree):
    _client, raw = clients.open311_client_create(name="城市随手拍", node=tree.county, by=tree.users[Role.COUNTY_ADMIN])
    return raw


def open311_post(client, data):
    body = urllib.parse.urlencode(data)
    return client.post("/open311/v2/requests.json", body, content_type="application/x-www-form-urlencoded", **EN)


@pytest.mark.parametrize("field, value", [
    ("description", "垃圾\x07三天"), ("first_name", "三\x07"), ("last_name", "张\n三"), ("address_string", "滨河\x1b小区"),
])
def test_open311_refuses_control_characters_with_400(client, tree, key, field, value):
    data = {"api_key": key, "service_code": "garbage", "address_string": "滨河小区", "description": "垃圾三天没人清",
            field: value}
    r = open311_post(client, data)
    assert r.status_code == 400, r.content
    (error,) = r.json()
    assert error["code"] == 400 and field in error["description"]
    assert not Appeal.objects.exists()


def test_open311_keeps_a_multi_line_description(client, tree, key):
    r = open311_post(client, {"api_key": key, "service_code": "garbage", "address_string": "滨河小区",
                              "description": MULTILINE, "first_name": " 三 ", "last_name": "张"})
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get()
    assert appeal.description == MULTILINE_STORED and appeal.reporter_name == "张三"


@pytest.mark.parametrize("url, param", [
    ("/open311/v2/requests.json", "service_code"), ("/open311/v2/requests.json", "service_request_id"),
    ("/open311/v2/servicerequestupdates.json", "service_request_id"),
])
def test_open311_filters_with_a_control_character_are_400(client, cats, url, param):
    r = client.get(url, {param: "garbage\x00"}, **EN)
    assert r.status_code == 400, r.content
    (error,) = r.json()
    assert error["code"] == 400 and param in error["description"]
