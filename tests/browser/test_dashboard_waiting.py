"""The dashboard says how many appeal changes its figures do not include yet (``waiting``: the task worker is
still counting a burst of them), with what that means, in Chinese and in English."""

import pytest
from playwright.sync_api import expect

from gongzhi.appeals.models import Appeal
from gongzhi.core.access import Role
from gongzhi.dashboards import metrics as metrics_module
from gongzhi.dashboards import rollups

from ..test_metrics import loop, story  # noqa: F401  (the story and its fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = "/dashboards/appeals/?period=custom&from=2025-06-10&to=2025-06-12"


def test_dashboard_shows_the_changes_not_counted_yet(tree, story, open_session, monkeypatch):  # noqa: F811
    rollups.catch_up()
    s = open_session(tree.users[Role.COUNTY_ADMIN].username, "phone")
    page = s.goto(PAGE)
    card = page.locator("[data-testid=kpis] [data-kpi=waiting]")
    expect(card.locator(".num")).to_have_text("0")
    expect(card.locator(".label")).to_have_text("尚未计入的变动")
    expect(card.locator(".sub")).to_have_text("数据已是最新")
    assert "任务进程" in card.get_attribute("title")  # the meaning, as a tooltip and for screen readers
    expect(card.locator(".sr-only")).to_have_text(card.get_attribute("title"))
    expect(card).not_to_have_class("figure warn")

    # A burst the read leaves to the worker (more than it applies itself, READ_CATCH_UP): the figures answer at
    # once and say how many changes they lack, counted up to the cap.
    monkeypatch.setattr(metrics_module, "READ_CATCH_UP", 2)
    for appeal in Appeal.objects.all()[:3]:
        rollups.on_appeal_changed(appeal.pk, "touch")
    page = s.goto(PAGE)
    expect(card.locator(".num")).to_have_text("2+")
    expect(card.locator(".sub")).to_have_text("正在计入，请稍后刷新")
    expect(card).to_have_class("figure warn")
    s.screenshot("dashboard-waiting")
    page.locator("[data-testid=kpis]").screenshot(path="/tmp/shots-map/dashboard-waiting-kpis.png")

    page.locator(".langform button[value=en]").click()
    expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
    expect(card.locator(".label")).to_have_text("Changes not counted yet")
    assert "task worker is still counting" in card.get_attribute("title")
    assert s.overflow() <= 0
    assert s.errors == []
