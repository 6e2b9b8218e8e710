"""Outlines of places from the tree's own geometry, in pure Python (no tile server, no GIS library).

Two things live here:

- ``clean_boundary``: what a boundary set on a node or a compound may be. A GeoJSON ``Polygon`` or
  ``MultiPolygon`` in WGS84 longitude/latitude inside China's bounds, every ring closed, at most
  ``MAX_VERTICES`` positions in all; stored as compact JSON text.
- ``cells``: where no boundary is set, outlines derived from points: the Voronoi cells of the points,
  clipped to a region (a padded convex hull of the points, or a boundary), by clipping the region with one
  half-plane per other point (Sutherland-Hodgman). Tens of points per community: O(n²) clips are enough.
  ``union`` joins cells into one outline (a grid made of its micro-grids' cells) from the edges the cells
  do not share.

Distances are measured on a plane where a degree of longitude is shortened by the cosine of the latitude
(``Plane``), so that cells are fair on the ground, not on the degree grid.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What a set boundary may be.
MAX_VERTICES = 2000
MAX_POLYGONS = 50
MAX_RINGS = 20  # per polygon: the outer ring and its holes
# China's mainland, islands and seas, generously (Pamirs 73.5°E to the Wusuli 135.1°E, Zengmu 3.9°N to Mohe 53.6°N).
LNG_MIN, LNG_MAX = 73.0, 136.0
LAT_MIN, LAT_MAX = 3.0, 54.0
DECIMALS = 7  # about 1 cm

Point = tuple[float, float]
# A ring of a clipped cell: its vertices, each with the label of the edge that starts there (the index of the
# other point whose bisector made the edge, or None for an edge of the region).
Ring = list[tuple[Point, int | None]]


# --- set boundaries ------------------------------------------------------------------------------------------


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def clean_boundary(value) -> str:
    """The boundary as stored: ``""`` for none (None, "" or {}), else compact GeoJSON text of a Polygon or
    MultiPolygon, coordinates rounded to ``DECIMALS``. ``value`` is a dict or JSON text. Raises
    ValidationError saying what is wrong."""
    if value is None or value == "" or value == {}:
        return ""
    if isinstance(value, (str, bytes)):
        if len(value) > MAX_VERTICES * 60:
            raise ValidationError(_("The boundary is too large: at most %(n)s points.") % {"n": MAX_VERTICES})
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(_("The boundary is not JSON.")) from None
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_("A boundary is a GeoJSON geometry of type Polygon or MultiPolygon."))
    kind, coords = value["type"], value.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise ValidationError(_("The boundary has no coordinates."))
    polygons = [coords] if kind == "Polygon" else coords
    if len(polygons) > MAX_POLYGONS:
        raise ValidationError(_("A boundary has at most %(n)s polygons.") % {"n": MAX_POLYGONS})
    total, out = 0, []
    for p, rings in enumerate(polygons, 1):
        if not isinstance(rings, list) or not rings:
            raise ValidationError(_("Polygon %(p)s has no rings.") % {"p": p})
        if len(rings) > MAX_RINGS:
            raise ValidationError(_("A polygon has at most %(n)s rings.") % {"n": MAX_RINGS})
        clean_rings = []
        for r, ring in enumerate(rings, 1):
            where = {"p": p, "r": r}
            if not isinstance(ring, list) or len(ring) < 4:
                raise ValidationError(_("Ring %(r)s of polygon %(p)s needs at least 4 positions.") % where)
            total += len(ring)
            if total > MAX_VERTICES:
                raise ValidationError(_("The boundary is too large: at most %(n)s points.") % {"n": MAX_VERTICES})
            points = []
            for position in ring:
                if not (isinstance(position, list) and len(position) in (2, 3) and all(map(_number, position))):
                    raise ValidationError(_("Ring %(r)s of polygon %(p)s has a position that is not "
                                            "[longitude, latitude].") % where)
                lng, lat = float(position[0]), float(position[1])
                if not (LNG_MIN <= lng <= LNG_MAX and LAT_MIN <= lat <= LAT_MAX):
                    raise ValidationError(
                        _("Position [%(lng)s, %(lat)s] lies outside China: give WGS84 longitude, latitude "
                          "(longitude %(lng_min)s to %(lng_max)s, latitude %(lat_min)s to %(lat_max)s).")
                        % {"lng": position[0], "lat": position[1], "lng_min": LNG_MIN, "lng_max": LNG_MAX,
                           "lat_min": LAT_MIN, "lat_max": LAT_MAX})
                points.append([round(lng, DECIMALS), round(lat, DECIMALS)])
            if points[0] != points[-1]:
                raise ValidationError(_("Ring %(r)s of polygon %(p)s is not closed: its last position must "
                                        "repeat its first.") % where)
            if abs(_area([(x, y) for x, y in points[:-1]])) < 1e-12:
                raise ValidationError(_("Ring %(r)s of polygon %(p)s encloses no area.") % where)
            clean_rings.append(points)
        out.append(clean_rings)
    geometry = {"type": "Polygon", "coordinates": out[0]} if kind == "Polygon" else {"type": "MultiPolygon",
                                                                                      "coordinates": out}
    return json.dumps(geometry, separators=(",", ":"))


def boundary_geometry(text: str) -> dict | None:
    """The stored boundary as a GeoJSON geometry, or None."""
    return json.loads(text) if text else None


def vertex_count(text: str) -> int:
    geometry = boundary_geometry(text)
    if geometry is None:
        return 0
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return sum(len(ring) for rings in polygons for ring in rings)


# --- plane geometry --------------------------------------------------------------------------------------------


class Plane:
    """Longitude and latitude to a local plane and back: x is longitude shortened by cos(latitude) around
    ``origin``, y latitude, both relative to ``origin`` (small numbers keep the arithmetic exact enough)."""

    def __init__(self, origin: Point):
        self.lng0, self.lat0 = origin
        self.k = math.cos(math.radians(self.lat0))

    def to(self, lng: float, lat: float) -> Point:
        return ((lng - self.lng0) * self.k, lat - self.lat0)

    def back(self, x: float, y: float) -> list[float]:
        return [round(self.lng0 + x / self.k, DECIMALS), round(self.lat0 + y, DECIMALS)]


def _area(points: Sequence[Point]) -> float:
    """Signed area (positive counter-clockwise)."""
    n = len(points)
    return sum(points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1] for i in range(n)) / 2


def area(points: Sequence[Point]) -> float:
    return _area(points)


def centroid(points: Sequence[Point]) -> Point:
    """The centroid of a simple polygon (the mean of its vertices when it has no area)."""
    a = _area(points)
    n = len(points)
    if abs(a) < 1e-18:
        return (sum(p[0] for p in points) / n, sum(p[1] for p in points) / n)
    cx = cy = 0.0
    for i in range(n):
        (x0, y0), (x1, y1) = points[i], points[(i + 1) % n]
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return (cx / (6 * a), cy / (6 * a))


def inside(point: Point, rings: Sequence[Sequence[Point]]) -> bool:
    """Even-odd rule over all the rings (an outer ring and its holes)."""
    x, y = point
    hit = False
    for ring in rings:
        n = len(ring)
        for i in range(n):
            (x0, y0), (x1, y1) = ring[i], ring[(i + 1) % n]
            if (y0 > y) != (y1 > y) and x < (x1 - x0) * (y - y0) / (y1 - y0) + x0:
                hit = not hit
    return hit


def convex_hull(points: Sequence[Point]) -> list[Point]:
    """Counter-clockwise hull (Andrew's monotone chain)."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[Point] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Point] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def padded_hull(points: Sequence[Point], pad: float, sides: int = 16) -> list[Point]:
    """The convex hull of the points, grown by about ``pad`` on every side (each point stands for a
    ``sides``-gon around it), counter-clockwise."""
    around = [(x + pad * math.cos(2 * math.pi * k / sides), y + pad * math.sin(2 * math.pi * k / sides))
              for x, y in points for k in range(sides)]
    return convex_hull(around)


def nearest_spacing(points: Sequence[Point]) -> float:
    """The median distance from a point to its nearest other point (0 for fewer than two)."""
    if len(points) < 2:
        return 0.0
    nearest = sorted(min(math.dist(p, q) for j, q in enumerate(points) if j != i) for i, p in enumerate(points))
    return nearest[len(nearest) // 2]


def _clip(ring: Ring, a: float, b: float, c: float, label: int | None) -> Ring:
    """The part of ``ring`` where a·x + b·y <= c; the new edges along the line carry ``label``."""
    if not ring:
        return ring
    eps = 1e-13 * max(1.0, abs(c))
    out: Ring = []
    n = len(ring)
    for i in range(n):
        (p, lab), (q, _next) = ring[i], ring[(i + 1) % n]
        fp, fq = a * p[0] + b * p[1] - c, a * q[0] + b * q[1] - c
        p_in, q_in = fp <= eps, fq <= eps
        if p_in:
            out.append((p, lab))
        if p_in != q_in:
            t = fp / (fp - fq)
            cut = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
            out.append((cut, label if p_in else lab))
    return out if len(out) >= 3 else []


def voronoi_cells(sites: Sequence[Point], region: Sequence[Sequence[Point]]) -> list[list[Ring]]:
    """For each site, the rings of the part of ``region`` (counter-clockwise outer rings) nearer to it than to
    any other site. Sites must be distinct. Edges are labelled with the index of the neighbouring site, or
    None along the region's edge."""
    out = []
    for i, (xi, yi) in enumerate(sites):
        # nearest first: a site farther than twice the cell's farthest vertex cannot cut it any more
        others = sorted((math.dist(sites[i], s), j) for j, s in enumerate(sites) if j != i)
        rings = []
        for outer in region:
            ring: Ring = [(p, None) for p in outer]
            reach = max(math.dist(sites[i], p) for p in outer)
            for distance, j in others:
                if distance > 2 * reach:
                    break
                xj, yj = sites[j]
                # nearer to i than to j:  2(pj - pi)·x <= |pj|² - |pi|²
                ring = _clip(ring, 2 * (xj - xi), 2 * (yj - yi), xj * xj + yj * yj - xi * xi - yi * yi, j)
                if not ring:
                    break
                reach = max(math.dist(sites[i], p) for p, _label in ring)
            if ring and abs(_area([p for p, _lab in ring])) > 1e-16:
                rings.append(ring)
        out.append(rings)
    return out


def clip_to(rings: Sequence[Ring], keep: Sequence[tuple[float, float, float]]) -> list[Ring]:
    """Clip rings by half-planes a·x + b·y <= c."""
    out = []
    for ring in rings:
        for a, b, c in keep:
            ring = _clip(ring, a, b, c, None)
            if not ring:
                break
        if ring:
            out.append(ring)
    return out


def union(cells: Sequence[Sequence[Ring]], members: set[int]) -> list[list[list[Point]]] | None:
    """The outline of the cells whose indexes are in ``members``, as polygons (outer ring, then holes): the
    edges of those cells that face a site outside ``members`` or the region, chained end to start. None when
    the edges do not close into rings (rounding in a degenerate diagram): the caller draws the cells one by
    one instead."""
    tol = 1e-9
    edges = []
    for index in members:
        for ring in cells[index]:
            n = len(ring)
            for k in range(n):
                (p, label), (q, _lab) = ring[k], ring[(k + 1) % n]
                if (label is None or label not in members) and math.dist(p, q) > tol:
                    edges.append((p, q))
    if not edges:
        return None
    used = [False] * len(edges)
    rings: list[list[Point]] = []
    for start in range(len(edges)):
        if used[start]:
            continue
        used[start] = True
        first, end = edges[start]
        ring = [first]
        for _step in range(len(edges)):
            if math.dist(end, first) <= tol * 10:
                break
            nxt = next((i for i, (p, _q) in enumerate(edges) if not used[i] and math.dist(p, end) <= tol * 10), None)
            if nxt is None:
                return None
            used[nxt] = True
            ring.append(edges[nxt][0])
            end = edges[nxt][1]
        else:
            return None
        if len(ring) >= 3:
            rings.append(ring)
    outers = [r for r in rings if _area(r) > 0]
    holes = [r for r in rings if _area(r) <= 0]
    polygons = [[r] for r in outers]
    for hole in holes:
        home = next((poly for poly in polygons if inside(hole[0], [poly[0]])), None)
        if home is None:
            return None
        home.append(hole)
    return polygons or None


def label_point(polygons: Sequence[Sequence[Sequence[Point]]], site: Point | None = None) -> Point:
    """Where a label goes: the centroid of the largest polygon when it lies inside, else the site when it
    does, else the largest polygon's first vertex nudged inwards along to its centroid."""
    largest = max(polygons, key=lambda poly: abs(_area(poly[0])))
    c = centroid(largest[0])
    if inside(c, largest):
        return c
    if site is not None and any(inside(site, poly) for poly in polygons):
        return site
    v = largest[0][0]
    return ((v[0] * 9 + c[0]) / 10, (v[1] * 9 + c[1]) / 10)
