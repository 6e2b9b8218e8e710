"""The leaders' dashboard in a browser: every chart drawn, KPI cards filled, the overdue table linked,
no console errors, nothing wider than a phone; screenshots for a human to look at."""

import pytest
from playwright.sync_api import expect

from gongzhi.core.access import Role

from ..test_metrics import loop, story  # noqa: F401  (the story and its fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERIOD = "period=custom&from=2025-06-10&to=2025-06-12"
CHARTS = ("chart-trend", "chart-categories", "chart-heat", "chart-children", "chart-handlers")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_dashboard_draws_its_charts(tree, story, open_session, viewport):  # noqa: F811
    s = open_session(tree.users[Role.COUNTY_ADMIN].username, viewport)
    page = s.goto(f"/dashboards/appeals/?{PERIOD}")
    expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
    for chart in CHARTS:
        box = page.locator(f"[data-testid={chart}]")
        expect(box.locator("canvas").first).to_be_attached()
        size = box.bounding_box()
        assert size["width"] > 200 and size["height"] > 150, (chart, size)
    kpis = page.locator("[data-testid=kpis]")
    expect(kpis.locator("[data-kpi=response_rate] .num")).to_have_text("75.0%")  # 3 of 4 (see test_metrics)
    expect(kpis.locator("[data-kpi=response_rate] .sub")).to_have_text("3 / 4")
    expect(kpis.locator("[data-kpi=filed] .num")).to_have_text("8")
    expect(page.locator("[data-testid=children-table]")).to_contain_text("富林镇")
    overdue = page.locator("[data-testid=overdue-table] tbody tr")
    expect(overdue).to_have_count(3)  # A3, A7, A8: long past their deadlines today
    link = overdue.first.locator("a")
    assert link.get_attribute("href").startswith("/appeals/")
    if viewport == "phone":
        assert s.overflow() <= 0
        # Charts fit the phone: each chart box is within the screen width.
        for chart in CHARTS:
            assert page.locator(f"[data-testid={chart}]").bounding_box()["width"] <= 390
    else:
        # On a laptop screen the ranking tables show every column in their half-width card, without
        # a sideways scroll that hides the on-time rate, in Chinese and in English's longer headers.
        for language in ("zh-hans", "en"):
            if language == "en":
                page.locator(".langform button[value=en]").click()
                expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
                expect(page.locator("[data-testid=handlers-table] th").last).to_have_text("On-time resolution rate")
            for table in ("children-table", "handlers-table"):
                wrap = page.locator(f"[data-testid={table}]").locator("xpath=..")
                assert wrap.evaluate("w => w.scrollWidth - w.clientWidth") <= 0, (language, table)
        page.locator(".langform button[value=zh-hans]").click()
        expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
    s.screenshot("dashboard-county")
    assert s.errors == []

    # Drill down by clicking an area in the ranking table: the same page for that node.
    page.locator("[data-testid=children-table] a", has_text="富林镇").click()
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
    expect(page.locator("[data-testid=breadcrumbs]")).to_contain_text("富林镇")
    expect(page.locator("[data-testid=kpis] [data-kpi=filed] .num")).to_have_text("7")  # A1-A5, A7, A8
    expect(page.locator("[data-testid=chart-heat] canvas").first).to_be_attached()
    s.screenshot("dashboard-town")
    assert s.errors == []


def test_period_picker_and_ledger_link(tree, story, open_session):  # noqa: F811
    s = open_session(tree.users[Role.COMMUNITY_STAFF].username)
    page = s.goto("/dashboards/appeals/")
    expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
    page.fill("[data-testid=dashboard-filters] input[name=from]", "2025-06-11")
    page.fill("[data-testid=dashboard-filters] input[name=to]", "2025-06-11")
    assert page.locator("[data-testid=period-picker]").input_value() == "custom"  # dates picked: a custom period
    with page.expect_navigation():
        page.click("[data-testid=dashboard-filters] button[type=submit]")
    expect(page.locator("#dashboard[data-ready='1']")).to_be_attached()
    expect(page.locator("[data-testid=kpis] [data-kpi=filed] .num")).to_have_text("4")  # A1, A2, A3, A7
    with page.expect_download() as download:
        page.click("[data-testid=ledger-download]")
    assert download.value.suggested_filename == "问题台账-城东社区-20250611-20250611.xlsx"
    assert s.errors == []
