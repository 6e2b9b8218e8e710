"""What each role meets in a real browser: the filing page's search only searches, the short sectioned
menus, the date fields, the party member's page."""

import re

import pytest
from playwright.sync_api import expect

from gongzhi.appeals.models import Appeal
from gongzhi.core.access import Role

from ..appeals_factories import make_categories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(s, name):
    s.page.evaluate("window.scrollTo(0, 0)")
    s.screenshot(name)


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_find_on_the_filing_page_only_searches(tree, open_session, viewport):
    make_categories()
    s = open_session(tree.users[Role.GRID_WORKER].username, viewport)
    page = s.goto("/appeals/m/file-for/")
    page.fill("#id_q", "张建国")
    with page.expect_response(re.compile(r"/file-for/residents/")):
        page.locator("[data-testid=lookup]").click()
    expect(page.locator("[data-testid=resident-match]").first).to_contain_text("张建国")
    assert page.url.endswith("/appeals/m/file-for/")  # still the same page: nothing was submitted
    expect(page.locator("[data-testid=form-errors]")).to_have_count(0)
    expect(page.locator(".errorlist")).to_have_count(0)
    shot(s, "appeals-file-for-find")
    assert Appeal.objects.count() == 0
    assert s.errors == []


def test_grid_worker_menu_in_sections_on_a_phone(tree, open_session):
    s = open_session(tree.users[Role.GRID_WORKER].username, "phone")
    page = s.goto("/notices/")
    page.locator("[data-testid=nav-toggle]").tap()
    nav = page.locator("#sidenav")
    expect(nav).to_be_visible()
    expect(nav.locator(".nav-head")).to_have_text(["诉求", "共建", "名册", "设置"])
    # API tokens live on the account page; join requests counted; service orders and wishes under 共建
    assert nav.locator("[data-nav]").count() == 14
    s.screenshot("menu-grid-worker")
    nav.locator("[data-nav=appeal-queues]").tap()
    expect(page).to_have_url(re.compile(r"/appeals/queue/\w+/$"))
    assert s.errors == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_date_fields_show_the_day_without_warnings(tree, open_session, viewport):
    s = open_session(tree.users[Role.COUNTY_ADMIN].username, viewport)
    warnings = []
    s.page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page = s.goto("/appeals/admin/calendar/2026/")
    expect(page.locator("input[name=date]")).to_have_value("2026-01-01")
    page = s.goto("/core/audit/?date_from=2026/01/01&date_to=2026年12月31日")
    expect(page.locator("input[name=date_from]")).to_have_value("2026-01-01")
    expect(page.locator("input[name=date_to]")).to_have_value("2026-12-31")
    s.screenshot("audit-dates")
    assert not [w for w in warnings if "does not conform" in w]
    assert s.errors == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_party_member_page(tree, open_session, viewport):
    from gongzhi.orgs.models import PartyMember

    PartyMember.objects.create(resident=tree.resident_a, organization=tree.branch_a, assigned_node=tree.micro_a1,
                               org_path=tree.micro_a1.path)
    s = open_session(tree.users[Role.RESIDENT].username, viewport)
    page = s.goto("/registry/mine/")
    page.locator("[data-testid=mine-party]").click()
    expect(page.locator("[data-testid=my-party-org]")).to_contain_text("城东社区第一网格党支部")
    assert s.overflow() <= 0
    s.screenshot("my-party-org")
    assert s.errors == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_appeal_page_draws_its_place_on_a_small_map(tree, open_session, viewport):
    from gongzhi.appeals import actions
    from gongzhi.appeals.models import Channel

    cats = make_categories()
    for node, (lng, lat) in ((tree.grid_a1, (102.640, 29.350)), (tree.micro_a1, (102.644, 29.352)),
                             (tree.grid_a2, (102.652, 29.346))):
        node.lng, node.lat = lng, lat
        node.save()
    appeal = actions.appeal_file(by=tree.users[Role.COMMUNITY_STAFF], category=cats["garbage"], title="",
                                 description="楼道里堆满了杂物，老人出行不便", channel=Channel.WINDOW,
                                 node=tree.micro_a1, lng=102.6443, lat=29.3524)
    s = open_session(tree.users[Role.COMMUNITY_STAFF].username, viewport)
    page = s.goto(f"/appeals/{appeal.pk}/")
    expect(page.locator("[data-testid=appeal-map] .appeal-point")).to_have_count(1)
    expect(page.locator("[data-testid=appeal-map]")).to_contain_text("第二网格")
    expect(page.locator("[data-testid=place]")).to_contain_text("第一网格 › 第一微网格")
    assert "29.3524" not in page.inner_text("main")
    assert s.overflow() <= 0
    shot(s, "appeal-map")
    s.goto("/appeals/")
    expect(page.locator(f'tr[data-appeal="{appeal.pk}"] td.place-cell')).to_have_text("第一网格 · 第一微网格")
    shot(s, "appeal-list-places")
    assert s.errors == []
