"""Where an appeal is, said so that it cannot be mistaken: "第一微网格" is in every grid, so the lists name
its grid too, and the community for a reader whose area spans several; the appeal page names the place
and shows it on a small map instead of raw coordinates."""

import re

import pytest
from django.urls import reverse

from gongzhi.appeals import actions
from gongzhi.appeals.models import Channel
from gongzhi.core.access import Role

from .appeals_factories import make_categories


@pytest.fixture
def cats(db):
    return make_categories()


def _file(tree, cats, node, **kw):
    return actions.appeal_file(by=tree.users[Role.COMMUNITY_STAFF], category=cats["garbage"], title="",
                               description="楼道里堆满了杂物", channel=Channel.WINDOW, node=node, **kw)


def _places(response) -> dict[str, str]:
    """Appeal id -> the text of its place cell."""
    html = response.content.decode()
    rows = re.findall(r'<tr data-appeal="(\d+)".*?</tr>', html, re.S)
    out = {}
    for pk in rows:
        row = re.search(rf'<tr data-appeal="{pk}".*?</tr>', html, re.S).group(0)
        cell = re.search(r'<td data-label="(?:地点|Place)"[^>]*>(.*?)</td>', row, re.S).group(1)
        out[pk] = re.sub(r"<[^>]+>", "", cell).strip()
    return out


def test_the_list_names_the_grid_of_a_micro_grid_and_the_community_when_the_area_spans_several(client, tree, cats):
    micro = _file(tree, cats, tree.micro_a1)
    grid = _file(tree, cats, tree.grid_a2)
    client.force_login(tree.users[Role.COMMUNITY_STAFF])  # one community
    places = _places(client.get(reverse("appeals:list")))
    assert places[str(micro.pk)] == "第一网格 · 第一微网格"
    assert places[str(grid.pk)] == "第二网格"
    client.force_login(tree.users[Role.COUNTY_ADMIN])  # every community of the county
    places = _places(client.get(reverse("appeals:list")))
    assert places[str(micro.pk)] == "城东社区 · 第一网格 · 第一微网格"
    assert places[str(grid.pk)] == "城东社区 · 第二网格"
    # The queues say it the same way.
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    places = _places(client.get(reverse("appeals:queue", args=["dispatch"])))
    assert places[str(micro.pk)] == "第一网格 · 第一微网格"


def test_the_appeal_page_shows_the_place_not_raw_coordinates(client, tree, cats):
    appeal = _file(tree, cats, tree.micro_a1, lng=102.64412, lat=29.35231)
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    body = client.get(reverse("appeals:detail", args=[appeal.pk])).content.decode()
    assert "29.35231" not in body.replace('data-lat="29.35231"', "")  # only as the map's data, never as text
    assert "102.64412" not in body.replace('data-lng="102.64412"', "")
    assert "第一网格 › 第一微网格" in body
    assert 'data-testid="appeal-map"' in body and 'data-lat="29.35231"' in body
    assert "appeal-map.js" in body
    without = _file(tree, cats, tree.grid_a2)
    body = client.get(reverse("appeals:detail", args=[without.pk])).content.decode()
    assert 'data-testid="appeal-map"' not in body
