"""The dispatcher's and the handler's appeal pages in a browser: dispatch with the suggested route,
accept and resolve with a photo, verify and close; the list and the appeal page on a phone."""

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from gongzhi.core.access import Role
from gongzhi.appeals import actions
from gongzhi.appeals.models import Appeal, Channel, DueState, RoutingRule, Status

from ..appeals_factories import make_categories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png(width=64, height=48, rgb=(192, 57, 43)) -> bytes:
    """A small real PNG (a coloured block), so the page shows the photo as a resident would see it."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture
def appeal(tree):
    cats = make_categories()
    RoutingRule.objects.create(node=tree.county, org_path=tree.county.path, category=cats["env"],
                               target=RoutingRule.Target.OWN_GRID)
    worker = tree.users[Role.GRID_WORKER]
    worker.display_name = "王芳"
    worker.save()
    staff = tree.users[Role.COMMUNITY_STAFF]
    staff.display_name = "李主任"
    staff.save()
    # a few more appeals so the list looks like a working day
    for title, due in (("楼道灯不亮", DueState.OVERDUE), ("下水道堵塞", DueState.DUE_SOON), ("噪音扰民", DueState.NORMAL)):
        other = actions.appeal_file(by=staff, category=cats["garbage"], title=title, description=f"{title}，请尽快处理",
                                    channel=Channel.WINDOW, reporter=tree.resident_a2)
        Appeal.objects.filter(pk=other.pk).update(due_state=due)
    return actions.appeal_file(by=tree.users[Role.RESIDENT], category=cats["garbage"], title="垃圾没人清",
                               description="3栋门口垃圾堆了三天没人清运，气味很大", channel=Channel.ONLINE,
                               reporter=tree.resident_a, reporter_phone="13800001111")


def test_dispatch_accept_resolve_verify_close(tree, appeal, open_session):
    url = f"/appeals/{appeal.pk}/"
    staff = open_session(tree.users[Role.COMMUNITY_STAFF].username)
    page = staff.goto("/appeals/")
    row = page.locator(f"tr[data-appeal='{appeal.pk}']")
    expect(row).to_contain_text("垃圾没人清")
    expect(page.locator("[data-due=overdue]")).to_be_visible()
    staff.screenshot("appeals-staff-list")
    row.get_by_role("link", name="垃圾没人清").click()
    expect(page).to_have_url(re.compile(rf"{url}$"))

    dispatch = page.locator("[data-action=dispatch]")
    expect(dispatch.locator("[data-testid=route-suggestion]")).to_have_text("第一网格")
    assert dispatch.locator("select[name=target]").input_value() == f"n{tree.grid_a1.pk}"  # preselected
    assert "13800001111" not in page.content() and "138****1111" in page.inner_text("[data-testid=reporter]")
    staff.screenshot("appeals-staff-dispatch")
    page.evaluate("window.__still_here = true")
    dispatch.locator("textarea[name=note]").fill("请今天处理")
    dispatch.locator("[data-testid=do-dispatch]").click()
    expect(page.locator("[data-testid=appeal]")).to_have_attribute("data-status", "dispatched")
    expect(page.locator("[data-testid=flash]")).to_be_visible()
    assert page.evaluate("window.__still_here") is True  # swapped in place by htmx, no page load
    appeal.refresh_from_db()
    assert appeal.status == Status.DISPATCHED and appeal.handler_node == tree.grid_a1

    worker = open_session(tree.users[Role.GRID_WORKER].username)
    page = worker.goto(url)
    page.locator("[data-testid=do-accept]").click()
    resolve = page.locator("[data-action=resolve]")
    expect(resolve).to_be_visible()
    resolve.locator("textarea[name=resolve-result]").fill("已联系环卫清运，现场已清理干净")
    resolve.locator("input[type=file]").set_input_files(
        [{"name": "after.png", "mimeType": "image/png", "buffer": png()}])
    worker.screenshot("appeals-staff-resolve")
    resolve.locator("[data-testid=do-resolve]").click()
    photo = page.locator("[data-testid=timeline] li[data-kind=resolve] img")
    expect(photo).to_have_count(1)
    photo.scroll_into_view_if_needed()
    width = photo.evaluate("img => img.complete && img.naturalWidth ? img.naturalWidth"
                           " : new Promise(done => img.addEventListener('load', () => done(img.naturalWidth)))")
    assert width == 64  # the photo is served and shown
    expect(page.locator("[data-action=resolve]")).to_have_count(0)
    expect(page.locator("[data-testid=appeal]")).to_have_attribute("data-status", "resolved")
    appeal.refresh_from_db()
    assert appeal.status == Status.RESOLVED and appeal.accepted_by.username == "wangge"

    page = staff.goto(url)
    verify = page.locator("[data-action=verify]")
    verify.locator("input[name=verify-ok][value='1']").check()
    verify.locator("[data-testid=do-verify]").click()
    # Closing waits for the resident's word: the staff call them back (回访) and record it.
    expect(page.locator("[data-testid=close-waits]")).to_be_visible()
    expect(page.locator("[data-action=close]")).to_have_count(0)
    callback = page.locator("[data-action=callback]")
    callback.locator("summary").click()
    callback.locator("input[name=callback-resolved][value='1']").check()
    callback.locator("input[name=callback-satisfaction][value=satisfied]").check()
    callback.locator("[data-testid=do-callback]").click()
    close = page.locator("[data-action=close]")
    expect(close).to_be_visible()
    close.locator("[data-testid=do-close]").click()
    expect(page.locator("[data-action=close]")).to_have_count(0)
    timeline = page.locator("[data-testid=timeline] > li")
    expect(timeline).to_have_count(7)  # filed, dispatched, accepted, resolved, verified, called back, closed
    expect(page.locator("[data-testid=timeline]")).to_contain_text("王芳")
    staff.screenshot("appeals-staff-closed")
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED
    assert staff.errors == [] and worker.errors == []


def test_stale_accept_in_the_browser(tree, appeal, open_session):
    from .. import factories

    other = factories.make_user("wangge2", Role.GRID_WORKER, tree.grid_a1)
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    worker = open_session(tree.users[Role.GRID_WORKER].username)
    page = worker.goto(f"/appeals/{appeal.pk}/")
    expect(page.locator("[data-testid=do-accept]")).to_be_visible()
    actions.appeal_accept(appeal=Appeal.objects.get(pk=appeal.pk), by=other)  # someone else was quicker
    page.locator("[data-testid=do-accept]").click()
    error = page.locator("[data-testid=action-error]")
    expect(error).to_contain_text("wangge2")
    expect(page.locator("[data-testid=do-accept]")).to_have_count(0)
    worker.screenshot("appeals-staff-stale")
    assert worker.errors == []


def test_phone(tree, appeal, open_session):
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    worker = open_session(tree.users[Role.GRID_WORKER].username, "phone")
    page = worker.goto("/appeals/")
    expect(page.locator(f"tr[data-appeal='{appeal.pk}']")).to_be_visible()
    assert worker.overflow() <= 0
    assert not page.locator("#sidenav").is_visible()
    worker.screenshot("appeals-staff-list")
    page = worker.goto(f"/appeals/{appeal.pk}/")
    accept = page.locator("[data-testid=do-accept]")
    expect(accept).to_be_in_viewport()  # what to do comes first on a phone
    assert accept.bounding_box()["height"] >= 44
    assert worker.overflow() <= 0
    worker.screenshot("appeals-staff-appeal")
    accept.click()
    expect(page.locator("[data-action=resolve]")).to_be_visible()
    assert worker.overflow() <= 0
    assert worker.errors == []


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_settings_pages(tree, appeal, open_session, viewport):
    from gongzhi.appeals.models import Category

    admin = open_session(tree.users[Role.COUNTY_ADMIN].username, viewport)
    water = Category.objects.get(code="water")
    pages = [
        ("settings", "/appeals/admin/", "[data-testid=unconfirmed-year]"),
        ("categories", "/appeals/admin/categories/", "[data-testid=categories]"),
        ("category", f"/appeals/admin/categories/{water.pk}/", "[data-testid=form-fields]"),
        ("policies", "/appeals/admin/policies/", "[data-testid=policies]"),
        ("calendar-2027", "/appeals/admin/calendar/2027/", "[data-testid=year-warning]"),
        ("calendar-2026", "/appeals/admin/calendar/2026/", "[data-testid=official]"),
    ]
    for name, url, key in pages:
        page = admin.goto(url)
        expect(page.locator(key)).to_be_visible()
        if viewport == "phone":
            assert admin.overflow() <= 0, name
        admin.screenshot(f"appeals-staff-admin-{name}")
    page = admin.goto("/appeals/admin/routing/")
    page.select_option("[data-testid=route-tester] select[name=node]", str(tree.micro_a1.pk))
    page.select_option("[data-testid=route-tester] select[name=category]", str(water.pk))
    expect(page.locator("[data-testid=route-handler]")).to_have_text("城东社区")
    admin.screenshot("appeals-staff-admin-routing")
    assert admin.errors == []
