"""Names typed by users are text on every chart and map, never markup: a grid and a category named like an
image tag with an ``onerror`` handler show as their names in the dashboard's tooltips and on the filing map,
and the handler never runs."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gongzhi.accounts.roles import Role
from gongzhi.appeals import actions as appeal_actions
from gongzhi.appeals.models import Category, Channel
from gongzhi.orgs import actions as org_actions

from ..appeals_factories import make_categories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GRID_XSS = '<img src=x onerror="window.__xss=1">'
CATEGORY_XSS = '<img src=y onerror="window.__xss=2">'


@pytest.fixture
def hostile_names(tree):
    """A grid split off grid A1 under a hostile name (with resident A's household and a map point), a
    category named alike, and one appeal filed today in both."""
    cats = make_categories()
    category = Category.objects.create(code="xss", name=CATEGORY_XSS, policy=cats["ordinary"])
    admin = tree.users[Role.COUNTY_ADMIN]
    grid = org_actions.grid_split(grid=tree.grid_a1, new_name=GRID_XSS, households=[tree.household_a], by=admin)
    grid.lng, grid.lat = 102.640, 29.350
    grid.save()
    tree.resident_a.refresh_from_db()
    appeal_actions.appeal_file(by=tree.users[Role.RESIDENT], category=category, title="楼道灯坏了",
                               description="三单元楼道灯坏了一个星期", channel=Channel.ONLINE,
                               reporter=tree.resident_a)
    return grid, category


def hover_center(page, testid: str):
    page.locator(f"[data-testid={testid}] canvas").first.hover()


def test_hostile_names_show_as_text_in_the_dashboard_tooltips(tree, hostile_names, open_session):
    grid, category = hostile_names
    s = open_session(tree.users[Role.COUNTY_ADMIN].username)
    today = timezone.localdate().isoformat()
    page = s.goto(f"/dashboards/appeals/?node={tree.comm_a.pk}&period=custom&from={today}&to={today}")
    expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
    # The one grid and the one category with appeals fill their charts: the middle of each is their shape.
    for chart, name in (("chart-heat", GRID_XSS), ("chart-categories", CATEGORY_XSS), ("chart-children", GRID_XSS)):
        hover_center(page, chart)
        expect(page.locator(f"[data-testid={chart}]")).to_contain_text(name)
        assert page.evaluate("window.__xss") is None, chart
    assert page.locator("img[src=x], img[src=y]").count() == 0
    page.mouse.move(0, 0)
    assert page.evaluate("window.__xss") is None


def test_hostile_grid_name_shows_as_text_on_the_filing_map(tree, hostile_names, open_session):
    s = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = s.goto("/appeals/m/new/")
    page.locator("[data-testid=place-grid]").click()
    grid, _category = hostile_names
    expect(page.locator(f".grid-point-{grid.pk}")).to_be_visible()
    expect(page.locator(".leaflet-tooltip", has_text=GRID_XSS)).to_be_visible()
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.__xss") is None
