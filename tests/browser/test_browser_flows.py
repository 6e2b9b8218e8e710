"""What users do in the browser: filter the resident list in place, reveal a phone, open the tree, the phone menu."""

import re

import pytest
from playwright.sync_api import expect

from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_resident_list_swaps_only_the_table(tree, open_session):
    s = open_session(tree.users[Role.COUNTY_ADMIN].username)
    page = s.goto("/registry/residents/")
    table = page.locator("[data-testid=resident-table]")
    expect(table).to_contain_text("王小明")
    page.evaluate("window.__still_here = true")  # survives an htmx swap, not a page load

    page.select_option("[data-testid=resident-filters] select[name=care_group]", "elderly_alone")
    expect(table).not_to_contain_text("王小明")
    expect(table).to_contain_text("张建国")
    expect(page.locator("[data-testid=result-count]")).to_contain_text("1")
    assert page.evaluate("window.__still_here") is True
    assert "care_group=elderly_alone" in page.url  # the filter is in the address bar, so it can be shared

    page.fill("#f-q", "lxy")
    expect(table.locator("[data-testid=no-results]")).to_be_visible()  # 李秀英 is not in the care group
    page.select_option("[data-testid=resident-filters] select[name=care_group]", "")
    expect(table).to_contain_text("李秀英")
    expect(table).not_to_contain_text("张建国")
    assert page.evaluate("window.__still_here") is True
    s.screenshot("flow-resident-filter")
    assert s.errors == []


def test_reveal_phone_with_a_reason_on_the_mobile_page(tree, open_session):
    s = open_session(tree.users[Role.GRID_WORKER].username, "phone")
    page = s.goto("/registry/m/")
    group = page.locator("[data-testid=m-care-group][data-care=elderly_alone]")
    expect(group.locator("[data-testid=m-person]")).to_contain_text("张建国")
    assert page.locator("a[href^='tel:']").count() == 0  # no call link before a reveal

    group.locator("[data-testid=reveal-phone]").click()
    group.locator("input[name=reason]").fill("上门走访")
    group.locator("[data-testid=reveal-submit]").click()

    call = group.locator("[data-testid=call-link]")
    expect(call).to_have_attribute("href", "tel:13800001111")
    expect(call).to_be_visible()
    box = call.bounding_box()
    assert box["height"] >= 44  # a thumb-sized call button
    event = AuditEvent.objects.get(action="pii.reveal.phone")
    assert event.actor_id == tree.users[Role.GRID_WORKER].pk and event.reason == "上门走访"
    assert s.overflow() <= 0
    s.screenshot("flow-reveal")
    assert s.errors == []


def test_expand_the_tree(tree, open_session):
    s = open_session(tree.users[Role.COUNTY_ADMIN].username)
    page = s.goto("/registry/")
    town = page.locator(f"[data-node='{tree.town_a.pk}']")
    expect(town).to_be_visible()  # the top node opens by itself
    expect(page.locator(f"[data-node='{tree.comm_a.pk}']")).to_have_count(0)

    town.locator("summary").first.click(position={"x": 5, "y": 10})
    community = page.locator(f"[data-node='{tree.comm_a.pk}']")
    expect(community).to_contain_text("城东社区")
    community.locator("summary").first.click(position={"x": 5, "y": 10})
    expect(page.locator(f"[data-node='{tree.grid_a1.pk}']")).to_contain_text("第一网格")
    expect(page.locator(f"[data-node='{tree.grid_a2.pk}']")).to_contain_text("第二网格")

    page.locator(f"[data-node='{tree.grid_a2.pk}'] a").first.click()
    expect(page).to_have_url(re.compile(rf"/registry/node/{tree.grid_a2.pk}/$"))
    expect(page.locator("h1")).to_contain_text("第二网格")
    assert s.errors == []


def test_phone_menu_toggle(tree, open_session):
    s = open_session(tree.users[Role.COUNTY_ADMIN].username, "phone")
    page = s.goto("/registry/residents/")
    nav = page.locator("#sidenav")
    toggle = page.locator("[data-testid=nav-toggle]")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.tap()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    s.screenshot("flow-menu-open")
    nav.locator("[data-nav=party]").tap()
    expect(page).to_have_url(re.compile(r"/registry/party/$"))
    expect(page.locator("#sidenav")).to_be_hidden()  # a new page starts with the menu closed
    assert s.errors == []
