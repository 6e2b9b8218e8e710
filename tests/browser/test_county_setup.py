"""A county set up from scratch in a browser: a new administrator on an empty database picks the county from the
division codes, imports its communities, grids, compounds and buildings from the places template, then a few
residents with the registry template, and ends on the checklist with those steps done."""

import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from gongzhi.core.models import ImportJob
from gongzhi.orgs import imports
from gongzhi.orgs.models import Building, NodeKind, OrgNode, Resident
from gongzhi.orgs.setup.jobs import run_places_import
from gongzhi.orgs.setup.template import SHEET_BY_TITLE

from ..factories import make_id, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-setup")


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _download(page, selector) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def _fill_places(template: bytes) -> bytes:
    """What a county clerk types into the places template (the grey example rows overwritten)."""
    rows = {
        "社区村": [["511823100", "城东社区", "511823100001", "社区", "", ""],
                  ["富林镇", "河南村", "511823100201", "", "", ""]],
        "网格": [["511823100001", "第一网格", "511823100001001", "网格", "", ""],
                 ["城东社区", "第二网格", "", "", "", ""],
                 ["河南村", "河南村网格", "", "", "", ""]],
        "小区": [["511823100001", "滨河小区", "老旧小区", "滨河路8号", "1998", "", ""]],
        "楼栋": [["511823100001", "滨河小区", "1栋", "6", "511823100001001"],
                 ["511823100001", "滨河小区", "2栋", "7", "第二网格"]],
    }
    book = openpyxl.load_workbook(io.BytesIO(template))
    for title, values in rows.items():
        ws = book[title]
        ws.delete_rows(2)
        assert [c.value for c in ws[1]] == [c.header for c in SHEET_BY_TITLE[title].columns]
        for row in values:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill_registry(template: bytes) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    ws = book[imports.SHEET]
    header = [c.value for c in ws[1]]
    people = [
        {"网格编码": "511823100001001", "地址": "滨河小区1栋1单元101", "小区": "滨河小区", "楼栋": "1栋", "单元": "1单元",
         "房号": "101", "姓名": "王秀英", "身份证号": make_id("19420305", male=False), "与户主关系": "户主"},
        {"网格编码": "511823100001001", "地址": "滨河小区1栋1单元101", "小区": "滨河小区", "楼栋": "1栋", "单元": "1单元",
         "房号": "101", "姓名": "李建华", "身份证号": make_id("19700811"), "与户主关系": "子女"},
        {"网格编码": "城东社区/第二网格", "地址": "滨河小区2栋3单元502", "小区": "滨河小区", "楼栋": "2栋", "单元": "3单元",
         "房号": "502", "姓名": "赵敏", "身份证号": make_id("19880620", male=False), "与户主关系": "户主"},
    ]
    for person in people:
        ws.append([person.get(h, "") for h in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_county_set_up_from_scratch(open_session, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_user("admin", superuser=True)  # what `gongzhi createadmin` leaves on an empty database
    s = open_session("admin")
    page = s.page

    # Day one: home is the set-up page; pick the county through the cascading selects.
    page.goto("/")
    expect(page).to_have_url(f"{s.base_url}/registry/setup/")
    page.select_option("[data-test=province]", label="四川省")
    expect(page.locator("[data-test=city] option", has_text="雅安市")).to_have_count(1)
    page.select_option("[data-test=city]", label="雅安市")
    expect(page.locator("[data-test=county] option", has_text="汉源县")).to_have_count(1)
    page.select_option("[data-test=county]", label="汉源县")
    expect(page.locator("[data-test=plan]")).to_contain_text("富林镇")
    expect(page.locator("[data-test=plan]")).to_contain_text("四川省 雅安市 汉源县")
    _shot(page, "setup-pick-county")
    with page.expect_navigation():
        page.click("[data-test=county-submit]")
    expect(page.locator(".messages")).to_contain_text("新增 21 个乡镇街道")
    county = OrgNode.objects.get(kind=NodeKind.COUNTY)
    assert county.code == "511823" and OrgNode.objects.filter(kind=NodeKind.SUBDISTRICT).count() == 21
    expect(page.locator("[data-test=checklist] [data-step=tree]")).to_have_attribute("data-done", "0")

    # The places: the template downloaded, filled, uploaded, run on the worker.
    template = _download(page, "[data-test=places-template]")
    page.set_input_files("#id_file", files=[{
        "name": "汉源县地点.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": _fill_places(template)}])
    with page.expect_navigation():
        page.click("[data-test=places-form] button[type=submit]")
    job = ImportJob.objects.get(kind="places")
    assert run_places_import(job.pk).status == ImportJob.Status.SUCCEEDED, ImportJob.objects.get(pk=job.pk).message
    page.reload()
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("[data-figure=created]")).to_have_text("8")
    assert Building.objects.count() == 2

    # The residents: the registry template, on the import page.
    page.goto("/registry/excel/")
    registry = _download(page, "[data-test=template]")
    page.set_input_files("#id_file", files=[{
        "name": "居民.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": _fill_registry(registry)}])
    with page.expect_navigation():
        page.click("#import button[type=submit]")
    job = ImportJob.objects.get(kind="registry")
    assert imports.run_import(job.pk).status == ImportJob.Status.SUCCEEDED, ImportJob.objects.get(pk=job.pk).message
    assert Resident.objects.count() == 3

    # Home is now the county's page, with its checklist: the tree, the places and the residents done.
    page.goto("/")
    expect(page).to_have_url(f"{s.base_url}/registry/node/{county.pk}/")
    checklist = page.locator("[data-test=checklist]")
    for step in ("tree", "places", "residents"):
        expect(checklist.locator(f"[data-step={step}]")).to_have_attribute("data-done", "1")
    expect(checklist.locator("[data-step=staff]")).to_have_attribute("data-done", "0")
    expect(checklist.locator("[data-step=residents] [data-test=count]")).to_have_text("3")
    expect(checklist.locator("li.next")).to_have_attribute("data-step", "staff")
    _shot(page, "setup-checklist-home")
    page.goto("/registry/setup/")
    _shot(page, "setup-page-after")
    assert s.overflow() <= 0
    assert s.errors == []
