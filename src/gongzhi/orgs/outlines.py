"""The outlines of one community's grids, micro-grids and compounds, as GeoJSON features (for
``selectors.place_outlines``, which keeps them a while and picks the ones a user may see).

A set boundary wins. Elsewhere the places a map picks from (the micro-grids with a point, and the grids
with a point and no micro-grid with one: the "leaves") each get the Voronoi cell of their point among all
the leaves of the community, clipped to the community's boundary or, without one, to the convex hull of the
community's points grown by a margin. A grid's outline is the union of its micro-grids' cells, so grids and
micro-grids nest and no two siblings overlap. A leaf whose grid has a set boundary gets its cell among its
own grid's leaves, clipped to that boundary.
"""

from __future__ import annotations

from collections import defaultdict

from . import geometry
from .geometry import Plane
from .models import Building, Compound, NodeKind, OrgNode

PAD_MIN, PAD_MAX = 0.0008, 0.01  # the hull's margin, in degrees of latitude (about 90 m to 1.1 km)


def _point(row) -> tuple[float, float] | None:
    lng, lat = row.get("lng"), row.get("lat")
    if lng is None or lat is None:
        return None
    if not (geometry.LNG_MIN <= lng <= geometry.LNG_MAX and geometry.LAT_MIN <= lat <= geometry.LAT_MAX):
        return None  # a stray point (0, 0) would stretch the community over half the globe
    return (lng, lat)


def _polygons(plane: Plane, geo: dict) -> list[list[list[tuple[float, float]]]]:
    """A GeoJSON Polygon/MultiPolygon on the plane: polygons of rings (closing position dropped)."""
    polys = [geo["coordinates"]] if geo["type"] == "Polygon" else geo["coordinates"]
    return [[[plane.to(*pos[:2]) for pos in ring[:-1]] for ring in rings] for rings in polys]


def _region(polygons) -> list[list[tuple[float, float]]]:
    """The outer rings of polygons, counter-clockwise, as a clipping region (holes are not cut out)."""
    return [rings[0] if geometry.area(rings[0]) > 0 else rings[0][::-1] for rings in polygons]


def _geo(plane: Plane, polygons) -> dict:
    """Polygons of plane rings back to a GeoJSON geometry (rings closed)."""
    coords = [[[plane.back(*p) for p in ring] + [plane.back(*ring[0])] for ring in rings] for rings in polygons]
    return {"type": "Polygon", "coordinates": coords[0]} if len(coords) == 1 else {"type": "MultiPolygon",
                                                                                   "coordinates": coords}


def _feature(plane: Plane, row, polygons, *, role: str, grid: int | None, set_: bool, site=None) -> dict:
    """A GeoJSON feature; a set outline goes out as stored, a derived one from the plane."""
    return {
        "type": "Feature",
        "geometry": geometry.boundary_geometry(row["boundary"]) if set_ else _geo(plane, polygons),
        "properties": {
            "id": row["id"], "name": row["name"], "kind": row.get("kind", "compound"), "role": role, "grid": grid,
            "set": set_, "center": plane.back(*geometry.label_point(polygons, site)),
        },
    }


def community_outlines(community: OrgNode) -> dict:
    """``{"places": {node id: feature}, "compounds": [(feature, {node ids it touches})], "grids": {grid ids}}``
    for the active grids and micro-grids of ``community`` and its compounds."""
    step = OrgNode.steplen
    rows = list(OrgNode.objects.filter(path__startswith=community.path, kind__in=(NodeKind.GRID, NodeKind.MICRO_GRID),
                                       is_active=True).order_by("path")
                .values("id", "path", "name", "kind", "lng", "lat", "boundary"))
    compounds = list(Compound.objects.filter(community=community).order_by("name")
                     .values("id", "name", "lng", "lat", "boundary"))
    grids = [r for r in rows if r["kind"] == NodeKind.GRID]
    grid_of_path = {g["path"]: g for g in grids}
    micros = defaultdict(list)
    for r in rows:
        if r["kind"] == NodeKind.MICRO_GRID and r["path"][:-step] in grid_of_path:
            micros[r["path"][:-step]].append(r)

    leaves, leaf_grid = [], []  # the places with a point that cells are made for, and each one's grid
    for g in grids:
        pointed = [m for m in micros[g["path"]] if _point(m)]
        for leaf in pointed or ([g] if _point(g) else []):
            leaves.append(leaf)
            leaf_grid.append(g)
    points = [p for p in (_point(r) for r in [*rows, *compounds, {"lng": community.lng, "lat": community.lat}]) if p]
    boundaries = [r for r in [*rows, *compounds] if r["boundary"]]
    if not points and not boundaries:
        return {"places": {}, "compounds": [], "grids": {g["id"] for g in grids}}
    if points:
        origin = (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    else:
        first = geometry.boundary_geometry(boundaries[0]["boundary"])
        ring = (first["coordinates"] if first["type"] == "Polygon" else first["coordinates"][0])[0]
        origin = tuple(ring[0][:2])
    plane = Plane(origin)

    # Distinct sites: a point given twice is moved by a few centimetres, so the two split the cell between them.
    sites, seen = [], set()
    for leaf in leaves:
        x, y = plane.to(*_point(leaf))
        while (round(x, 9), round(y, 9)) in seen:
            x, y = x + 3e-7, y + 2e-7
        seen.add((round(x, 9), round(y, 9)))
        sites.append((x, y))
    if community.boundary:
        region = _region(_polygons(plane, geometry.boundary_geometry(community.boundary)))
    else:
        plane_points = [plane.to(*p) for p in points]
        pad = min(PAD_MAX, max(PAD_MIN, 0.6 * geometry.nearest_spacing(sites)))
        region = [geometry.padded_hull(plane_points, pad)] if plane_points else []
    cells = geometry.voronoi_cells(sites, region) if sites and region else [[] for _ in sites]

    def rings_of(cell) -> list[list[list[tuple[float, float]]]]:
        return [[[p for p, _label in ring]] for ring in cell]

    places: dict[int, dict] = {}
    is_leaf = {id(leaf) for leaf in leaves}
    for g in grids:
        own = [i for i, leaf in enumerate(leaves) if leaf_grid[i] is g]
        grid_polys = _polygons(plane, geometry.boundary_geometry(g["boundary"])) if g["boundary"] else None
        own_cells = {i: cells[i] for i in own}
        if grid_polys and own:  # the grid's own leaves share its set outline
            local = geometry.voronoi_cells([sites[i] for i in own], _region(grid_polys))
            own_cells = dict(zip(own, local))
        for i in own:
            leaf = leaves[i]
            if leaf["boundary"]:
                polys = _polygons(plane, geometry.boundary_geometry(leaf["boundary"]))
                places[leaf["id"]] = _feature(plane, leaf, polys, role="cell", grid=g["id"], set_=True, site=sites[i])
            elif own_cells[i]:
                places[leaf["id"]] = _feature(plane, leaf, rings_of(own_cells[i]), role="cell", grid=g["id"],
                                              set_=False, site=sites[i])
        # micro-grids without a point but with an outline of their own can be picked too
        for m in micros[g["path"]]:
            if id(m) not in is_leaf and m["boundary"]:
                polys = _polygons(plane, geometry.boundary_geometry(m["boundary"]))
                places[m["id"]] = _feature(plane, m, polys, role="cell", grid=g["id"], set_=True)
        if any(leaves[i] is g for i in own):
            continue
        has_cells = any(m["id"] in places for m in micros[g["path"]])
        if grid_polys:
            places[g["id"]] = _feature(plane, g, grid_polys, role="area" if has_cells else "cell", grid=g["id"],
                                       set_=True)
        elif own:
            polys = _union(cells, own)
            if polys:
                places[g["id"]] = _feature(plane, g, polys, role="area", grid=g["id"], set_=False)

    out_compounds = []
    touching = defaultdict(set)
    for compound_id, node_id in Compound.grids.through.objects.filter(compound__community=community).values_list(
            "compound_id", "orgnode_id"):
        touching[compound_id].add(node_id)
    for compound_id, node_id in Building.objects.filter(compound__community=community).values_list(
            "compound_id", "grid_id").distinct():
        touching[compound_id].add(node_id)
    for c in compounds:
        if c["boundary"]:
            polys = _polygons(plane, geometry.boundary_geometry(c["boundary"]))
            feature = _feature(plane, c, polys, role="compound", grid=None, set_=True)
        elif _point(c):
            feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(_point(c))},
                       "properties": {"id": c["id"], "name": c["name"], "kind": "compound", "role": "compound",
                                      "grid": None, "set": False, "center": list(_point(c))}}
        else:
            continue
        out_compounds.append((feature, frozenset(touching[c["id"]])))
    return {"places": places, "compounds": out_compounds, "grids": {g["id"] for g in grids}}


def _union(cells, members: list[int]):
    """The union of some cells as polygons; the cells one by one when their edges do not chain."""
    if len(members) == 1:
        return [[[p for p, _label in ring]] for ring in cells[members[0]]] or None
    polys = geometry.union(cells, set(members))
    if polys:
        return polys
    return [[[p for p, _label in ring]] for i in members for ring in cells[i]] or None
