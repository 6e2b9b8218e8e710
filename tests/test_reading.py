"""How pages read to the people using them: titles cut with an ellipsis (never mid-word silently), capped
counts said as Chinese readers say them, notices in the reader's language, and date fields that take what
Chinese users type (2026/01/01, 2026.1.1, 2026年1月1日) and always carry an ISO value."""

import re

import pytest
from django.urls import reverse

from gongzhi.appeals import actions
from gongzhi.appeals.models import Channel
from gongzhi.core.access import Role
from gongzhi.core.forms import parse_date
from gongzhi.notify.models import Notice

from .appeals_factories import make_categories
from .notify_helpers import immediate  # noqa: F401 (fixture)


@pytest.fixture
def cats(db):
    return make_categories()


def _file(tree, cats, description, title="", **kw):
    return actions.appeal_file(by=tree.users[Role.COMMUNITY_STAFF], category=cats["garbage"], title=title,
                               description=description, channel=Channel.WINDOW, node=tree.grid_a1, **kw)


def _en(client):
    client.cookies["django_language"] = "en"
    return client


# --- titles ---------------------------------------------------------------------------------------


def test_a_title_made_from_the_description_ends_at_a_clause_or_with_an_ellipsis(tree, cats):
    clause = _file(tree, cats, "3栋门口的垃圾堆了三天没人清运，气味很大，晚上还有老鼠出没，希望社区尽快安排人处理一下。")
    assert clause.title == "3栋门口的垃圾堆了三天没人清运"
    long_clause = _file(tree, cats, "小区东门外人行道上的共享单车和电动车乱停乱放已经把盲道和消防通道全部堵死了请尽快处理")
    assert long_clause.title.endswith("…") and len(long_clause.title) == 30
    assert long_clause.description.startswith(long_clause.title[:-1])
    short = _file(tree, cats, "路灯不亮")
    assert short.title == "路灯不亮"


def test_lists_carry_the_full_title_for_a_title_cut_on_screen(client, tree, cats):
    appeal = _file(tree, cats, "小区东门外人行道上的共享单车乱停", title="小区东门外人行道上的共享单车乱停乱放")
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    for url in (reverse("appeals:list"), reverse("appeals:queue", args=["dispatch"])):
        html = client.get(url).content.decode()
        link = re.search(rf'<a href="/appeals/{appeal.pk}/"[^>]*title="([^"]*)"', html)
        assert link and link.group(1) == appeal.title, url


# --- capped counts --------------------------------------------------------------------------------


def test_capped_counts_read_as_n_or_more(client, tree, cats, monkeypatch):
    from gongzhi.appeals.views import staff
    from gongzhi.orgs import views as org_views

    monkeypatch.setattr(org_views, "COUNT_CAP", 2)
    monkeypatch.setattr(staff, "COUNT_CAP", 2)
    for i in range(3):
        _file(tree, cats, f"第{i}个问题")
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    residents = client.get(reverse("orgs:residents")).content.decode()
    appeals = client.get(reverse("appeals:list")).content.decode()
    assert "2 名以上居民" in residents and "超过" not in residents
    assert "2 件以上诉求" in appeals and "超过" not in appeals
    _en(client)
    assert "2+ residents" in client.get(reverse("orgs:residents")).content.decode()
    assert "2+ appeals" in client.get(reverse("appeals:list")).content.decode()


# --- notices in the reader's language -------------------------------------------------------------


def test_notices_are_shown_in_the_reader_language(client, tree, cats, immediate, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        appeal = _file(tree, cats, "3栋门口的垃圾堆了三天没人清运")
        actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    with django_capture_on_commit_callbacks(execute=True):
        actions.appeal_return(appeal=appeal, by=tree.users[Role.GRID_WORKER], reason="不属于本网格")
    assert Notice.objects.filter(kind="dispatch").exists() and Notice.objects.filter(kind="return").exists()
    client.force_login(tree.users[Role.GRID_WORKER])
    client.cookies["django_language"] = "zh-hans"  # the texts were stored in English (``immediate``)
    zh = client.get(reverse("notify:list")).content.decode()
    assert f"新的待办诉求：{appeal.number}" in zh and "办结期限" in zh
    english = _en(client).get(reverse("notify:list")).content.decode()
    assert f"New appeal to handle: {appeal.number} {appeal.title}" in english
    assert "resolve by" in english
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    english = client.get(reverse("notify:list")).content.decode()
    assert "Returned by the handling unit: 不属于本网格" in english


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["2026/01/01", "2026-01-01", "2026.1.1", "2026年1月1日", " 2026/1/1 "])
def test_dates_as_chinese_users_type_them(typed):
    assert parse_date(typed).isoformat() == "2026-01-01"


@pytest.mark.parametrize("typed", ["", "2026/13/01", "明天", "01/01/2026"])
def test_what_is_not_a_date(typed):
    assert parse_date(typed) is None


def _date_input(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    assert 'type="date"' in tag, tag
    value = re.search(r'value="([^"]*)"', tag)
    return value.group(1) if value else ""


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_date_fields_take_chinese_dates_and_show_iso_values(client, tree, cats, lang):
    client.cookies["django_language"] = lang
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    audit = client.get(reverse("core:audit"), {"date_from": "2026/01/01", "date_to": "2026年12月31日"})
    assert audit.status_code == 200 and not audit.context["form"].errors
    html = audit.content.decode()
    assert _date_input(html, "date_from") == "2026-01-01" and _date_input(html, "date_to") == "2026-12-31"
    listed = client.get(reverse("appeals:list"), {"date_from": "2026.1.1"})
    assert listed.status_code == 200 and _date_input(listed.content.decode(), "date_from") == "2026-01-01"
    calendar = client.get(reverse("appeals:admin_calendar_year", args=[2026])).content.decode()
    assert _date_input(calendar, "date") == "2026-01-01"  # the day form starts on 1 January
