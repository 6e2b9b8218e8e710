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
