"""Outlines of places for maps without tiles: derived Voronoi cells (every point in its own cell, siblings never
overlapping, micro-grids inside their grid), a set boundary winning, GeoJSON boundaries checked on the way in
(422 with a message, never a 500), the filing map's outlines limited to the user's area, and the kept
outlines forgotten when a node changes."""

import json
import math
import random

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import actions, geometry, selectors
from gongzhi.orgs.models import NodeKind, OrgNode

API = "/api/v1"
BASE = (102.64, 29.35)


def square(lng, lat, half=0.002):
    ring = [[lng - half, lat - half], [lng + half, lat - half], [lng + half, lat + half], [lng - half, lat + half]]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def rings_of(feature) -> list[list[list[tuple]]]:
    geo = feature["geometry"]
    polys = [geo["coordinates"]] if geo["type"] == "Polygon" else geo["coordinates"]
    return [[[tuple(p) for p in ring[:-1]] for ring in rings] for rings in polys]


def contains(feature, point) -> bool:
    return any(geometry.inside(point, poly) for poly in rings_of(feature))


def by_id(collection) -> dict[int, dict]:
    return {f["properties"]["id"]: f for f in collection["features"] if f["properties"]["kind"] != "compound"}


@pytest.fixture
def crowded(tree):
    return populate(tree)


def populate(tree):
    """Community A with six grids around its centre, three of them split into 2 to 4 micro-grids; points
    scattered as the demo scatters them (grids about 300 m apart, micro-grids within 100 m of their grid).
    Returns the grids and, by grid id, the micro-grids."""
    rng = random.Random(7)
    comm = tree.comm_a
    comm.lng, comm.lat = BASE
    comm.save()
    grids = [tree.grid_a1, tree.grid_a2] + [
        actions.orgnode_create(parent=comm, name=f"第{n}网格", kind=NodeKind.GRID, by=SYSTEM) for n in "三四五六"]
    micros = {tree.grid_a1.pk: [tree.micro_a1]}
    for g in grids[1:3]:
        micros[g.pk] = []
    for g, count in ((tree.grid_a1, 3), (grids[1], 2), (grids[2], 4)):
        while len(micros[g.pk]) < count:
            micros[g.pk].append(actions.orgnode_create(parent=g, name=f"第{len(micros[g.pk]) + 1}微网格",
                                                       kind=NodeKind.MICRO_GRID, by=SYSTEM))
    for i, g in enumerate(grids):
        angle = 2 * math.pi * i / len(grids) + rng.uniform(-0.3, 0.3)
        g.lng, g.lat = round(BASE[0] + 0.003 * math.cos(angle), 6), round(BASE[1] + 0.003 * math.sin(angle), 6)
        g.save()
        for m in micros.get(g.pk, []):
            m.lng, m.lat = round(g.lng + rng.uniform(-0.001, 0.001), 6), round(g.lat + rng.uniform(-0.001, 0.001), 6)
            m.save()
    tree.compound_a.lng, tree.compound_a.lat = grids[0].lng + 0.0002, grids[0].lat
    tree.compound_a.save()
    return grids, micros


def places_of(comm) -> list[OrgNode]:
    return list(OrgNode.objects.filter(path__startswith=comm.path, kind__in=(NodeKind.GRID, NodeKind.MICRO_GRID)))


def samples(features, n=40):
    """An n x n lattice over the features' bounding box, off the round numbers cells meet at."""
    xs = [p[0] for f in features for poly in rings_of(f) for ring in poly for p in ring]
    ys = [p[1] for f in features for poly in rings_of(f) for ring in poly for p in ring]
    for i in range(n):
        for j in range(n):
            yield (min(xs) + (max(xs) - min(xs)) * (i + 0.4137) / n, min(ys) + (max(ys) - min(ys)) * (j + 0.5871) / n)


# --- derived cells ------------------------------------------------------------------------------------------


def test_every_point_lies_in_its_own_cell_and_siblings_do_not_overlap(tree, crowded):
    grids, micros = crowded
    found = by_id(selectors.place_outlines(places_of(tree.comm_a)))
    split = [g for g in grids if micros.get(g.pk)]
    whole = [g for g in grids if not micros.get(g.pk)]
    cells = [*whole, *(m for g in split for m in micros[g.pk])]
    # the places a tap picks: every micro-grid, and the grids that are not split
    assert {pk for pk, f in found.items() if f["properties"]["role"] == "cell"} == {c.pk for c in cells}
    assert {pk for pk, f in found.items() if f["properties"]["role"] == "area"} == {g.pk for g in split}
    for c in cells:
        assert contains(found[c.pk], (c.lng, c.lat)), c.name
        assert contains(found[c.pk], tuple(found[c.pk]["properties"]["center"])), f"label outside {c.name}"
    for g in split:  # a grid's outline holds its micro-grids
        for m in micros[g.pk]:
            assert contains(found[g.pk], (m.lng, m.lat))
            assert found[m.pk]["properties"]["grid"] == g.pk
    covered = 0
    for point in samples(found.values()):
        hits = [c for c in cells if contains(found[c.pk], point)]
        assert len(hits) <= 1, (point, [h.name for h in hits])
        grid_hits = [g for g in grids if contains(found[g.pk], point)]
        assert len(grid_hits) <= 1, (point, [h.name for h in grid_hits])
        if hits:
            covered += 1
            owner = hits[0] if hits[0].kind == NodeKind.GRID else OrgNode.objects.get_parent(hits[0])
            assert grid_hits == [owner]  # cells nest in their grid's outline
        else:
            assert grid_hits == []
    assert covered > 400  # the cells tile the community rather than leaving specks


def test_a_single_point_gets_a_cell_around_it(tree):
    tree.grid_b1.lng, tree.grid_b1.lat = 102.7, 29.4
    tree.grid_b1.save()
    found = by_id(selectors.place_outlines([tree.grid_b1]))
    assert contains(found[tree.grid_b1.pk], (102.7, 29.4))
    assert found[tree.grid_b1.pk]["properties"]["set"] is False


def test_a_set_boundary_wins(tree, crowded):
    grids, micros = crowded
    admin = tree.users[Role.COUNTY_ADMIN]
    far = square(102.70, 29.40)
    actions.orgnode_set_boundary(node=grids[4], boundary=far, by=admin)
    m = micros[tree.grid_a1.pk][1]
    actions.orgnode_set_boundary(node=m, boundary=json.dumps(square(m.lng, m.lat, 0.0003)), by=admin)
    found = by_id(selectors.place_outlines(places_of(tree.comm_a)))
    assert found[grids[4].pk]["geometry"] == json.loads(geometry.clean_boundary(far))
    assert found[grids[4].pk]["properties"]["set"] is True
    assert contains(found[grids[4].pk], tuple(found[grids[4].pk]["properties"]["center"]))
    assert found[m.pk]["properties"]["set"] is True
    assert found[m.pk]["geometry"]["coordinates"][0][0] == [round(m.lng - 0.0003, 7), round(m.lat - 0.0003, 7)]
    # a grid's set outline holds its micro-grids' cells
    g = grids[2]
    actions.orgnode_set_boundary(node=g, boundary=square(g.lng, g.lat, 0.0015), by=admin)
    found = by_id(selectors.place_outlines(places_of(tree.comm_a)))
    for point in samples([found[g.pk]], 20):
        inside_cells = [x for x in micros[g.pk] if contains(found[x.pk], point)]
        assert len(inside_cells) == (1 if contains(found[g.pk], point) else 0)
    # removed: derived again
    actions.orgnode_set_boundary(node=grids[4], boundary=None, by=admin)
    found = by_id(selectors.place_outlines(places_of(tree.comm_a)))
    assert found[grids[4].pk]["properties"]["set"] is False
    assert contains(found[grids[4].pk], (grids[4].lng, grids[4].lat))


def test_a_community_boundary_clips_the_cells(tree, crowded):
    grids, _micros = crowded
    actions.orgnode_set_boundary(node=tree.comm_a, boundary=square(*BASE, 0.0035), by=tree.users[Role.COUNTY_ADMIN])
    found = by_id(selectors.place_outlines(places_of(tree.comm_a)))
    for f in found.values():
        for poly in rings_of(f):
            for lng, lat in poly[0]:
                assert abs(lng - BASE[0]) <= 0.0035 + 1e-7 and abs(lat - BASE[1]) <= 0.0035 + 1e-7


def test_compounds_are_points_or_their_outline(tree, crowded):
    collection = selectors.place_outlines(places_of(tree.comm_a))
    compound = [f for f in collection["features"] if f["properties"]["kind"] == "compound"]
    assert [f["properties"]["id"] for f in compound] == [tree.compound_a.pk]
    assert compound[0]["geometry"]["type"] == "Point"
    actions.compound_set_boundary(compound=tree.compound_a, boundary=square(102.64, 29.35, 0.0004),
                                  by=tree.users[Role.COMMUNITY_STAFF])
    compound = [f for f in selectors.place_outlines(places_of(tree.comm_a))["features"]
                if f["properties"]["kind"] == "compound"]
    assert compound[0]["geometry"]["type"] == "Polygon" and compound[0]["properties"]["set"] is True


def test_outlines_are_kept_and_forgotten_when_a_node_changes(tree, crowded, django_assert_num_queries):
    grids, _micros = crowded
    places = places_of(tree.comm_a)
    first = selectors.place_outlines(places)
    with django_assert_num_queries(1):  # the community; its outlines are kept
        assert selectors.place_outlines(places) == first
    g = OrgNode.objects.get(pk=grids[3].pk)
    g.lng += 0.002
    g.save()
    moved = by_id(selectors.place_outlines(places_of(tree.comm_a)))
    assert contains(moved[g.pk], (g.lng, g.lat))
    assert moved[g.pk]["geometry"] != by_id(first)[g.pk]["geometry"]


def test_many_points_stay_quick(tree):
    """Eighty micro-grids under ten grids: one community's outlines in well under a second."""
    import time

    rng = random.Random(3)
    for n in range(10):
        g = actions.orgnode_create(parent=tree.comm_a, name=f"网格{n}", kind=NodeKind.GRID, by=SYSTEM,
                                   lng=BASE[0] + rng.uniform(-0.01, 0.01), lat=BASE[1] + rng.uniform(-0.01, 0.01))
        for k in range(8):
            actions.orgnode_create(parent=g, name=f"微网格{k}", kind=NodeKind.MICRO_GRID, by=SYSTEM,
                                   lng=g.lng + rng.uniform(-0.003, 0.003), lat=g.lat + rng.uniform(-0.003, 0.003))
    places = places_of(tree.comm_a)
    start = time.perf_counter()
    found = by_id(selectors.place_outlines(places))
    assert time.perf_counter() - start < 1.0
    assert sum(f["properties"]["role"] == "cell" for f in found.values()) == 80


# --- set boundaries: checked on the way in ------------------------------------------------------------------

RING = [[102.64, 29.35], [102.65, 29.35], [102.65, 29.36], [102.64, 29.35]]


@pytest.mark.parametrize(("value", "says"), [
    ({"type": "Point", "coordinates": [102.6, 29.3]}, "Polygon or MultiPolygon"),
    ({"type": "Polygon", "coordinates": []}, "no coordinates"),
    ({"type": "Polygon", "coordinates": [RING[:-1] + [[102.64, 29.351]]]}, "not closed"),
    ({"type": "Polygon", "coordinates": [RING[:2] + [RING[0]]]}, "at least 4"),
    ({"type": "Polygon", "coordinates": [[[29.35, 102.64], [29.35, 102.65], [29.36, 102.65], [29.35, 102.64]]]},
     "outside China"),
    ({"type": "Polygon", "coordinates": [[[-0.1, 51.5], [0.1, 51.5], [0.1, 51.6], [-0.1, 51.5]]]}, "outside China"),
    ({"type": "Polygon", "coordinates": [[[102.64, 29.35], [102.65, 29.35], [102.66, 29.35], [102.64, 29.35]]]},
     "no area"),
    ({"type": "Polygon", "coordinates": [[[102.64, "29.35"], *RING[1:]]]}, "[longitude, latitude]"),
    ({"type": "Polygon", "coordinates": [[[102.64, True], *RING[1:]]]}, "[longitude, latitude]"),
    ({"type": "Polygon", "coordinates": [[[102.64, float("nan")], *RING[1:]]]}, "[longitude, latitude]"),
    ({"type": "MultiPolygon", "coordinates": [[RING]] * (geometry.MAX_POLYGONS + 1)}, "at most"),
    ("{not json", "not JSON"),
])
def test_a_bad_boundary_is_refused_with_a_message(value, says):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        geometry.clean_boundary(value)
    assert says in " ".join(refused.value.messages)


def test_a_boundary_is_bounded_in_vertices():
    n = geometry.MAX_VERTICES
    ring = [[102.6 + 0.01 * math.cos(2 * math.pi * k / n), 29.3 + 0.01 * math.sin(2 * math.pi * k / n)]
            for k in range(n - 1)]
    geometry.clean_boundary({"type": "Polygon", "coordinates": [ring + [ring[0]]]})  # exactly the limit
    ring = ring + [[102.6, 29.31]]
    with pytest.raises(ValidationError):
        geometry.clean_boundary({"type": "Polygon", "coordinates": [ring + [ring[0]]]})


def test_a_boundary_is_stored_compact_and_rounded():
    text = geometry.clean_boundary({"type": "Polygon", "coordinates": [[[102.640000001, 29.35, 500], *RING[1:]]],
                                    "crs": "ignored"})
    assert text == '{"type":"Polygon","coordinates":[[[102.64,29.35],[102.65,29.35],[102.65,29.36],[102.64,29.35]]]}'
    assert geometry.clean_boundary(None) == geometry.clean_boundary("") == ""


def api(client, tree, role):
    client.force_login(tree.users[role])
    return client


def test_api_sets_reads_and_removes_a_node_outline_audited(tree, client):
    c = api(client, tree, Role.COMMUNITY_STAFF)
    body = {"boundary": {"type": "Polygon", "coordinates": [RING]}, "reason": "测绘"}
    r = c.put(f"{API}/nodes/{tree.grid_a2.pk}/boundary", body, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json() == {"id": tree.grid_a2.pk, "boundary": {"type": "Polygon", "coordinates": [RING]}, "vertices": 4}
    assert c.get(f"{API}/nodes/{tree.grid_a2.pk}/boundary").json()["vertices"] == 4
    event = AuditEvent.objects.get(action="orgnode.boundary")
    assert event.changes == {"vertices": [0, 4]} and event.reason == "测绘" and event.org_path == tree.grid_a2.path
    r = c.put(f"{API}/nodes/{tree.grid_a2.pk}/boundary", {"boundary": None}, content_type="application/json")
    assert r.json()["boundary"] is None
    tree.grid_a2.refresh_from_db()
    assert tree.grid_a2.boundary == ""


@pytest.mark.parametrize(("boundary", "says"), [
    ({"type": "Polygon", "coordinates": [RING[:-1] + [[102.7, 29.4]]]}, "not closed"),
    ({"type": "Polygon", "coordinates": [[[2.64, 29.35], [2.65, 29.35], [2.65, 29.36], [2.64, 29.35]]]},
     "outside China"),
    ({"type": "Polygon", "coordinates": [[[102.64, 29.35]] * 3]}, None),
    ({"type": "Polygon", "coordinates": [[[102.64, 291.35], *RING[1:]]]}, None),
    ({"type": "Circle", "coordinates": [RING]}, None),
    ({"type": "Polygon", "coordinates": [[["a", "b"], *RING[1:]]]}, None),
    ({"type": "Polygon", "coordinates": [[RING]]}, None),
    ({"type": "Polygon"}, None),
    ("POLYGON((102 29, 103 29, 103 30, 102 29))", None),
])
def test_api_refuses_a_bad_outline_with_422_and_a_message(tree, client, boundary, says):
    c = api(client, tree, Role.COMMUNITY_STAFF)
    r = c.put(f"{API}/nodes/{tree.grid_a2.pk}/boundary", {"boundary": boundary}, content_type="application/json",
              headers={"Accept-Language": "en"})
    assert r.status_code == 422, r.content
    messages = " ".join(item["msg"] for item in r.json()["detail"])
    assert messages and (says is None or says in messages), messages
    tree.grid_a2.refresh_from_db()
    assert tree.grid_a2.boundary == "" and not AuditEvent.objects.filter(action="orgnode.boundary").exists()


def test_api_outline_body_that_is_not_json_is_400(tree, client):
    r = api(client, tree, Role.COMMUNITY_STAFF).put(f"{API}/nodes/{tree.grid_a2.pk}/boundary", "{nope",
                                                     content_type="application/json")
    assert r.status_code == 400


def test_api_outline_scope_and_permission(tree, client):
    body = {"boundary": {"type": "Polygon", "coordinates": [RING]}}
    c = api(client, tree, Role.COMMUNITY_STAFF)
    # another community's grid and compound: as missing
    assert c.put(f"{API}/nodes/{tree.grid_b1.pk}/boundary", body, content_type="application/json").status_code == 404
    assert c.put(f"{API}/compounds/{tree.compound_b.pk}/boundary", body,
                 content_type="application/json").status_code == 404
    assert c.get(f"{API}/nodes/{tree.grid_b1.pk}/boundary").status_code == 404
    r = c.put(f"{API}/compounds/{tree.compound_a.pk}/boundary", body, content_type="application/json")
    assert r.status_code == 200 and r.json()["vertices"] == 4
    assert AuditEvent.objects.filter(action="compound.boundary", object_id=str(tree.compound_a.pk)).count() == 1
    # a grid worker sees places but does not edit them
    c = api(client, tree, Role.GRID_WORKER)
    r = c.put(f"{API}/nodes/{tree.grid_a1.pk}/boundary", body, content_type="application/json")
    assert r.status_code == 403 and r.json()["detail"]
    tree.grid_a1.refresh_from_db()
    assert tree.grid_a1.boundary == ""


# --- the filing map: outlines of the user's area only --------------------------------------------------------


def test_filing_map_outlines_are_the_users_area(tree, crowded, client):
    grids, micros = crowded
    tree.grid_b1.lng, tree.grid_b1.lat = 102.70, 29.40
    tree.grid_b1.save()
    tree.compound_b.lng, tree.compound_b.lat = 102.701, 29.40
    tree.compound_b.save()
    url = reverse("appeals:m_places")
    client.force_login(tree.users[Role.RESIDENT])  # their own community
    data = client.get(url).json()
    ids = {f["properties"]["id"] for f in data["features"] if f["properties"]["kind"] != "compound"}
    assert ids == {g.pk for g in grids} | {m.pk for ms in micros.values() for m in ms}
    assert [f["properties"]["id"] for f in data["features"] if f["properties"]["kind"] == "compound"] == [
        tree.compound_a.pk]
    label = next(f for f in data["features"] if f["properties"]["id"] == tree.micro_a1.pk)["properties"]["label"]
    assert label == "第一网格 › 第一微网格"
    client.force_login(tree.users[Role.GRID_WORKER])  # grid A1 and its micro-grids, files for others there
    data = client.get(url, {"for": "staff"}).json()
    ids = {f["properties"]["id"] for f in data["features"] if f["properties"]["kind"] != "compound"}
    assert ids == {tree.grid_a1.pk} | {m.pk for m in micros[tree.grid_a1.pk]}
    client.force_login(tree.users[Role.COUNTY_ADMIN])  # both towns
    data = client.get(url, {"for": "staff"}).json()
    ids = {f["properties"]["id"] for f in data["features"]}
    assert tree.grid_b1.pk in ids and tree.compound_b.pk in ids and tree.grid_a2.pk in ids
