"""A resident on a phone: files an appeal with a photo and a grid picked on the map, follows it, rates it;
the large-text mode; a grid worker files for a resident on their rounds."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from gongzhi.core.access import Role
from gongzhi.appeals import actions
from gongzhi.appeals.models import Appeal, Channel, Status

from ..appeals_factories import make_categories
from ..test_appeals_resident_pages import tiny_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mapped(tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    for node, (lng, lat) in ((tree.grid_a1, (102.640, 29.350)), (tree.micro_a1, (102.644, 29.352)),
                             (tree.grid_a2, (102.652, 29.346)), (tree.grid_b1, (102.700, 29.400))):
        node.lng, node.lat = lng, lat
        node.save()
    return make_categories()


def shot(s, name):
    """A full-page screenshot from the top, so the sticky bar sits where a reader sees it."""
    s.page.evaluate("window.scrollTo(0, 0)")
    s.screenshot(name)


def html_font_size(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")


def test_follow_an_offered_duplicate_and_see_its_public_part(tree, mapped, open_session):
    """The follow button carries its signed offer (htmx); the followed appeal shows without the reporter's
    phone."""
    cats = mapped
    earlier = actions.appeal_file(by=tree.users[Role.COMMUNITY_STAFF], category=cats["garbage"], title="",
                                  channel=Channel.HOTLINE, node=tree.grid_a2, reporter_name="刘小红",
                                  reporter_phone="13911112222",
                                  description="二组路口垃圾桶满了好几天没人清运，电话139-1111-2222")
    s = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = s.goto("/appeals/m/new/")
    page.select_option("#id_category", str(cats["garbage"].pk))
    page.locator("[data-testid=place-grid]").click()
    page.locator(f"path.place-{tree.grid_a2.pk}").click()
    page.fill("#id_description", "二组路口的垃圾桶满了好几天，没人清运")
    duplicate = page.locator(f"[data-testid=duplicate][data-appeal='{earlier.pk}']")
    expect(duplicate).to_contain_text("139********")
    duplicate.locator("[data-testid=follow]").click()
    expect(duplicate.locator("[data-testid=followed]")).to_be_visible()
    page = s.goto(f"/appeals/m/{earlier.pk}/")
    expect(page.locator("[data-testid=m-description]")).to_contain_text("139********")
    content = page.content()
    assert "刘小红" not in content and "1111-2222" not in content and "139****2222" not in content
    assert not s.errors, s.errors


def test_resident_files_follows_and_rates_on_a_phone(tree, mapped, open_session):
    cats = mapped
    earlier = actions.appeal_file(by=tree.users[Role.COMMUNITY_STAFF], category=cats["garbage"], title="",
                                  channel=Channel.HOTLINE, node=tree.grid_a2, description="二组路口垃圾桶满了好几天没人清运")
    s = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = s.goto("/appeals/m/new/")

    # the category's own questions come and go with the category
    page.select_option("#id_category", str(cats["water"].pk))
    expect(page.locator("[name=attr-outage]").first).to_be_visible()
    page.select_option("#id_category", str(cats["garbage"].pk))
    expect(page.locator("[name=attr-outage]")).to_have_count(0)

    page.fill("#id_description", "二组路口的垃圾桶满了好几天，没人清运，味道很大")
    page.set_input_files("#id_photos", files=[{"name": "bin.png", "mimeType": "image/png", "buffer": tiny_png()}])

    # pick a grid on the map (outlines drawn from GeoJSON, no tiles)
    expect(page.locator("[data-testid=place-map]")).to_be_hidden()  # home is the default place
    page.locator("[data-testid=place-grid]").click()
    expect(page.locator("[data-testid=place-map]")).to_be_visible()
    point = page.locator(f"path.place-{tree.grid_a2.pk}")
    expect(point).to_be_visible()
    expect(page.locator(f"path.place-{tree.grid_b1.pk}")).to_have_count(0)  # another community's grid
    point.click()
    expect(page.locator("#id_node")).to_have_value(str(tree.grid_a2.pk))

    # the same problem reported before shows up while filing
    duplicate = page.locator(f"[data-testid=duplicate][data-appeal='{earlier.pk}']")
    expect(duplicate).to_be_visible()
    expect(duplicate.locator("[data-testid=follow]")).to_be_visible()
    assert s.overflow() <= 0
    shot(s, "appeals-m-new")

    with page.expect_navigation():
        page.locator("[data-testid=m-submit]").click()
    appeal = Appeal.objects.exclude(pk=earlier.pk).get()
    expect(page).to_have_url(re.compile(rf"/appeals/m/{appeal.pk}/$"))
    assert appeal.node == tree.grid_a2 and appeal.photos.count() == 1 and appeal.channel == Channel.ONLINE
    expect(page.locator("[data-testid=m-appeal-head] [data-testid=photos] img")).to_have_count(1)

    page = s.goto("/appeals/m/")
    expect(page.locator(f"[data-testid=m-appeal][data-appeal='{appeal.pk}']")).to_contain_text("二组路口的垃圾桶满了")
    expect(page.locator(f"[data-testid=m-appeal][data-appeal='{earlier.pk}']")).to_have_count(0)
    assert s.overflow() <= 0
    shot(s, "appeals-m-list")

    # the community and the grid handle it (driven through the actions)
    worker = tree.users[Role.GRID_WORKER]
    worker.display_name = "王芳"
    worker.save()
    actions.appeal_dispatch(appeal=appeal, by=tree.users[Role.COMMUNITY_STAFF], to_node=tree.grid_a1)
    actions.appeal_accept(appeal=appeal, by=worker)
    actions.appeal_resolve(appeal=appeal, by=worker, result="已联系环卫公司清运，并增加了一个垃圾桶",
                           photos=[SimpleUploadedFile("done.png", tiny_png())])

    page = s.goto(f"/appeals/m/{appeal.pk}/")
    resolved = page.locator("[data-testid=m-step][data-kind=resolve]")
    expect(resolved).to_contain_text("已联系环卫公司清运")
    expect(resolved).to_contain_text("王芳")
    image = resolved.locator("img")
    expect(image).to_have_count(1)
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    expect(page.locator("[data-testid=m-step]").first).to_have_attribute("data-kind", "resolve")  # newest first
    assert s.overflow() <= 0
    shot(s, "appeals-m-resolved")

    page.locator("[data-testid=resolved-1]").click()
    page.locator("[data-testid=satisfaction-satisfied]").click()
    page.fill("#id_comment", "很及时，谢谢")
    with page.expect_navigation():
        page.locator("[data-testid=m-rate-submit]").click()
    expect(page.locator("[data-testid=m-rating]")).to_contain_text("很及时，谢谢")
    expect(page.locator("[data-testid=m-rate-form]")).to_have_count(0)
    appeal.refresh_from_db()
    assert appeal.satisfaction == "satisfied" and appeal.rating_resolved is True and appeal.status == Status.RESOLVED
    shot(s, "appeals-m-rated")
    assert s.errors == []


def test_large_text_mode_is_kept(tree, mapped, open_session):
    s = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = s.goto("/appeals/m/new/")
    normal = html_font_size(page)
    toggle = page.locator("[data-testid=large-font]")
    box = toggle.bounding_box()
    assert box["height"] >= 40  # a thumb-sized button
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    large = html_font_size(page)
    assert large >= normal * 1.2
    page = s.goto("/appeals/m/")  # another page: still large, from the first paint
    assert html_font_size(page) == large
    expect(page.locator("[data-testid=large-font]")).to_have_attribute("aria-pressed", "true")
    page = s.goto("/appeals/m/new/")
    page.locator("[data-testid=place-grid]").click()
    expect(page.locator(f"path.place-{tree.grid_a1.pk}")).to_be_visible()
    assert s.overflow() <= 0
    shot(s, "appeals-m-large")
    page.locator("[data-testid=large-font]").click()
    assert html_font_size(page) == normal
    assert s.errors == []


def test_grid_worker_files_for_a_resident_on_rounds(tree, mapped, open_session):
    cats = mapped
    s = open_session(tree.users[Role.GRID_WORKER].username, "phone")
    page = s.goto("/appeals/m/file-for/")
    page.select_option("#id_channel", "visit")
    page.fill("#id_q", "zjg")
    match = page.locator("[data-testid=resident-match]")
    expect(match).to_contain_text("张建国")
    with page.expect_response(re.compile(r"/file-for/residents/")):
        page.keyboard.press("Enter")  # searches, never files a half-written appeal
    assert Appeal.objects.count() == 0
    match.first.click()
    page.select_option("#id_category", str(cats["garbage"].pk))
    page.fill("#id_description", "走访发现1栋楼道堆放杂物，影响老人出行")
    assert s.overflow() <= 0
    shot(s, "appeals-m-file-for")
    with page.expect_navigation():
        page.locator("[data-testid=m-submit]").click()
    expect(page.locator("[data-testid=filed]")).to_be_visible()
    appeal = Appeal.objects.get()
    assert appeal.reporter == tree.resident_a and appeal.channel == Channel.VISIT
    assert appeal.filed_by == tree.users[Role.GRID_WORKER] and appeal.household == tree.household_a
    assert s.errors == []


def test_window_staff_file_for_someone_not_in_the_registry_on_desktop(tree, mapped, open_session):
    cats = mapped
    s = open_session(tree.users[Role.COMMUNITY_STAFF].username, "desktop")
    page = s.goto("/appeals/m/file-for/")
    page.select_option("#id_channel", "window")
    page.locator("details.m-unregistered summary").click()
    page.fill("#id_reporter_name", "赵大爷")
    page.fill("#id_reporter_phone", "13700003333")
    page.select_option("#id_category", str(cats["garbage"].pk))
    page.fill("#id_description", "赵大爷来窗口反映二组路口垃圾桶坏了")
    page.locator("[data-testid=place-grid]").click()
    page.locator(f"path.place-{tree.grid_a2.pk}").click()  # the map shows the grids of the staff's area
    expect(page.locator("#id_node")).to_have_value(str(tree.grid_a2.pk))
    shot(s, "appeals-m-file-for")
    with page.expect_navigation():
        page.locator("[data-testid=m-submit]").click()
    expect(page.locator("[data-testid=filed]")).to_be_visible()
    appeal = Appeal.objects.get()
    assert appeal.reporter is None and appeal.reporter_name == "赵大爷" and appeal.node == tree.grid_a2
    assert appeal.channel == Channel.WINDOW and appeal.reporter_phone_masked == "137****3333"
    assert s.errors == []
