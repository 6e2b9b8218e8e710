"""The unread-notices badge in the navigation, on a desktop and on a phone: it shows the count after the
page loads, goes down when a notice is opened and away when all are marked read; on a phone, with the
menu closed, a dot on the menu button shows there is something unread."""

import re

import pytest
from playwright.sync_api import expect

from gongzhi.core.access import Role
from gongzhi.notify.models import Notice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page, action):
    """Run ``action`` (a click that loads a page) and wait until the nav has fetched and shown its badge."""
    with page.expect_response(lambda r: r.url.endswith("/notices/badge/")):
        action()
    # A matcher, not wait_for_function: the page's CSP forbids the eval that a predicate string needs.
    expect(page.locator("[data-testid=nav-unread]")).not_to_have_class(re.compile(r"htmx-(request|swapping|settling)"))


def see_badge(s, count: str | None):
    """The nav's badge shows ``count`` (None: no badge). On a phone the menu is opened to look, then closed."""
    page = s.page
    toggle = page.locator("[data-testid=nav-toggle]")
    if s.viewport == "phone":
        expect(page.locator("#sidenav")).to_be_hidden()
        # With the menu closed, a dot on the menu button says there is something unread.
        dot = page.evaluate("getComputedStyle(document.querySelector('[data-testid=nav-toggle]'), '::after').content")
        assert (dot != "none") == (count is not None), dot
        toggle.tap()
    expect(page.locator("#sidenav")).to_be_visible()
    if count is None:
        expect(page.locator("[data-testid=nav-unread]")).to_be_empty()
    else:
        expect(page.locator("[data-testid=nav-unread] .badge")).to_be_visible()
        expect(page.locator("[data-testid=nav-unread] .badge")).to_have_text(count)
    if s.viewport == "phone":
        s.screenshot(f"notices-badge-{count or 0}")
        toggle.tap()
        expect(page.locator("#sidenav")).to_be_hidden()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_unread_badge_counts_down(tree, open_session, viewport):
    worker = tree.users[Role.GRID_WORKER]
    for title in ("新派单：垃圾没人清", "新派单：楼道灯不亮"):
        Notice.objects.create(user=worker, kind="dispatch", title=title, body="请及时签收")
    Notice.objects.create(user=tree.users[Role.COMMUNITY_STAFF], kind="dispatch", title="别人的通知")

    s = open_session(worker.username, viewport)
    page = s.page
    settled(page, lambda: s.goto("/"))
    see_badge(s, "2")
    if viewport == "desktop":
        s.screenshot("notices-badge-2")

    if viewport == "phone":
        page.locator("[data-testid=nav-toggle]").tap()  # the way to the notices page is in the menu
    settled(page, lambda: page.locator("#sidenav [data-nav=notices]").click())
    expect(page.locator("[data-testid=unread-count]")).to_have_text("2")
    expect(page.locator("[data-testid=notice]")).to_have_count(2)
    assert s.overflow() <= 0

    # Opening a notice marks it read (it has no link of its own: back to the list).
    settled(page, lambda: page.locator("[data-testid=notice] a").first.click())
    expect(page.locator("[data-testid=unread-count]")).to_have_text("1")
    see_badge(s, "1")

    settled(page, lambda: page.locator("[data-testid=read-all]").click())
    expect(page.locator("[data-testid=unread-count]")).to_have_count(0)
    see_badge(s, None)
    assert not Notice.objects.filter(user=worker, read_at__isnull=True).exists()
    assert Notice.objects.filter(read_at__isnull=True).count() == 1  # someone else's stays unread
    assert s.errors == []
