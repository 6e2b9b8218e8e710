"""Joining on a phone: open a join code's link, fill in the form, land on one's household; the grid worker
sees the waiting request on his phone page and approves it; the door notice with its QR code.
Screenshots land in test-artifacts/screens/."""

import pytest
from playwright.sync_api import expect

from gongzhi.accounts.actions import join as actions
from gongzhi.accounts.models import JoinRequest
from gongzhi.core.access import SYSTEM, Role
from gongzhi.orgs import actions as orgs_actions

from ..factories import make_id
from .conftest import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Hexie-2026-join"


def test_a_resident_joins_with_the_codes_link_on_a_phone(tree, browser, live_server):
    spouse = orgs_actions.resident_create(household=tree.household_a, name="张小红", id_number=make_id("19850505"),
                                          relation="spouse", by=SYSTEM)
    _code, raw = actions.join_code_create(by=tree.users[Role.GRID_WORKER], household=tree.household_a, days=30)
    s = Session(browser, live_server.url, "phone")
    try:
        page = s.goto(f"/join/{raw}/")
        expect(page.locator("#id_code")).to_have_value(actions.format_code(raw))
        page.fill("#id_name", "张小红")
        page.fill("#id_id_last4", spouse.reveal_id_number()[-4:])
        page.fill("#id_phone", "137 1234 5678")
        page.fill("#id_password", PASSWORD)
        assert s.overflow() == 0
        s.screenshot("join-form")
        with page.expect_navigation():
            page.click("[data-testid=join-submit]")
        assert page.url.endswith("/registry/mine/"), page.url
        expect(page.locator("[data-testid=mine]")).to_contain_text(tree.household_a.address)
        expect(page.locator("[data-testid=account-link]")).to_have_text("张小红")
        assert s.overflow() == 0
        s.screenshot("join-landed")
        assert s.errors == []
    finally:
        s.close()


def test_a_wrong_name_waits_and_the_grid_worker_approves_on_his_phone(tree, browser, live_server, open_session):
    orgs_actions.resident_create(household=tree.household_a, name="张小红", id_number=make_id("19850505"),
                                 relation="spouse", by=SYSTEM)
    _code, raw = actions.join_code_create(by=tree.users[Role.GRID_WORKER], household=tree.household_a, days=30)
    s = Session(browser, live_server.url, "phone")
    try:
        page = s.goto(f"/join/{raw}/")
        page.fill("#id_name", "张晓红")  # a typo: waits for the grid worker
        page.fill("#id_id_last4", "1234")
        page.fill("#id_phone", "13712345679")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("[data-testid=join-submit]")
        expect(page.locator("[data-testid=join-sent]")).to_be_visible()
        assert "张小红" not in page.content()
        s.screenshot("join-sent")
        assert s.errors == []
    finally:
        s.close()
    w = open_session(tree.users[Role.GRID_WORKER].username, "phone")
    page = w.goto("/registry/m/")
    card = page.locator("[data-testid=join-waiting]")
    expect(card).to_contain_text("1")
    with page.expect_navigation():
        card.click()
    page.locator("[data-testid=join-requests] a.button").first.click()
    page.wait_for_url("**/join/requests/*/")
    expect(page.locator("[data-testid=approve-form]")).to_contain_text("张小红")
    page.locator("[data-testid=approve-form] input[type=radio]").first.check()
    assert w.overflow() == 0
    w.screenshot("join-decide")
    with page.expect_navigation():
        page.click("[data-testid=approve]")
    assert JoinRequest.objects.get().status == "approved"
    assert w.errors == []


def test_the_door_notice_prints_with_its_qr_code(tree, open_session):
    s = open_session(tree.users[Role.GRID_WORKER].username, "desktop")
    page = s.goto(f"/join/household/{tree.household_a.pk}/")
    page.select_option("#id_days", "7")
    with page.expect_navigation():
        page.click("[data-testid=make-code]")
    notice = page.locator("[data-testid=notice]")
    expect(notice).to_contain_text(tree.household_a.address)
    qr = page.locator("[data-testid=qr]")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('[data-testid=qr]').naturalWidth") > 100
    s.screenshot("join-notice")
    assert s.errors == []
