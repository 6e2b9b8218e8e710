"""The filing map on a phone: outlines of grids and micro-grids drawn without tiles, one label per place and
none overlapping, a tap inside a cell picks that place, the list picks the same places and the map follows;
the grid worker sees only his grid."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from gongzhi.core.access import Role

from ..appeals_factories import make_categories
from ..test_place_outlines import populate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-map")
CHOSEN_STROKE = "#962d22"


@pytest.fixture
def crowded(tree):
    make_categories()
    return populate(tree)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("[data-testid=place-map]").screenshot(path=str(SHOTS / f"{name}-map.png"))
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def screen_point(page, lng, lat) -> tuple[float, float]:
    """Where a longitude and latitude are on the screen (through the page's Leaflet map)."""
    return tuple(page.evaluate("""([lat, lng]) => {
        const box = document.querySelector("[data-testid=place-map]");
        const p = box._map.latLngToContainerPoint([lat, lng]);
        const r = box.getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""", [lat, lng]))


def visible_labels(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll("[data-testid=place-map] .cell-label")]
        .filter((el) => getComputedStyle(el).visibility !== "hidden")
        .map((el) => { const r = el.getBoundingClientRect();
                       return {text: el.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })""")


def assert_no_overlap(labels):
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            apart = (a["right"] <= b["left"] or b["right"] <= a["left"]
                     or a["bottom"] <= b["top"] or b["bottom"] <= a["top"])
            assert apart, (a, b)


def open_map(page):
    page.locator("[data-testid=place-grid]").click()
    expect(page.locator("[data-testid=place-map]")).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-testid=place-map]')._map")
    page.locator("[data-testid=place-map]").scroll_into_view_if_needed()


def test_resident_taps_a_cell_on_the_outline_map(tree, crowded, open_session):
    grids, micros = crowded
    s = open_session(tree.users[Role.RESIDENT].username, "phone")
    page = s.goto("/appeals/m/new/")
    open_map(page)
    cells = [g for g in grids if not micros.get(g.pk)] + [m for ms in micros.values() for m in ms]
    # outlines, not points: an SVG path per cell and per split grid in Leaflet's overlay pane, no tiles
    overlay = page.locator("[data-testid=place-map] .leaflet-overlay-pane svg path")
    expect(page.locator("[data-testid=place-map] .leaflet-overlay-pane path.place-cell")).to_have_count(len(cells))
    expect(page.locator("[data-testid=place-map] .leaflet-overlay-pane path.place-area")).to_have_count(3)
    assert overlay.count() >= len(cells) + 3
    assert page.locator("[data-testid=place-map] .leaflet-tile").count() == 0
    labels = visible_labels(page)
    assert labels, "no label shows"
    assert_no_overlap(labels)
    shot(page, "resident-map-fitted")

    # a tap inside a micro-grid's cell (at its own point, which lies in its cell) picks it
    target = micros[grids[2].pk][1]
    page.touchscreen.tap(*screen_point(page, target.lng, target.lat))
    expect(page.locator("#id_node")).to_have_value(str(target.pk))
    chosen = page.locator(f"[data-testid=place-map] path.place-{target.pk}")
    expect(chosen).to_have_attribute("stroke", CHOSEN_STROKE)
    chosen_label = page.locator("[data-testid=place-map] .cell-label.is-chosen")
    expect(chosen_label).to_have_count(1)
    expect(chosen_label).to_have_text(target.name)
    expect(chosen_label).to_be_visible()
    assert_no_overlap(visible_labels(page))
    shot(page, "resident-map-picked")

    # closer in, the micro-grids are named; still no two labels overlap
    page.evaluate("() => document.querySelector('[data-testid=place-map]')._map.setZoom(18, {animate: false})")
    page.wait_for_timeout(200)
    assert_no_overlap(visible_labels(page))
    page.evaluate("() => { const m = document.querySelector('[data-testid=place-map]')._map; "
                  "m.setView(m.getCenter(), 17, {animate: false}); }")
    page.wait_for_timeout(200)
    close = visible_labels(page)
    assert_no_overlap(close)
    shot(page, "resident-map-close")

    # the list picks with the keyboard, and the map follows
    page.locator("#id_node").focus()
    page.select_option("#id_node", str(grids[4].pk))
    expect(page.locator(f"[data-testid=place-map] path.place-{grids[4].pk}")).to_have_attribute("stroke", CHOSEN_STROKE)
    expect(chosen).not_to_have_attribute("stroke", CHOSEN_STROKE)
    expect(page.locator("[data-testid=place-map] .cell-label.is-chosen")).to_have_text(grids[4].name)
    assert s.overflow() <= 0
    assert s.errors == []


def test_grid_worker_files_from_the_map_of_his_grid(tree, crowded, open_session):
    grids, micros = crowded
    s = open_session(tree.users[Role.GRID_WORKER].username, "phone")
    page = s.goto("/appeals/m/new/")  # not a resident himself: the page sends him to filing for residents
    with page.expect_navigation():
        page.locator(".card a.button[href='/appeals/m/file-for/']").click()
    open_map(page)
    mine = micros[tree.grid_a1.pk]
    expect(page.locator("[data-testid=place-map] path.place-cell")).to_have_count(len(mine))
    for other in grids[1:]:
        expect(page.locator(f"[data-testid=place-map] path.place-{other.pk}")).to_have_count(0)
    target = mine[2]
    page.touchscreen.tap(*screen_point(page, target.lng, target.lat))
    expect(page.locator("#id_node")).to_have_value(str(target.pk))
    expect(page.locator(f"[data-testid=place-map] path.place-{target.pk}")).to_have_attribute("stroke", CHOSEN_STROKE)
    assert_no_overlap(visible_labels(page))
    shot(page, "grid-worker-map")
    assert s.overflow() <= 0
    assert s.errors == []
