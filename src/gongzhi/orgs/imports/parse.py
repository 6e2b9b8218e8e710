"""Each row checked on its own, without the registry: fields, enumerations, the grid and places in the
importer's scope; then the checks across rows of the file."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from gongzhi.orgs.permissions import Perm
from gongzhi.core.pii import PIIError, blind_index, encrypt, mask_phone, normalize_phone
from gongzhi.core.scoping import under

from ..actions import name_initials, resident_values
from ..models import Building, Compound, Entrance, NodeKind, OrgNode, Relation
from .columns import CARE_IN, HEADERS, LIST_SPLIT, RELATION_IN, RESIDENCY_IN, YES_IN

_PATH_SPLIT = re.compile(r"\s*[/／\\>＞]\s*")


@dataclass(frozen=True)
class GridRef:
    id: int
    path: str
    label: str
    grid_id: int  # the grid itself, or the parent grid of a micro-grid (a resident's ``grid``)
    community_path: str


def _norm_path(text: str) -> tuple[str, ...]:
    return tuple(p for p in _PATH_SPLIT.split(text.strip()) if p)


class Places:
    """Grids (and micro-grids) the importer may write under ``root``, and the compounds and buildings
    of their communities. Out-of-scope grids are simply absent, so they read as unknown."""

    def __init__(self, user, root: OrgNode):
        step = OrgNode.steplen
        above = [root.path[:i] for i in range(step, len(root.path), step)]
        nodes = list(
            OrgNode.objects.filter(Q(path__in=above) | under(root.path, "path"))
            .values("id", "path", "name", "kind", "code").order_by("path")
        )
        by_path = {n["path"]: n for n in nodes}
        self.by_code: dict[str, list[GridRef]] = defaultdict(list)
        self.by_names: dict[tuple[str, ...], list[GridRef]] = defaultdict(list)
        self.by_id: dict[int, GridRef] = {}
        for n in nodes:
            if n["kind"] not in (NodeKind.GRID, NodeKind.MICRO_GRID) or not n["path"].startswith(root.path):
                continue
            if user is not None and not user.can(Perm.REGISTRY_EDIT, n["path"]):
                continue
            chain = [by_path[n["path"][:i]] for i in range(step, len(n["path"]) + 1, step) if n["path"][:i] in by_path]
            community = next((a["path"] for a in chain if a["kind"] == NodeKind.COMMUNITY), "")
            grid = n if n["kind"] == NodeKind.GRID else by_path.get(n["path"][:-step], n)
            names = tuple(a["name"].strip() for a in chain)
            ref = GridRef(n["id"], n["path"], "/".join(names), grid["id"], community)
            self.by_id[ref.id] = ref
            if n["code"].strip():
                self.by_code[n["code"].strip()].append(ref)
            for start in range(len(names)):
                self.by_names[names[start:]].append(ref)
        communities = {ref.community_path for ref in self.by_id.values()}
        self.compounds = {
            (c["org_path"], c["name"]): c["id"]
            for c in Compound.objects.filter(org_path__in=communities).values("id", "org_path", "name")
        }
        self.buildings = {
            (b["compound_id"], b["name"]): b["id"]
            for b in Building.objects.filter(compound_id__in=set(self.compounds.values())).values("id", "compound_id", "name")
        }
        self.entrances = {
            (e["building_id"], e["name"]): e["id"]
            for e in Entrance.objects.filter(building_id__in=set(self.buildings.values())).values("id", "building_id", "name")
        }

    def grid(self, text: str) -> GridRef:
        """The grid a cell names; ValidationError when none (or several) in scope match."""
        found = self.by_code.get(text.strip()) or self.by_names.get(_norm_path(text)) or []
        if len(found) == 1:
            return found[0]
        if found:
            raise ValidationError(
                _("The grid “%(grid)s” is ambiguous in your area; give more of its path, e.g. %(example)s.")
                % {"grid": text, "example": found[0].label}
            )
        raise ValidationError(_("There is no grid “%(grid)s” in your area.") % {"grid": text})


@dataclass
class Row:
    number: int
    cells: list[str]
    errors: list[str] = field(default_factory=list)
    grid: GridRef | None = None
    address: str = ""
    place: tuple = ()  # (compound id, building id, entrance id or new name, room, which columns were given)
    record: int | None = None  # the 记录编号: the registered resident the row is about
    id_masked: str = ""  # the ID-number cell as exported (masked): keep the number on record
    values: dict = field(default_factory=dict)  # name and initials; ID number and phone values when given in full
    phone: str | None = None  # None: keep the phone on record
    phone_masked: str = ""  # the phone cell as exported (masked)
    relation: str = ""
    residency: str = ""
    ethnicity: str = ""
    party: bool | None = None
    care: frozenset | None = None  # None: column absent, keep the groups on record
    existing: dict | None = None  # the registered resident the row updates

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def id_hash(self) -> str:
        """The ID number's blind index when the row gives the number in full, else ''."""
        return self.values.get("id_number_hash", "")


def _cell(cells: list[str], positions: dict[str, int], key: str) -> str | None:
    """The trimmed text of column ``key``; None when the file has no such column."""
    index = positions.get(HEADERS[key])
    if index is None:
        return None
    return cells[index].strip() if index < len(cells) else ""


def phone_values(phone: str) -> dict:
    """Ciphertext, blind index and mask of a phone number typed in full ('' clears it)."""
    try:
        normal = normalize_phone(phone) if phone else ""
    except PIIError as exc:
        raise ValidationError(str(exc)) from None
    return {"phone_enc": encrypt(normal), "phone_hash": blind_index("phone", normal), "phone_masked": mask_phone(normal)}


def parse_row(number: int, cells: list[str], positions: dict[str, int], places: Places) -> Row:
    """Check one row on its own (no database): fields, enumerations, the grid and places in scope."""
    row = Row(number, cells)
    err = row.errors.append
    get = lambda key: _cell(cells, positions, key)  # noqa: E731

    grid_text = get("grid")
    if not grid_text:
        err(_("The grid (网格编码) is empty."))
    else:
        try:
            row.grid = places.grid(grid_text)
        except ValidationError as exc:
            err(exc.messages[0])

    row.address = get("address") or ""
    if not row.address:
        err(_("The address is empty."))
    elif len(row.address) > 200:
        err(_("The address is longer than 200 characters."))

    record = get("record")
    if record:
        if record.isdigit() and 0 < int(record) < 2**63:
            row.record = int(record)
        else:
            err(_("The 记录编号 “%(value)s” is not a record number from an export; leave it empty for a new person.")
                % {"value": record})

    name, id_number, phone = get("name") or "", get("id_number") or "", get("phone")
    if not name:
        err(_("The name is empty."))
    elif len(name) > 50:
        err(_("The name is longer than 50 characters."))
    row.phone_masked = phone if phone and "*" in phone else ""
    row.phone = None if phone is None or row.phone_masked else phone
    id_ok = False
    if not id_number:
        err(_("The ID number is empty."))
    elif "*" in id_number:
        row.id_masked = id_number
        id_ok = bool(record)
        if not record:
            err(_("The ID number is masked; give the full number, or keep the 记录编号 of the export in the row."))
    elif "E+" in id_number.upper():
        err(_("The ID number was stored as a number and Excel dropped its last digits; format the column as "
              "text and type it again."))
    else:
        id_ok = True
    if name and len(name) <= 50 and id_ok:
        try:
            if row.id_masked:
                row.values = {"name": name, "name_initials": name_initials(name)}
                if row.phone is not None:
                    row.values.update(phone_values(row.phone))
            else:
                row.values = resident_values(name=name, id_number=id_number, phone=row.phone or "")
        except ValidationError as exc:
            err(exc.messages[0])

    for key, table, attr in (("relation", RELATION_IN, "relation"), ("residency", RESIDENCY_IN, "residency")):
        text = get(key)
        if text:
            value = table.get(text) or table.get(text.lower())
            if value is None:
                err(_("“%(value)s” is not a valid %(column)s; choose from the list.")
                    % {"value": text, "column": HEADERS[key]})
            else:
                setattr(row, attr, str(value))
    ethnicity = get("ethnicity") or ""
    if len(ethnicity) > 20:
        err(_("The ethnicity is longer than 20 characters."))
    row.ethnicity = ethnicity
    party = get("party")
    if party:
        row.party = YES_IN.get(party.upper())
        if row.party is None:
            err(_("“%(value)s” is not a valid %(column)s; write 是 or 否.") % {"value": party, "column": HEADERS["party"]})
    care = get("care_groups")
    if care is not None:
        groups, unknown = set(), []
        for part in LIST_SPLIT.split(care):
            if part:
                group = CARE_IN.get(part)
                (groups.add(str(group)) if group else unknown.append(part))
        if unknown:
            err(_("Unknown care group: %(values)s.") % {"values": "、".join(unknown)})
        row.care = frozenset(groups)

    row.place = _parse_place(row, get, places)
    return row


def _parse_place(row: Row, get, places: Places) -> tuple:
    """(compound id, building id, entrance (id or name), room) from the 小区/楼栋/单元/房号 cells."""
    err = row.errors.append
    compound_name, building_name, entrance_name, room = get("compound"), get("building"), get("entrance"), get("room")
    if room is not None and len(room) > 30:
        err(_("The room is longer than 30 characters."))
    if entrance_name and len(entrance_name) > 30:
        err(_("The entrance is longer than 30 characters."))
    compound_id = building_id = entrance = None
    if compound_name and row.grid is not None:
        compound_id = places.compounds.get((row.grid.community_path, compound_name))
        if compound_id is None:
            err(_("There is no compound “%(name)s” in this grid's community.") % {"name": compound_name})
    if building_name:
        if not compound_name:
            err(_("A building (楼栋) needs its compound (小区)."))
        elif compound_id is not None:
            building_id = places.buildings.get((compound_id, building_name))
            if building_id is None:
                err(_("Compound “%(compound)s” has no building “%(name)s”.")
                    % {"compound": compound_name, "name": building_name})
    if entrance_name:
        if not building_name:
            err(_("An entrance (单元) needs its building (楼栋)."))
        elif building_id is not None:
            entrance = places.entrances.get((building_id, entrance_name), entrance_name)
    given = tuple(x is not None for x in (compound_name, building_name, entrance_name, room))
    return (compound_id, building_id, entrance, room or "", given)


def _mark_repeats(rows: list[Row], key, message: str) -> None:
    """Every row whose ``key`` another row shares gets ``message`` naming the others."""
    by_key: dict = defaultdict(list)
    for row in rows:
        value = key(row)
        if value:
            by_key[value].append(row)
    for same in by_key.values():
        if len(same) > 1:
            for row in same:
                row.errors.append(message % {"rows": ", ".join(str(r.number) for r in same if r is not row)})


def check_rows(rows: list[Row]) -> None:
    """Checks across rows: the same person twice, one household given two ways, two heads."""
    _mark_repeats(rows, lambda r: r.id_hash, _("The same ID number is also in row %(rows)s."))
    _mark_repeats(rows, lambda r: r.record, _("The same 记录编号 is also in row %(rows)s."))
    for group in households(rows).values():
        first = group[0]
        for row in group[1:]:
            if row.grid != first.grid or row.place != first.place:
                row.errors.append(
                    _("Row %(row)s gives the same address with another grid, compound, building, entrance or room.")
                    % {"row": first.number}
                )
        heads = [r for r in group if r.ok and r.relation == Relation.HEAD]
        if len(heads) > 1:
            for row in heads:
                row.errors.append(_("A household has one head (户主); rows %(rows)s all say 户主.")
                                  % {"rows": ", ".join(str(r.number) for r in heads)})


def households(rows: list[Row]) -> dict[str, list[Row]]:
    """The valid rows by address (one household each), in file order."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.ok:
            groups[row.address].append(row)
    return groups
