"""The import page in the browser: a refused file says which limit it broke, next to the file field, in
Chinese; an accepted one goes to the job's page, queued for the task worker."""

import pytest
from playwright.sync_api import expect

from gongzhi.core.access import Role
from gongzhi.core.models import ImportJob

from ..test_import import bomb, family, workbook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_refused_file_names_the_limit_on_the_upload_page(tree, open_session, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    s = open_session(tree.users[Role.COMMUNITY_STAFF].username)
    page = s.goto("/registry/excel/")
    expect(page.locator("[data-test=limits]")).to_contain_text("100000 行")

    page.set_input_files("#id_file", files=[{"name": "居民名册.xlsx", "mimeType": XLSX, "buffer": bomb()}])
    with page.expect_navigation():
        page.click("#import button[type=submit]")
    error = page.locator("#import .field.has-error")
    expect(error).to_contain_text("超过了压缩比上限 100")
    expect(page.locator("#id_file")).to_be_visible()
    assert not ImportJob.objects.exists()
    assert s.overflow() <= 0
    s.screenshot("excel-import-refused")

    page.set_input_files("#id_file", files=[{"name": "居民名册.xlsx", "mimeType": XLSX, "buffer": workbook(family())}])
    with page.expect_navigation():
        page.click("#import button[type=submit]")
    job = ImportJob.objects.get()
    assert page.url.endswith(f"/registry/excel/jobs/{job.pk}/")
    expect(page.locator("#job-progress")).to_contain_text("排队中")
    s.screenshot("excel-import-queued")
    assert [e for e in s.errors if "status of 400" not in e] == []  # the refusal answers 400, on purpose
