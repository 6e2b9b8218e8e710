"""The account page reached from the name in the header, on a phone (a resident) and on a desktop (staff);
the login locks page. Screenshots land in test-artifacts/screens/."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from gongzhi.accounts import actions
from gongzhi.core.access import Role

from ..factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(s, name):
    s.page.evaluate("window.scrollTo(0, 0)")
    s.screenshot(name)


def test_resident_reaches_the_account_page_from_the_header_on_a_phone(tree, open_session):
    s = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = s.goto("/appeals/m/")
    link = page.locator("[data-testid=account-link]")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url("**/accounts/me/")
    expect(page.locator("h1")).to_have_text("我的账号")
    expect(page.locator("[data-testid=roles]")).to_contain_text("居民")
    expect(page.locator("[data-testid=password-change]")).to_be_visible()
    expect(page.locator("[data-testid=tokens]")).not_to_have_attribute("open", "")  # folded for residents
    page.locator("[data-testid=nav-toggle]").click()
    expect(page.locator("[data-testid=sidenav]")).not_to_contain_text("令牌")
    page.locator("[data-testid=nav-toggle]").click()
    assert s.overflow() == 0
    shot(s, "account-resident")
    assert s.errors == []


def test_staff_account_page_and_locks_page(tree, open_session):
    user = tree.users[Role.SUBDISTRICT_STAFF]
    user.display_name = "李街道"
    user.save()
    actions.token_create(user=user, name="统计脚本", days=30)
    for _ in range(5):
        Client().post("/api/v1/auth/token", {"username": "wangge", "password": "wrong"},
                      content_type="application/json", REMOTE_ADDR="198.51.100.23")
    s = open_session(user.username, "desktop")
    page = s.goto("/")
    page.locator("[data-testid=account-link]").click()
    page.wait_for_url("**/accounts/me/")
    expect(page.locator("[data-testid=tokens] tbody")).to_contain_text("统计脚本")
    page.fill("#id_name", "巡查手机")
    page.select_option("#id_expires_in", "7")
    page.locator("[data-testid=tokens] form.filters button").click()
    expect(page.locator("#new-token")).to_contain_text("gz_")
    shot(s, "account-staff")

    page = s.goto("/accounts/locks/")
    row = page.locator("[data-testid=account-locks] tbody tr").first
    expect(row).to_contain_text("wangge")
    expect(row).to_contain_text("198.51.100.23")
    shot(s, "locks")
    row.locator("button").click()
    expect(page.locator(".messages")).to_contain_text("已解除")
    expect(page.locator("[data-testid=account-locks]")).not_to_contain_text("198.51.100.23")
    assert Client().post("/api/v1/auth/token", {"username": "wangge", "password": PASSWORD},
                         content_type="application/json", REMOTE_ADDR="198.51.100.23").status_code == 201
    assert s.errors == []


def test_locks_page_on_a_phone(tree, open_session):
    for i in range(20):
        Client().post("/api/v1/auth/token", {"username": f"guess{i}", "password": "x"},
                      content_type="application/json", REMOTE_ADDR="198.51.100.99")
    for _ in range(5):
        Client().post("/api/v1/auth/token", {"username": "shequ", "password": "wrong"},
                      content_type="application/json", REMOTE_ADDR="198.51.100.24")
    s = open_session(tree.users[Role.COUNTY_ADMIN].username, "phone")
    page = s.goto("/accounts/locks/")
    expect(page.locator("[data-testid=address-locks]")).to_contain_text("198.51.100.99")
    expect(page.locator("[data-testid=account-locks]")).to_contain_text("shequ")
    assert s.overflow() == 0
    shot(s, "locks")
    assert s.errors == []
