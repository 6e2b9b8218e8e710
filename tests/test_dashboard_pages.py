"""The appeal dashboard page and its JSON payload: who sees it, for which nodes, with which period."""

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.core.access import Role

from .factories import make_user
from .test_metrics import D1, D2, county, loop, story  # noqa: F401  (the story and its fixtures)

PAGE, DATA = "/dashboards/appeals/", "/dashboards/appeals/data/"


def test_page_renders_pickers_and_chart_boxes(client, tree):
    client.force_login(tree.users[Role.SUBDISTRICT_STAFF])
    r = client.get(PAGE)
    assert r.status_code == 200
    html = r.content.decode()
    assert r.context["node"] == tree.town_a  # the top of the user's area
    for box in ("kpis", "chart-trend", "chart-categories", "chart-heat", "chart-children", "chart-handlers",
                "overdue-table", "ledger-download", "node-picker"):
        assert f'data-testid="{box}"' in html, box
    assert "vendor/echarts/echarts.esm.min.js" in html and "dashboards/appeals.js" in html
    # The picker offers the user's area (down to communities) and the children of the chosen node.
    assert [n.name for n in r.context["picker"]] == ["富林镇", "城东社区"]
    assert "九襄镇" not in html
    today = timezone.localdate()
    assert r.context["date_to"] == today and r.context["date_from"] == today - dt.timedelta(days=29)
    assert f"node={tree.town_a.pk}" in r.context["data_url"]


def test_period_choices(client, tree):
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    today = timezone.localdate()
    r = client.get(PAGE, {"period": "7"})
    assert (r.context["date_from"], r.context["date_to"]) == (today - dt.timedelta(days=6), today)
    r = client.get(PAGE, {"period": "custom", "from": "2025-06-11", "to": "2025-06-12", "node": tree.comm_a.pk})
    assert (r.context["date_from"], r.context["date_to"]) == (D1, D2) and r.context["node"] == tree.comm_a
    assert "from=2025-06-11&to=2025-06-12" in r.context["ledger_url"]
    r = client.get(PAGE, {"period": "custom", "from": "2025-06-12", "to": "2025-06-11"})
    assert r.status_code == 200 and r.context["error"] and r.context["period"] == "30"
    # Drilled down to a grid: its micro-grids are offered too.
    r = client.get(PAGE, {"node": tree.grid_a1.pk})
    assert "第一微网格" in [n.name for n in r.context["picker"]]


def test_who_may_see(client, tree):
    client.force_login(tree.users[Role.COMMUNITY_STAFF])
    assert client.get(PAGE, {"node": tree.comm_a.pk}).status_code == 200
    assert client.get(PAGE, {"node": tree.comm_b.pk}).status_code == 404  # out of scope: as if missing
    assert client.get(PAGE, {"node": 999999}).status_code == 404
    assert client.get(DATA, {"node": tree.town_a.pk}).status_code == 404
    for role in (Role.DEPARTMENT_HANDLER, Role.RESIDENT, Role.PARTY_SECRETARY):
        client.force_login(tree.users[role])
        assert client.get(PAGE).status_code == 403, role
        assert client.get(DATA).status_code == 403, role
    client.logout()
    assert client.get(PAGE).status_code == 302 and client.get(DATA).status_code == 302


def test_nav_links_the_dashboard(client, tree):
    client.force_login(tree.users[Role.GRID_WORKER])
    assert 'data-nav="appeal-dashboard"' in client.get("/registry/").content.decode()
    client.force_login(tree.users[Role.DEPARTMENT_HANDLER])
    assert 'data-nav="appeal-dashboard"' not in client.get("/appeals/").content.decode()


def test_payload_is_the_same_figures_as_the_api(client, tree, story):  # noqa: F811
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    r = client.get(DATA, {"node": tree.county.pk, "from": "2025-06-11", "to": "2025-06-12"})
    assert r.status_code == 200 and r["Cache-Control"] == "private, no-store"
    p = r.json()
    assert p["figures"] == county(tree)["figures"]
    api = client.get("/api/v1/metrics/appeals", {"node": tree.county.pk, "from": "2025-06-11", "to": "2025-06-12"})
    assert api.json()["figures"] == p["figures"]
    assert p["rate_parts"]["response_rate"] == [3, 4] and p["rate_parts"]["closure_rate"] == [2, 5]
    assert set(p) >= {"trend", "categories", "children", "handlers", "heat", "overdue"}
    bad = client.get(DATA, {"node": tree.county.pk, "from": "2025-06-12", "to": "2025-06-11"})
    assert bad.status_code == 400


@pytest.mark.parametrize("role, node", [(Role.GRID_WORKER, "grid_a1"), (Role.COMMUNITY_STAFF, "comm_a")])
def test_staff_of_smaller_areas(client, tree, role, node):
    client.force_login(tree.users[role])
    r = client.get(PAGE)
    assert r.status_code == 200 and r.context["node"] == getattr(tree, node)
    make_user("nobody")  # a user without roles
    client.force_login(make_user("nobody2"))
    assert client.get(PAGE).status_code == 403
