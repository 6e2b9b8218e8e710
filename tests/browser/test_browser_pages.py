"""Every page on a desktop and a phone: loads, shows its key content, nothing wider than the phone, no console errors."""

import pytest

from gongzhi.core.access import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# role -> [(name, url from the tree, selector that must be visible, text it must contain)]
PAGES = {
    Role.COUNTY_ADMIN: [
        ("tree", lambda t: "/registry/", "[data-testid=tree]", "汉源县"),
        ("node-county", lambda t: f"/registry/node/{t.county.pk}/", "[data-testid=children]", "富林镇"),
        ("node-grid", lambda t: f"/registry/node/{t.grid_a1.pk}/", "[data-testid=care-residents]", "张建国"),
        ("compound", lambda t: f"/registry/compound/{t.compound_a.pk}/", "[data-testid=buildings]", "1栋"),
        ("building", lambda t: f"/registry/building/{t.building_a.pk}/", "[data-testid=households]", "滨河小区1栋1单元101"),
        ("household", lambda t: f"/registry/household/{t.household_a.pk}/", "[data-testid=members]", "张建国"),
        ("resident", lambda t: f"/registry/resident/{t.resident_a.pk}/", "[data-testid=resident-props]", "138****1111"),
        ("resident-edit", lambda t: f"/registry/resident/{t.resident_a.pk}/edit/", "[data-testid=resident-edit-form]", "138****1111"),
        ("household-move", lambda t: f"/registry/household/{t.household_a.pk}/move/", "[data-testid=household-move-form]", "第二网格"),
        ("resident-move", lambda t: f"/registry/resident/{t.resident_a.pk}/move/?q=城东", "[data-testid=household-matches]", "城东社区二组12号"),
        ("residents", lambda t: "/registry/residents/", "[data-testid=resident-table]", "王小明"),
        ("search", lambda t: "/registry/search/?q=滨河小区", "[data-testid=search-results]", "张建国"),
        ("party", lambda t: "/registry/party/", "[data-testid=party-orgs]", "城东社区第一网格党支部"),
        ("party-org", lambda t: f"/registry/party/{t.branch_a.pk}/", "[data-testid=party-org-props]", "第一网格"),
        ("units", lambda t: "/registry/units/", "main", "县供电公司"),
        ("unit", lambda t: f"/registry/units/{t.partner.pk}/", "[data-testid=served-nodes]", "城东社区"),
        ("audit", lambda t: "/core/audit/", "[data-testid=audit-events]", "新增居民"),
    ],
    Role.COMMUNITY_STAFF: [
        ("grid-split", lambda t: f"/registry/node/{t.grid_a1.pk}/split/", "[data-testid=grid-split-form]", "滨河小区1栋1单元101"),
    ],
    Role.GRID_WORKER: [
        ("mobile", lambda t: "/registry/m/", "[data-testid=m-care-group]", "张建国"),
    ],
    Role.RESIDENT: [
        ("mine", lambda t: "/registry/mine/", "[data-testid=members]", "张建国"),
    ],
}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_page(tree, open_session, viewport):
    problems = []
    seen = 0
    for role, pages in PAGES.items():
        s = open_session(tree.users[role].username, viewport)
        for name, url, selector, text in pages:
            seen += 1
            page = s.goto(url(tree))
            key = page.locator(selector).first
            if not key.is_visible():
                problems.append(f"{name}: {selector} not visible")
            elif text not in key.inner_text():
                problems.append(f"{name}: {text!r} not shown")
            if viewport == "phone":
                if s.overflow() > 0:
                    problems.append(f"{name}: {s.overflow()}px wider than the phone")
                if page.locator("#sidenav").is_visible():
                    problems.append(f"{name}: the menu should start closed on a phone")
            elif not page.locator("#sidenav").is_visible():
                problems.append(f"{name}: no side navigation on the desktop")
            if s.errors:
                problems.append(f"{name}: console errors {s.errors}")
                s.errors.clear()
            s.screenshot(name)
    assert seen == 20
    assert problems == []
