"""The places workbook checked row by row, in the order of its sheets, against the tree under the import's
node and the places the rows above have made: every row's parent named by code or by path of names, its
kind, its code (12 digits for a community, each code starting with its parent's, none used twice), the
importer's right to add it there. Nothing is written here: the plan is written by ``write`` when no row
has an error."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import count

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from gongzhi.core.scoping import under
from gongzhi.orgs.permissions import Perm

from ..models import Building, Compound, CompoundKind, Entrance, NodeKind, OrgNode
from .template import COMMUNITY_TYPES, COMPOUND_KINDS_IN, GRID_LEVELS, PlaceSheet

_PATH_SPLIT = re.compile(r"\s*[/／\\>＞]\s*")
_new_keys = count(-1, -1)


def norm_path(text: str) -> tuple[str, ...]:
    return tuple(p for p in _PATH_SPLIT.split(text.strip()) if p)


@dataclass(eq=False)
class Place:
    """An org node as the import sees it: registered (``id`` and ``path``) or made by a row of this file."""

    id: int | None
    path: str
    name: str
    kind: str
    code: str
    parent: Place | None
    findable: bool = True  # under the import's node (its ancestors only give their names)
    fields: dict = field(default_factory=dict)  # is_rural, lng, lat of a new one
    set_code: bool = False  # registered without a code: the row gives it one

    @property
    def is_new(self) -> bool:
        return self.id is None

    @property
    def anchor(self) -> str:
        """The path of the nearest registered place at or above it (what a permission is checked over)."""
        place = self
        while place.is_new:
            place = place.parent
        return place.path

    def chain(self) -> list[Place]:
        out, place = [], self
        while place is not None:
            out.append(place)
            place = place.parent
        return out[::-1]

    def names(self) -> tuple[str, ...]:
        return tuple(p.name.strip() for p in self.chain())

    def label(self) -> str:
        return "/".join(self.names()[1:] or self.names())

    def within(self, other: Place) -> bool:
        return any(p is other for p in self.chain())


@dataclass
class Row:
    sheet: PlaceSheet
    number: int
    cells: list[str]
    errors: list[str] = field(default_factory=list)
    state: str = ""  # new, same (already registered), code (registered, gets its code)
    made: object = None  # the Place, or the compound / building / entrance key it adds

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(eq=False)
class Spot:
    """A compound, building or entrance: registered (``id``) or made by a row."""

    id: int | None
    name: str
    fields: dict = field(default_factory=dict)
    parent: object = None  # the community Place, or the compound / building Spot
    grid: Place | None = None  # a building's grid; an entrance's is its building's


class PlaceTree:
    """The org nodes under ``root`` (and the names of those above it), the compounds, buildings and entrances
    of its communities, and the places the rows have added so far, with the indexes rows are read against."""

    def __init__(self, user, root: OrgNode):
        self.user = user
        step = OrgNode.steplen
        above = [root.path[:i] for i in range(step, len(root.path), step)]
        rows = OrgNode.objects.filter(Q(path__in=above) | under(root.path, "path")).order_by("path").values(
            "id", "path", "name", "kind", "code")
        by_path: dict[str, Place] = {}
        self.by_code: dict[str, list[Place]] = defaultdict(list)
        self.by_names: dict[tuple[str, ...], list[Place]] = defaultdict(list)
        self.children: dict[int, dict[str, Place]] = defaultdict(dict)
        for n in rows:
            place = Place(n["id"], n["path"], n["name"], n["kind"], n["code"].strip(), by_path.get(n["path"][:-step]),
                          findable=n["path"].startswith(root.path))
            by_path[place.path] = place
            self._index(place)
        self.root = by_path[root.path]
        places = [p for p in by_path.values() if p.findable]
        communities = {p.id: p for p in places if p.kind == NodeKind.COMMUNITY}
        grids = {p.id: p for p in places if p.kind in (NodeKind.GRID, NodeKind.MICRO_GRID)}
        self.compounds: dict[tuple[int, str], Spot] = {}
        self.buildings: dict[tuple[int, str], Spot] = {}
        self.entrances: dict[tuple[int, str], Spot] = {}
        by_id: dict[int, Spot] = {}
        for c in Compound.objects.filter(community_id__in=communities).values("id", "community_id", "name"):
            spot = Spot(c["id"], c["name"], parent=communities[c["community_id"]])
            self.compounds[(id(spot.parent), spot.name)] = by_id[c["id"]] = spot
        b_by_id: dict[int, Spot] = {}
        for b in Building.objects.filter(compound_id__in=by_id).values("id", "compound_id", "name", "grid_id"):
            spot = Spot(b["id"], b["name"], parent=by_id[b["compound_id"]], grid=grids.get(b["grid_id"]))
            self.buildings[(id(spot.parent), spot.name)] = b_by_id[b["id"]] = spot
        for e in Entrance.objects.filter(building_id__in=b_by_id).values("id", "building_id", "name"):
            spot = Spot(e["id"], e["name"], parent=b_by_id[e["building_id"]])
            self.entrances[(id(spot.parent), spot.name)] = spot
        self.new_nodes: list[Place] = []
        self.coded: list[Place] = []
        self.new_spots: dict[str, list[Spot]] = {"compound": [], "building": [], "entrance": []}

    def _index(self, place: Place) -> None:
        if place.parent is not None:
            self.children[id(place.parent)][place.name] = place
        if not place.findable:
            return
        if place.code:
            self.by_code[place.code].append(place)
        names = place.names()
        for start in range(len(names)):
            self.by_names[names[start:]].append(place)

    def add(self, parent: Place, name: str, kind: str, code: str, **fields) -> Place:
        place = Place(None, "", name, kind, code, parent, fields=fields)
        self._index(place)
        self.new_nodes.append(place)
        return place

    def set_code(self, place: Place, code: str, **fields) -> None:
        place.code, place.set_code = code, True
        place.fields.update(fields)
        self.by_code[code].append(place)
        self.coded.append(place)

    def find(self, text: str, kinds, expected: str, within: Place | None = None) -> Place:
        """The place a cell names (a code, or a path of names whose last parts are enough), of one of
        ``kinds``; ValidationError saying why not (none in the area, several, another kind)."""
        text = text.strip()
        found = list(self.by_code.get(text, ())) or list(self.by_names.get(norm_path(text), ()))
        if within is not None:
            found = [p for p in found if p.within(within)]
        right = [p for p in found if p.kind in kinds]
        if len(right) == 1:
            return right[0]
        if len(right) > 1:
            raise ValidationError(
                _("“%(text)s” names several places in your area; give more of its path, e.g. %(example)s.")
                % {"text": text, "example": right[0].label()})
        if found:
            raise ValidationError(_("“%(text)s” is a %(kind)s, not a %(expected)s.")
                                  % {"text": text, "kind": NodeKind(found[0].kind).label, "expected": expected})
        raise ValidationError(_("“%(text)s” names no place in your area.") % {"text": text})


def _number(text: str, low: float, high: float, message: str, errors: list, integer: bool = False):
    if not text:
        return None
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high or value != value:
        errors.append(message)
        return None
    return value


class Parser:
    """Reads the rows of each sheet in turn into the tree's plan; ``rows`` keeps every row read, its errors."""

    def __init__(self, user, tree: PlaceTree):
        self.user, self.tree = user, tree
        self.rows: list[Row] = []
        self.codes_in_file: dict[str, Row] = {}
        self.outside_codes: set[str] = set()
        self._made_by: dict[int, int] = {}  # a new place -> the row that makes it
        self.skipped: list[str] = []  # sheets whose example row was left as it is

    def note_outside_codes(self, codes) -> None:
        """Codes the rows give that places outside the import's node already hold (read in one query)."""
        codes = {c for c in codes if c}
        if codes:
            self.outside_codes = set(
                OrgNode.objects.filter(code__in=codes).exclude(under(self.tree.root.path, "path"))
                .values_list("code", flat=True))

    def read(self, sheet: PlaceSheet, number: int, cells: list[str], positions: dict[str, int]) -> Row | None:
        """One data row; None for the template's example left as it is."""
        values = {c.key: (cells[positions[c.header]].strip() if positions.get(c.header) is not None
                          and positions[c.header] < len(cells) else "") for c in sheet.columns}
        if number == 2 and [values[c.key] for c in sheet.columns] == sheet.example:
            self.skipped.append(sheet.title)  # the template's example, left as it is
            return None
        row = Row(sheet, number, cells)
        self.rows.append(row)
        missing = [c.header for c in sheet.columns if c.required and not values[c.key]]
        if missing:
            row.errors.append(_("Required cells are empty: %(columns)s.") % {"columns": "、".join(missing)})
            return row
        getattr(self, f"_{sheet.kind}")(row, values)
        return row

    # --- helpers ------------------------------------------------------------------------------------

    def _find(self, row: Row, text: str, kinds, expected: str, within: Place | None = None) -> Place | None:
        try:
            return self.tree.find(text, kinds, expected, within)
        except ValidationError as exc:
            row.errors.append(exc.messages[0])
            return None

    def _may(self, row: Row, perm: str, place: Place) -> bool:
        if self.user.can(perm, place.anchor):
            return True
        row.errors.append(_("You may not add places under %(place)s.") % {"place": place.label()})
        return False

    def _name(self, row: Row, name: str, limit: int) -> None:
        if len(name) > limit:
            row.errors.append(_("The name is longer than %(limit)s characters.") % {"limit": limit})

    def _code(self, row: Row, code: str, parent: Place, digits: int | None) -> None:
        """A node's code: its length, its parent's code at its start, used once in the file and by no other
        place (the same place, already registered, keeps it)."""
        if digits and not (code.isdigit() and len(code) == digits):
            row.errors.append(_("The code must have %(digits)s digits.") % {"digits": digits})
        elif len(code) > 32 or not re.fullmatch(r"[0-9A-Za-z-]+", code):
            row.errors.append(_("The code may have at most 32 letters, digits and hyphens."))
        if parent.code and not code.startswith(parent.code):
            row.errors.append(_("The code %(code)s does not start with the code of %(parent)s (%(parent_code)s).")
                              % {"code": code, "parent": parent.name, "parent_code": parent.code})
        first = self.codes_in_file.setdefault(code, row)
        if first is not row:
            row.errors.append(_("The code %(code)s is also in row %(row)s of the %(sheet)s sheet.")
                              % {"code": code, "row": first.number, "sheet": first.sheet.title})
        if code in self.outside_codes:
            row.errors.append(_("The code %(code)s is already used by another place.") % {"code": code})

    def _coords(self, row: Row, values: dict) -> dict:
        lng = _number(values.get("lng", ""), 73, 136, _("The longitude must be a number between 73 and 136."), row.errors)
        lat = _number(values.get("lat", ""), 3, 54, _("The latitude must be a number between 3 and 54."), row.errors)
        return {"lng": lng, "lat": lat}

    def _node(self, row: Row, parent: Place, name: str, kind: str, code: str, fields: dict) -> None:
        """A community or grid row: the same place registered (by name under the parent, or by code) is left
        as it is, or gets the row's code when it has none; another place with the code is an error."""
        same_code = [p for p in self.tree.by_code.get(code, ()) if not p.is_new] if code else []
        existing = self.tree.children[id(parent)].get(name)
        if existing is not None and existing.kind != kind:
            row.errors.append(_("%(place)s is already there as a %(kind)s.")
                              % {"place": existing.label(), "kind": NodeKind(existing.kind).label})
            return
        other = [p for p in same_code if p is not existing]
        if other:
            row.errors.append(_("The code %(code)s is already used by %(place)s.")
                              % {"code": code, "place": other[0].label()})
            return
        if existing is not None:
            if existing.is_new:
                row.errors.append(_("%(place)s is also in row %(row)s.")
                                  % {"place": existing.label(), "row": self._row_of(existing)})
            elif existing.code == code or not code:
                row.state, row.made = "same", existing
            elif not existing.code:
                row.state, row.made = "code", existing
                if row.ok:
                    self.tree.set_code(existing, code, **({"is_rural": fields["is_rural"]} if "is_rural" in fields else {}))
            else:
                row.errors.append(_("%(place)s is registered with the code %(code)s.")
                                  % {"place": existing.label(), "code": existing.code})
            return
        if row.ok:
            row.state = "new"
            row.made = self.tree.add(parent, name, kind, code, **fields)
            self._made_by[id(row.made)] = row.number

    def _row_of(self, place: Place) -> int:
        return self._made_by.get(id(place), 0)

    # --- one method per sheet ---------------------------------------------------------------------------

    def _community(self, row: Row, v: dict) -> None:
        parent = self._find(row, v["parent"], (NodeKind.SUBDISTRICT,), _("township or subdistrict"))
        self._name(row, v["name"], 100)
        rural = v["name"].endswith("村")
        if v["type"]:
            if v["type"] not in COMMUNITY_TYPES:
                row.errors.append(_("The type must be 社区 or 村."))
            else:
                rural = COMMUNITY_TYPES[v["type"]]
        fields = {"is_rural": rural, **self._coords(row, v)}
        if parent is None:
            return
        self._code(row, v["code"], parent, 12)
        if self._may(row, Perm.TREE_EDIT, parent):
            self._node(row, parent, v["name"], NodeKind.COMMUNITY, v["code"], fields)

    def _grid(self, row: Row, v: dict) -> None:
        parent = self._find(row, v["parent"], (NodeKind.COMMUNITY, NodeKind.GRID), _("community, village or grid"))
        self._name(row, v["name"], 100)
        fields = self._coords(row, v)
        if parent is None:
            return
        kind = NodeKind.GRID if parent.kind == NodeKind.COMMUNITY else NodeKind.MICRO_GRID
        if v["level"]:
            level = GRID_LEVELS.get(v["level"])
            if level is None:
                row.errors.append(_("The level must be 网格 or 微网格."))
            elif level != kind:
                row.errors.append(_("A grid stands under a community or village, a micro-grid under a grid; "
                                    "%(parent)s is a %(kind)s.")
                                  % {"parent": parent.label(), "kind": NodeKind(parent.kind).label})
        if v["code"]:
            self._code(row, v["code"], parent, None)
        if self._may(row, Perm.TREE_EDIT, parent):
            self._node(row, parent, v["name"], kind, v["code"], fields)

    def _community_of(self, row: Row, text: str) -> Place | None:
        return self._find(row, text, (NodeKind.COMMUNITY,), _("community or village"))

    def _compound(self, row: Row, v: dict) -> None:
        community = self._community_of(row, v["community"])
        self._name(row, v["name"], 100)
        kind = CompoundKind.COMMODITY
        if v["kind"]:
            kind = COMPOUND_KINDS_IN.get(v["kind"])
            if kind is None:
                row.errors.append(_("“%(value)s” is not a compound type; choose from the list.") % {"value": v["kind"]})
        if len(v["address"]) > 200:
            row.errors.append(_("The address is longer than 200 characters."))
        year = _number(v["built_year"], 1800, dt.date.today().year + 5,
                       _("The year built must be a year such as 1998."), row.errors, integer=True)
        fields = {"kind": kind, "address": v["address"], "built_year": year, **self._coords(row, v)}
        if community is None or not self._may(row, Perm.PLACES_EDIT, community):
            return
        self._spot(row, "compound", self.tree.compounds, community, v["name"], fields)

    def _spot(self, row: Row, kind: str, table: dict, parent, name: str, fields: dict, grid=None) -> None:
        key = (id(parent), name)
        existing = table.get(key)
        if existing is not None and existing.id is None:
            row.errors.append(_("“%(name)s” is also in row %(row)s.") % {"name": name, "row": existing.fields["_row"]})
        elif existing is not None:
            row.state, row.made = "same", existing
        elif row.ok:
            spot = Spot(None, name, fields={**fields, "_row": row.number}, parent=parent, grid=grid)
            table[key] = spot
            self.tree.new_spots[kind].append(spot)
            row.state, row.made = "new", spot

    def _compound_of(self, row: Row, community: Place, name: str) -> Spot | None:
        spot = self.tree.compounds.get((id(community), name))
        if spot is None:
            row.errors.append(_("There is no compound “%(name)s” in %(community)s.")
                              % {"name": name, "community": community.label()})
        return spot

    def _building(self, row: Row, v: dict) -> None:
        community = self._community_of(row, v["community"])
        self._name(row, v["name"], 50)
        floors = _number(v["floors"], 1, 200, _("The floors must be a whole number from 1 to 200."), row.errors,
                         integer=True)
        if community is None:
            return
        compound = self._compound_of(row, community, v["compound"])
        grid = self._find(row, v["grid"], (NodeKind.GRID, NodeKind.MICRO_GRID), _("grid or micro-grid"), within=community)
        if compound is None or grid is None or not self._may(row, Perm.PLACES_EDIT, grid):
            return
        self._spot(row, "building", self.tree.buildings, compound, v["name"], {"floors": floors}, grid=grid)

    def _entrance(self, row: Row, v: dict) -> None:
        community = self._community_of(row, v["community"])
        self._name(row, v["name"], 30)
        if community is None:
            return
        compound = self._compound_of(row, community, v["compound"])
        if compound is None:
            return
        building = self.tree.buildings.get((id(compound), v["building"]))
        if building is None:
            row.errors.append(_("Compound “%(compound)s” has no building “%(name)s”.")
                              % {"compound": v["compound"], "name": v["building"]})
            return
        if not self._may(row, Perm.PLACES_EDIT, building.grid or community):
            return
        self._spot(row, "entrance", self.tree.entrances, building, v["name"], {})
