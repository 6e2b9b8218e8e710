"""A community's staff member makes a grid worker's account in the browser, gives the role, and the grid worker
logs in with the one-time password and must choose their own before anything else (issue 12, section 7).
Screenshots land in test-artifacts/screens/."""

import pytest
from playwright.sync_api import expect

from gongzhi.accounts.models import User
from gongzhi.core.access import Role

from .conftest import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_community_staff_make_a_grid_worker_who_must_change_the_password(tree, open_session, browser, live_server):
    s = open_session(tree.users[Role.COMMUNITY_STAFF].username, "desktop")
    page = s.goto("/")
    page.locator("[data-nav=users]").click()
    page.wait_for_url("**/accounts/users/")
    expect(page.locator("[data-testid=user-table]")).to_contain_text("wangge")
    page.locator("[data-testid=user-new]").click()
    page.wait_for_url("**/accounts/users/new/")
    page.fill("#id_display_name", "刘新网格")
    page.fill("#id_phone", "13912345678")
    page.select_option("#id_role", Role.BUILDING_STEWARD)
    page.select_option("#id_node", str(tree.grid_a2.pk))
    s.screenshot("user-new")
    page.locator("[data-testid=user-form] button[type=submit]").click()
    expect(page.locator("[data-testid=one-time-password]")).to_be_visible()
    password = page.locator("#one-time-password").inner_text().strip()
    assert len(password.replace("-", "")) == 12
    s.screenshot("user-created")

    # On the account's page: give the grid worker's role at the second grid.
    page.locator("[data-testid=to-user]").click()
    page.wait_for_url("**/accounts/users/*/")
    page.select_option("#id_role", Role.GRID_WORKER)
    page.select_option("#id_node", str(tree.grid_a2.pk))
    page.locator("[data-testid=assign-form] button[type=submit]").click()
    expect(page.locator("[data-testid=roles] tbody")).to_contain_text("网格员")
    # A role beyond the giver is not even offered.
    assert page.locator("#id_role option[value=county_admin]").count() == 0
    s.screenshot("user-detail")
    user = User.objects.get(username="13912345678")
    assert set(user.role_assignments.filter(is_active=True).values_list("role", flat=True)) == {
        Role.GRID_WORKER, Role.BUILDING_STEWARD}
    assert s.errors == []

    # The grid worker logs in with the one-time password, on a phone.
    worker = Session(browser, live_server.url, "phone")
    try:
        wpage = worker.page
        wpage.goto("/accounts/login/")
        wpage.fill("#id_username", "13912345678")
        wpage.fill("#id_password", password)
        with wpage.expect_navigation():
            wpage.click("main form button[type=submit]")
        wpage.wait_for_url("**/accounts/me/password/")
        expect(wpage.locator("[data-testid=forced]")).to_be_visible()
        worker.screenshot("forced-password-change")
        wpage.goto("/registry/residents/")
        wpage.wait_for_url("**/accounts/me/password/")  # nothing else until the password is theirs
        wpage.fill("#id_old_password", password)
        wpage.fill("#id_new_password1", "12345678")
        wpage.fill("#id_new_password2", "12345678")
        wpage.locator("[data-testid=password-form] button[type=submit]").click()
        expect(wpage.locator("[data-testid=password-form]")).to_contain_text("太常见")
        wpage.fill("#id_old_password", password)
        wpage.fill("#id_new_password1", "Liu-wangge-2025")
        wpage.fill("#id_new_password2", "Liu-wangge-2025")
        with wpage.expect_navigation():
            wpage.locator("[data-testid=password-form] button[type=submit]").click()
        assert "/accounts/me/password/" not in wpage.url
        response = wpage.goto("/registry/residents/")
        assert response.status == 200 and "/registry/residents/" in wpage.url
        user.refresh_from_db()
        assert not user.must_change_password and user.check_password("Liu-wangge-2025")
        assert worker.overflow() == 0
        assert worker.errors == []
    finally:
        worker.close()
