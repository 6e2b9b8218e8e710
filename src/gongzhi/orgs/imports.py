"""Registry import from the Excel template: read, validate every row, plan, and apply in one transaction.

Rows are validated in Python against maps loaded once (grids in the importer's
scope, compounds, buildings); existing residents are matched by the ID-number
blind index and households by address, in batches; writes are bulk inserts and
updates with one audit row per created or changed record, all in one
transaction. Unchanged rows are not written and leave no audit row, so a
re-import of the same file changes nothing.
"""

from __future__ import annotations

import io
import logging
import operator
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from openpyxl.worksheet.datavalidation import DataValidation

from gongzhi.core.access import Role

from gongzhi.orgs.permissions import Perm
from gongzhi.core import excel
from gongzhi.core.audit import clean_changes
from gongzhi.core.models import AuditEvent, ImportJob
from gongzhi.core.scoping import under

from .actions import resident_values
from .models import (
    Building,
    CareGroup,
    CareTag,
    Compound,
    Entrance,
    Household,
    NodeKind,
    OrgNode,
    Relation,
    ResidencyType,
    Resident,
)

log = logging.getLogger(__name__)

SHEET = "居民"
HELP_SHEET = "说明"
LISTS_SHEET = "选项"
BATCH = 2000
DEFAULT_ETHNICITY = "汉族"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what users type in Excel: a data format, so literal Chinese
    required: bool
    help: str
    width: int = 14


# The one place the Excel header labels live: template, import, export and error report use it.
COLUMNS = [
    Column("grid", "网格编码", True, gettext_lazy(
        "The grid's or micro-grid's code, or its name path such as 富林镇/城东社区/第一网格. The last parts "
        "are enough when they name one grid in your area."), 30),
    Column("address", "地址", True, gettext_lazy(
        "The household's full address. Rows with the same address form one household."), 34),
    Column("compound", "小区", False, gettext_lazy(
        "Name of an existing compound of the grid's community. Leave empty when there is none."), 14),
    Column("building", "楼栋", False, gettext_lazy("Name of an existing building of that compound, e.g. 3栋."), 8),
    Column("entrance", "单元", False, gettext_lazy("Entrance of that building, e.g. 1单元; a new one is added."), 8),
    Column("room", "房号", False, gettext_lazy("Room number, e.g. 302."), 8),
    Column("name", "姓名", True, gettext_lazy("The resident's name."), 10),
    Column("id_number", "身份证号", True, gettext_lazy(
        "18-digit resident ID number (GB 11643), typed as text. Gender and birth date are taken from it. "
        "A person already registered (same ID number) is updated, not added twice."), 22),
    Column("phone", "联系电话", False, gettext_lazy(
        "11-digit mobile number or landline with area code. Empty clears it; a masked number keeps "
        "the one on record."), 15),
    Column("relation", "与户主关系", False, gettext_lazy(
        "One of the list; at most one 户主 per household. Empty: 其他 for a new person, unchanged "
        "for a registered one."), 11),
    Column("residency", "居住类型", False, gettext_lazy(
        "户籍, 流动 or 外出. Empty: 户籍 for a new person, unchanged for a registered one."), 10),
    Column("ethnicity", "民族", False, gettext_lazy(
        "e.g. 汉族, 彝族. Empty: 汉族 for a new person, unchanged for a registered one."), 8),
    Column("party", "是否党员", False, gettext_lazy(
        "是 or 否. Empty: 否 for a new person, unchanged for a registered one."), 9),
    Column("care_groups", "特殊群体", False, gettext_lazy(
        "Zero or more of the list, separated by 、 or a comma. The cell replaces the groups on record; "
        "empty means none."), 18),
]
HEADERS = {c.key: c.header for c in COLUMNS}
REQUIRED = [c.header for c in COLUMNS if c.required]
# Written by the export for reading; ignored by the import so an export can be uploaded again.
EXPORT_EXTRA = ["性别", "出生日期", "年龄"]
IGNORED_HEADERS = [*EXPORT_EXTRA, excel.ROW_HEADER, excel.REASON_HEADER]

# Enumerations as users type them (data values, the same whatever the page language).
RELATION_LABELS = {
    Relation.HEAD: "户主", Relation.SPOUSE: "配偶", Relation.CHILD: "子女", Relation.PARENT: "父母",
    Relation.GRANDCHILD: "孙子女", Relation.GRANDPARENT: "祖父母", Relation.SIBLING: "兄弟姐妹",
    Relation.CHILD_IN_LAW: "儿媳/女婿", Relation.TENANT: "租户", Relation.OTHER: "其他",
}
RESIDENCY_LABELS = {ResidencyType.REGISTERED: "户籍", ResidencyType.FLOATING: "流动", ResidencyType.AWAY: "外出"}
CARE_LABELS = {
    CareGroup.ELDERLY_ALONE: "独居老人", CareGroup.ADVANCED_AGE: "高龄", CareGroup.SUBSISTENCE: "低保",
    CareGroup.DISABLED: "残疾人", CareGroup.LEFT_BEHIND_CHILD: "留守儿童", CareGroup.HARDSHIP: "困难家庭",
    CareGroup.VETERAN: "退役军人",
}
GENDER_LABELS = {"M": "男", "F": "女"}
YES, NO = "是", "否"

_RELATION_IN = {**{v: k for k, v in RELATION_LABELS.items()}, **{str(k): k for k in RELATION_LABELS},
                "本人": Relation.HEAD, "夫": Relation.SPOUSE, "妻": Relation.SPOUSE, "丈夫": Relation.SPOUSE,
                "妻子": Relation.SPOUSE, "子": Relation.CHILD, "女": Relation.CHILD, "儿子": Relation.CHILD,
                "女儿": Relation.CHILD, "父亲": Relation.PARENT, "母亲": Relation.PARENT, "孙子": Relation.GRANDCHILD,
                "孙女": Relation.GRANDCHILD, "外孙": Relation.GRANDCHILD, "外孙女": Relation.GRANDCHILD,
                "祖父": Relation.GRANDPARENT, "祖母": Relation.GRANDPARENT, "兄弟": Relation.SIBLING,
                "姐妹": Relation.SIBLING, "儿媳": Relation.CHILD_IN_LAW, "女婿": Relation.CHILD_IN_LAW,
                "租客": Relation.TENANT}
_RESIDENCY_IN = {**{v: k for k, v in RESIDENCY_LABELS.items()}, **{str(k): k for k in RESIDENCY_LABELS}}
_CARE_IN = {**{v: k for k, v in CARE_LABELS.items()}, **{str(k): k for k in CARE_LABELS}}
_YES_IN = {YES: True, "Y": True, "YES": True, "TRUE": True, "1": True, "√": True,
           NO: False, "N": False, "NO": False, "FALSE": False, "0": False}
_LIST_SPLIT = re.compile(r"[、,，;；\s]+")
_PATH_SPLIT = re.compile(r"\s*[/／\\>＞]\s*")


# --- the template -------------------------------------------------------------------------------


def template_bytes() -> bytes:
    """The import template: the 居民 sheet with drop-down lists, a 说明 sheet, a hidden 选项 sheet."""
    book = excel.workbook()
    ws = book.active
    ws.title = SHEET
    ws.append([c.header for c in COLUMNS])
    excel.style_header(ws, [c.width for c in COLUMNS])
    letters = {c.key: ws.cell(row=1, column=i).column_letter for i, c in enumerate(COLUMNS, start=1)}
    # Text format, so Excel keeps all 18 digits of an ID number and the leading 0 of a landline.
    for key in ("id_number", "phone", "room", "grid"):
        ws.column_dimensions[letters[key]].number_format = "@"

    lists = book.create_sheet(LISTS_SHEET)
    choices = {
        "relation": list(RELATION_LABELS.values()),
        "residency": list(RESIDENCY_LABELS.values()),
        "care_groups": list(CARE_LABELS.values()),
        "party": [YES, NO],
    }
    for col, (key, values) in enumerate(choices.items(), start=1):
        lists.cell(row=1, column=col, value=HEADERS[key])
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=col, value=value)
        letter = lists.cell(row=1, column=col).column_letter
        dv = DataValidation(type="list", formula1=f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
                            allow_blank=True)
        if key != "care_groups":  # several groups go in one cell, which a strict list would refuse
            dv.showErrorMessage, dv.error = True, _("Choose a value from the list.")
        ws.add_data_validation(dv)
        dv.add(f"{letters[key]}2:{letters[key]}20000")
    lists.sheet_state = "hidden"

    help_ws = book.create_sheet(HELP_SHEET)
    help_ws.append([_("Column"), _("Required"), _("What to enter")])
    for c in COLUMNS:
        help_ws.append([c.header, YES if c.required else NO, str(c.help)])
    help_ws.append([])
    for line in (
        _("One row per resident. Rows with the same address form one household, in the grid of the first column."),
        _("A person already registered (same ID number) is updated; unchanged rows are left alone."),
        _("Columns left out of the file are not changed. The columns 性别, 出生日期, 年龄, 行号 and 错误原因 "
          "of an export or an error report are ignored, so those files can be uploaded again."),
        _("Relation values: %(values)s.") % {"values": "、".join(RELATION_LABELS.values())},
        _("Care groups: %(values)s.") % {"values": "、".join(CARE_LABELS.values())},
    ):
        help_ws.append(["", "", line])
    excel.style_header(help_ws, [14, 8, 100])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- grids, compounds, buildings the rows may name -----------------------------------------------


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


# --- rows ------------------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    cells: list[str]
    errors: list[str] = field(default_factory=list)
    grid: GridRef | None = None
    address: str = ""
    place: tuple = ()  # (compound id, building id, entrance id or new name, room, which columns were given)
    values: dict = field(default_factory=dict)  # resident_values(): name, hashes, ciphertexts, masks
    phone: str | None = None  # None: keep the phone on record
    phone_masked: bool = False  # the cell held a masked number (from an export)
    relation: str = ""
    residency: str = ""
    ethnicity: str = ""
    party: bool | None = None
    care: frozenset | None = None  # None: column absent, keep the groups on record
    existing: dict | None = None  # the registered resident with the same ID number

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(cells: list[str], positions: dict[str, int], key: str) -> str | None:
    """The trimmed text of column ``key``; None when the file has no such column."""
    index = positions.get(HEADERS[key])
    if index is None:
        return None
    return cells[index].strip() if index < len(cells) else ""


def _parse_row(number: int, cells: list[str], positions: dict[str, int], places: Places) -> Row:
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

    name, id_number, phone = get("name") or "", get("id_number") or "", get("phone")
    if not name:
        err(_("The name is empty."))
    elif len(name) > 50:
        err(_("The name is longer than 50 characters."))
    if not id_number:
        err(_("The ID number is empty."))
    elif "*" in id_number:
        err(_("The ID number is masked; only a file with full ID numbers can be imported."))
    elif "E+" in id_number.upper():
        err(_("The ID number was stored as a number and Excel dropped its last digits; format the column as "
              "text and type it again."))
    elif name and len(name) <= 50:
        row.phone_masked = phone is not None and "*" in phone
        row.phone = None if phone is None or row.phone_masked else phone
        try:
            row.values = resident_values(name=name, id_number=id_number, phone=row.phone or "")
        except ValidationError as exc:
            err(exc.messages[0])

    for key, table, attr in (("relation", _RELATION_IN, "relation"), ("residency", _RESIDENCY_IN, "residency")):
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
        row.party = _YES_IN.get(party.upper())
        if row.party is None:
            err(_("“%(value)s” is not a valid %(column)s; write 是 or 否.") % {"value": party, "column": HEADERS["party"]})
    care = get("care_groups")
    if care is not None:
        groups, unknown = set(), []
        for part in _LIST_SPLIT.split(care):
            if part:
                group = _CARE_IN.get(part)
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


def _check_file(rows: list[Row]) -> None:
    """Checks across rows: the same person twice, one household given two ways, two heads."""
    by_hash: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.values:
            by_hash[row.values["id_number_hash"]].append(row)
    for same in by_hash.values():
        if len(same) > 1:
            for row in same:
                others = ", ".join(str(r.number) for r in same if r is not row)
                row.errors.append(_("The same ID number is also in row %(rows)s.") % {"rows": others})
    for group in _households(rows).values():
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


def _households(rows: list[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.ok:
            groups[row.address].append(row)
    return groups


# --- the plan and the writes ------------------------------------------------------------------------

_RESIDENT_FIELDS = ("id", "id_number_hash", "household_id", "org_path", "name", "relation", "residency", "ethnicity",
                    "is_party_member", "phone_hash", "phone_masked")
_HOUSEHOLD_FIELDS = ("id", "address", "grid_id", "micro_grid_id", "org_path", "compound_id", "building_id", "entrance_id",
                     "room", "head_id")


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    households_created: int = 0
    households_updated: int = 0
    entrances_created: int = 0


def _chunks(items: list, size: int = BATCH):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _lock_registry() -> None:
    """One import writes at a time, so two uploads cannot both add the same person.
    SQLite already serialises writers (transaction_mode IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [74_1001])


def _existing(rows: list[Row]) -> tuple[dict, dict, dict]:
    """Registered residents (by ID hash, with care groups) and households (by address) named by the rows."""
    hashes = list({r.values["id_number_hash"] for r in rows if r.ok})
    residents: dict[str, dict] = {}
    for chunk in _chunks(hashes):
        for values in Resident.objects.filter(id_number_hash__in=chunk).values(*_RESIDENT_FIELDS):
            residents[values["id_number_hash"]] = values
    tags: dict[int, set] = defaultdict(set)
    ids = [r["id"] for r in residents.values()]
    for chunk in _chunks(ids):
        for rid, group in CareTag.objects.filter(resident_id__in=chunk).values_list("resident_id", "group"):
            tags[rid].add(group)
    addresses = list({r.address for r in rows if r.ok})
    households: dict[str, dict] = {}
    for chunk in _chunks(addresses):
        for values in Household.objects.filter(address__in=chunk).values(*_HOUSEHOLD_FIELDS):
            households[values["address"]] = values
    return residents, tags, households


def _mark_group(group: list[Row], message: str) -> None:
    for row in group:
        row.errors.append(message)


def _match(job: ImportJob, rows: list[Row], scope_paths: list[str] | None) -> tuple[dict, dict, dict]:
    """Match rows with the registry and report conflicts on the rows; returns what the writes need."""
    residents, tags, households = _existing(rows)

    def in_scope(path: str) -> bool:
        return path.startswith(job.org_path) and (scope_paths is None or any(path.startswith(p) for p in scope_paths))

    head_ids = [h["head_id"] for h in households.values() if h["head_id"]]
    head_names = {}
    for chunk in _chunks(head_ids):
        head_names.update(Resident.objects.filter(pk__in=chunk).values_list("id", "name"))
    for address, group in _households(rows).items():
        house = households.get(address)
        if house is not None and not in_scope(house["org_path"]):
            _mark_group(group, _("A household with this address already exists."))
            continue
        # Naming the grid of a household that sits in one of its micro-grids is fine; another grid is a move.
        if house is not None and not house["org_path"].startswith(group[0].grid.path):
            _mark_group(group, _("This address is registered in another grid; move the household in the registry first."))
            continue
        for row in group:
            found = residents.get(row.values["id_number_hash"])
            if found is None:
                if row.phone_masked:
                    row.errors.append(_("The phone number is masked; give the full number or leave it empty."))
            elif not in_scope(found["org_path"]):
                row.errors.append(_("A resident with this ID number is already registered."))
            elif house is None or found["household_id"] != house["id"]:
                row.errors.append(_("This person is registered at another address; move them in the registry first."))
            else:
                row.existing = found
        if house is not None and house["head_id"]:
            # A new 户主 needs the current head listed in the file with another relation.
            heads = [r for r in group if r.ok and r.relation == Relation.HEAD]
            stepping_down = {r.existing["id"] for r in group
                             if r.ok and r.existing and r.relation and r.relation != Relation.HEAD}
            same = heads and heads[0].existing and heads[0].existing["id"] == house["head_id"]
            if heads and not same and house["head_id"] not in stepping_down:
                heads[0].errors.append(
                    _("The household already has a head (%(name)s); list them in the file with another relation.")
                    % {"name": head_names.get(house["head_id"], "")}
                )
    return tags, households, head_names


class _Writer:
    """The writes of one import, collected and then made in bulk; one audit row per created or changed record."""

    def __init__(self, job: ImportJob, user, places: Places, progress):
        self.job, self.places, self.progress = job, places, progress
        self.now = timezone.now()
        self.actor = user if user is not None and user.is_authenticated else None
        self.actor_name = (str(user) if self.actor else "system")[:150]
        self.audit: list[AuditEvent] = []
        self.out = Outcome()
        self.lap = lambda label: None

    def event(self, action: str, obj_type: str, obj_id, label: str, path: str, changes: dict) -> None:
        self.audit.append(AuditEvent(
            actor=self.actor, actor_name=self.actor_name, action=action, object_type=obj_type, object_id=str(obj_id),
            object_repr=str(label)[:200], org_path=path, changes=clean_changes({**changes, "import_job": self.job.pk}),
        ))

    def write(self, rows: list[Row], tags: dict, households: dict, head_names: dict) -> Outcome:
        good = [r for r in rows if r.ok]
        groups = _households(good)
        entrances = self._entrances(good)
        houses = self._households(groups, households, entrances)
        self.lap("households")
        person_of = self._residents(good, houses, tags)
        self.lap("residents")
        self._heads(groups, houses, households, person_of, head_names)
        self.lap("heads")
        if not self.audit:
            return self.out  # nothing changed: nothing written, not even the summary row
        self.audit.append(AuditEvent(
            actor=self.actor, actor_name=self.actor_name, action="registry.import", object_type="core.importjob",
            object_id=str(self.job.pk), object_repr=(self.job.original_name or str(self.job.pk))[:200],
            org_path=self.job.org_path,
            changes={"rows": len(rows), "errors": sum(1 for r in rows if not r.ok), "mode": self.job.mode,
                     **vars(self.out)},
        ))
        _insert(AuditEvent, self.audit)
        self.lap("audit")
        return self.out

    def _entrances(self, good: list[Row]) -> dict[tuple, Entrance]:
        """Entrances named but not registered yet are added to their building."""
        new: dict[tuple, Entrance] = {}
        for row in good:
            building_id, entrance = row.place[1], row.place[2]
            if isinstance(entrance, str):
                new.setdefault((building_id, entrance), Entrance(building_id=building_id, name=entrance))
        Entrance.objects.bulk_create(list(new.values()), batch_size=BATCH)
        self.out.entrances_created = len(new)
        return new

    def _households(self, groups: dict, households: dict, entrances: dict) -> dict[str, Household]:
        houses: dict[str, Household] = {}
        new = []
        for address, group in groups.items():
            compound_id, building_id, entrance, room, given = group[0].place
            if isinstance(entrance, str):
                entrance = entrances[(building_id, entrance)].pk
            place = {"compound_id": compound_id, "building_id": building_id, "entrance_id": entrance, "room": room}
            old = households.get(address)
            if old is None:
                ref = group[0].grid
                house = Household(grid_id=ref.grid_id, micro_grid_id=ref.id if ref.id != ref.grid_id else None,
                                  org_path=ref.path, address=address, **place)
                new.append(house)
                house._changes = {}
            else:
                house = Household(**{k: old[k] for k in _HOUSEHOLD_FIELDS})
                house._changes = {}
                # Only the columns the file has count; an absent 小区 column leaves the compound alone.
                for (key, value), was_given in zip(place.items(), given):
                    if was_given and old[key] != value:
                        house._changes[key.removesuffix("_id")] = [old[key], value]
                        setattr(house, key, value)
            houses[address] = house
        _insert(Household, new)
        self.out.households_created = len(new)
        return houses

    def _residents(self, good: list[Row], houses: dict[str, Household], tags: dict) -> dict[int, int]:
        """Create new residents, update changed ones; returns row number -> resident id."""
        new: list[Resident] = []
        changed: dict[tuple, list[Resident]] = defaultdict(list)
        tag_add: list[CareTag] = []
        tag_remove: dict[str, list[int]] = defaultdict(list)
        person_of: dict[int, int] = {}
        new_rows: list[Row] = []
        for row in good:
            v, house = row.values, houses[row.address]
            if row.existing is None:
                new.append(Resident(
                    household_id=house.pk, org_path=house.org_path, grid_id=row.grid.grid_id,
                    relation=row.relation or Relation.OTHER, residency=row.residency or ResidencyType.REGISTERED,
                    ethnicity=row.ethnicity or DEFAULT_ETHNICITY, is_party_member=bool(row.party),
                    **{k: v[k] for k in _NEW_RESIDENT_VALUES},
                ))
                new_rows.append(row)
                continue
            old = row.existing
            person_of[row.number] = old["id"]
            changes, sets = {}, {}
            wanted = {"name": v["name"], "relation": row.relation, "residency": row.residency,
                      "ethnicity": row.ethnicity, "is_party_member": row.party}
            for key, value in wanted.items():
                # An empty optional cell keeps the value on record.
                if value not in ("", None) and old[key] != value:
                    changes[key], sets[key] = [old[key], value], value
            if "name" in sets:
                sets["name_initials"] = v["name_initials"]
            if row.phone is not None and v["phone_hash"] != old["phone_hash"]:
                changes["phone"] = [old["phone_masked"], v["phone_masked"]]
                sets.update({k: v[k] for k in ("phone_enc", "phone_hash", "phone_masked")})
            before = tags.get(old["id"], set())
            if row.care is not None and row.care != before:
                changes["care_groups"] = [sorted(before), sorted(row.care)]
                tag_add += [CareTag(resident_id=old["id"], group=g, org_path=old["org_path"]) for g in sorted(row.care - before)]
                for group in before - row.care:
                    tag_remove[group].append(old["id"])
            if not changes:
                self.out.unchanged += 1
                continue
            changed[tuple(sorted(sets))].append(Resident(pk=old["id"], updated_at=self.now, **sets))
            self.event("resident.update", "orgs.resident", old["id"], v["name"], old["org_path"], changes)
        self.out.updated = sum(len(people) for people in changed.values())

        done = self.out.unchanged
        for keys, people in changed.items():
            for chunk in _chunks(people, 1000):
                _bulk_set(Resident, chunk, keys, stamp=self.now)
                done += len(chunk)
                self.progress(rows_written=done)
        for people, chunk_rows in zip(_chunks(new), _chunks(new_rows)):
            _insert(Resident, people)
            for person, row in zip(people, chunk_rows):
                person_of[row.number] = person.pk
                tag_add += [CareTag(resident_id=person.pk, group=g, org_path=person.org_path) for g in sorted(row.care or ())]
                self.event("resident.create", "orgs.resident", person.pk, person.name, person.org_path, {
                    "name": person.name, "id_number": person.id_number_masked, "phone": person.phone_masked,
                    "care_groups": sorted(row.care or ()), "household": row.address,
                })
            done += len(people)
            self.progress(rows_written=done)
        self.out.created = len(new)
        for group, ids in tag_remove.items():
            for chunk in _chunks(ids):
                CareTag.objects.filter(resident_id__in=chunk, group=group).delete()
        _insert(CareTag, tag_add)
        return person_of

    def _heads(self, groups: dict, houses: dict, households: dict, person_of: dict, head_names: dict) -> None:
        """The 户主 row's person heads the household; a current head listed with another relation steps down."""
        names = {person_of[r.number]: r.values["name"] for group in groups.values() for r in group}
        changed, new_heads = [], []
        for address, group in groups.items():
            house = houses[address]
            current = house.head_id
            head_row = next((r for r in group if r.relation == Relation.HEAD), None)
            if head_row is not None:
                head = person_of[head_row.number]
            elif any(r.existing and r.existing["id"] == current and r.relation for r in group):
                head = None
            else:
                head = current
            old = households.get(address)
            if head != current:
                house.head_id = head
                if old is not None:
                    house._changes["head"] = [head_names.get(current, ""), names.get(head, "")]
            if old is None:
                self.event("household.create", "orgs.household", house.pk, address, house.org_path, {
                    "address": address, "grid": self.places.by_id[house.micro_grid_id or house.grid_id].label, "head": names.get(head, ""),
                })
                if head:
                    new_heads.append(house)
            elif house._changes:
                changed.append(house)
                self.event("household.update", "orgs.household", house.pk, address, house.org_path, house._changes)
                self.out.households_updated += 1
        _bulk_set(Household, new_heads, ["head_id"])
        _bulk_set(Household, changed, ["compound_id", "building_id", "entrance_id", "room", "head_id"], stamp=self.now)


def _insert(model, objs: list) -> None:
    """Insert many rows and set their primary keys.

    On PostgreSQL the rows go in with COPY, their ids drawn from the table's sequence first: several
    times faster than INSERT for a big import. Elsewhere bulk_create. Timestamps (auto_now) are filled
    as bulk_create would; no signals are sent either way.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=BATCH)
        return
    conn = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the ``connection`` proxy costs a lookup per use
    meta, qn = model._meta, conn.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    getters = [_copy_getter(f, conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, len(objs)])
        ids = [row[0] for row in cursor.fetchall()]
        columns = ", ".join(qn(f.column) for f in [meta.pk, *fields])
        with cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj, pk in zip(objs, ids):
                obj.pk = pk
                copy.write_row([pk, *(get(obj) for get in getters)])
                obj._state.adding, obj._state.db = False, conn.alias


def _copy_getter(field, conn):
    """A fast obj -> database value for COPY: plain attributes for the simple types, Django's
    preparation for JSON, one timestamp for auto_now fields (set on the object too)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        now = timezone.now()

        def stamp(obj):
            setattr(obj, field.attname, now)
            return now
        return stamp
    if isinstance(field, models.JSONField):
        return lambda obj: field.get_db_prep_save(getattr(obj, field.attname), conn)
    attr = operator.attrgetter(field.attname)
    if isinstance(field, (models.CharField, models.TextField)):
        # str() turns a TextChoices member into its value.
        return lambda obj: v if (v := attr(obj)) is None or type(v) is str else str(v)
    return attr


def _bulk_set(model, objs: list, fields, stamp=None) -> None:
    """Write ``fields`` of many rows with one ``UPDATE ... FROM (VALUES ...)`` per thousand rows.

    Django's bulk_update builds a CASE per field and row, which costs seconds of Python for a few
    thousand rows; both databases (SQLite 3.33+) take the VALUES form. ``stamp`` sets ``updated_at``.
    """
    if not objs:
        return
    meta, qn = model._meta, connection.ops.quote_name
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    columns = [meta.get_field(f) for f in fields]
    postgres = connection.vendor == "postgresql"
    names = ["id", *(c.column for c in columns)] if postgres else [f"column{i}" for i in range(1, len(columns) + 2)]
    sets = [f"{qn(c.column)} = v.{qn(n)}" for c, n in zip(columns, names[1:])]
    extra = []
    if stamp is not None:
        sets.append(f"{qn('updated_at')} = %s")
        extra.append(meta.get_field("updated_at").get_db_prep_save(stamp, connection))
    width = len(columns) + 1
    for chunk in _chunks(objs, 1000):
        params = []
        for obj in chunk:
            params.append(obj.pk)
            params += [c.get_db_prep_save(getattr(obj, c.attname), connection) for c in columns]
        plain = "(" + ", ".join(["%s"] * width) + ")"
        # PostgreSQL types VALUES from its first row: cast that one to the columns' types.
        first = "(" + ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in [meta.pk, *columns]) + ")" if postgres else plain
        values = ", ".join([first] + [plain] * (len(chunk) - 1))
        alias = "v(" + ", ".join(qn(n) for n in names) + ")" if postgres else "v"
        sql = f"UPDATE {table} SET {', '.join(sets)} FROM (VALUES {values}) AS {alias} WHERE {table}.{pk} = v.{qn(names[0])}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*extra, *params])


_NEW_RESIDENT_VALUES = ("name", "name_initials", "gender", "birth_date", "id_number_enc", "id_number_hash",
                        "id_number_masked", "phone_enc", "phone_hash", "phone_masked")


# --- jobs: start, run, read --------------------------------------------------------------------------


def import_start(*, by, node: OrgNode, upload, mode: str, language: str = "") -> ImportJob:
    """Store the upload as a job limited to ``node``; run it now when small, else on the task worker.

    Both ways run ``run_import``; a big file is enqueued once the job row is committed.
    """
    if not by.can(Perm.REGISTRY_EDIT, node.path):
        raise PermissionDenied(_("You may not change records outside your area."))
    if mode not in ImportJob.Mode.values:
        raise ValidationError(_("Unknown import mode."))
    with transaction.atomic():
        job = ImportJob(
            created_by=by, node=node, org_path=node.path, mode=mode, original_name=(getattr(upload, "name", "") or "")[:200],
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
        )
        job.file.save("upload.xlsx", upload, save=False)
        job.rows_total = max(0, excel.estimate_rows(job.file.path) - 1)  # less the header
        job.save()
        background = job.rows_total >= settings.IMPORT_BACKGROUND_ROWS
        if background:
            from .tasks import import_registry

            transaction.on_commit(lambda: import_registry.enqueue(job.pk))
    if not background:
        job = run_import(job.pk)
    return job


def run_import(job_id: int) -> ImportJob:
    """Run a queued job to its end (the task worker and small uploads both come here); idempotent."""
    job = ImportJob.objects.select_related("created_by", "node").get(pk=job_id)
    if job.is_finished:
        return job
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            _run(job)
        except Exception:
            log.exception("import job %s failed", job.pk)
            _finish(job, ImportJob.Status.FAILED, _("The import stopped on an unexpected error; nothing was written."))
    return job


def _progress(job: ImportJob, **fields) -> None:
    """Progress of the validation, visible at once (it runs outside the import's transaction)."""
    for key, value in fields.items():
        setattr(job, key, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


class _SideProgress:
    """Write progress from inside the import's transaction through a second connection, so the page
    sees it. PostgreSQL only: SQLite has a single writer, there the figures appear at the end."""

    def __init__(self, job: ImportJob):
        self.job, self.conn = job, None

    def __call__(self, **fields) -> None:
        for key, value in fields.items():
            setattr(self.job, key, value)
        if connection.vendor != "postgresql":
            return
        from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

        try:
            if self.conn is None:
                self.conn = connections.create_connection(DEFAULT_DB_ALIAS)
                with self.conn.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '500ms'")
            sets = ", ".join(f"{key} = %s" for key in fields)
            with self.conn.cursor() as cursor:
                cursor.execute(f"UPDATE {ImportJob._meta.db_table} SET {sets} WHERE id = %s", [*fields.values(), self.job.pk])
        except DatabaseError:  # progress is a courtesy; never let it fail the import
            log.warning("import job %s: progress not written", self.job.pk, exc_info=True)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class _Laps:
    """Seconds spent per phase of a job, logged at INFO so slow imports can be diagnosed."""

    def __init__(self):
        self.last, self.laps = time.perf_counter(), {}

    def __call__(self, label: str) -> None:
        now = time.perf_counter()
        self.laps[label] = round(now - self.last, 2)
        self.last = now

    def __str__(self):
        return ", ".join(f"{k} {v}s" for k, v in self.laps.items())


def _run(job: ImportJob) -> None:
    _progress(job, status=ImportJob.Status.RUNNING, started_at=timezone.now())
    user = job.created_by
    if user is None or not user.is_active or job.node is None or not user.can(Perm.REGISTRY_EDIT, job.org_path):
        _finish(job, ImportJob.Status.FAILED, _("You may not change records outside your area."))
        return
    lap = _Laps()
    try:
        sheet = excel.read_sheet(_source(job), SHEET)
        positions = excel.header_columns(sheet.header, known=[*HEADERS.values(), *IGNORED_HEADERS], required=REQUIRED)
    except excel.SheetError as exc:
        _finish(job, ImportJob.Status.FAILED, f"{exc} {_('Nothing was written.')}")
        return
    if not sheet.rows:
        _finish(job, ImportJob.Status.FAILED, _("The file has no data rows. Nothing was written."))
        return
    _progress(job, rows_total=len(sheet.rows), rows_validated=0, rows_written=0)
    lap("read")

    places = Places(user, job.node)
    rows = []
    for index, (number, cells) in enumerate(sheet.rows, start=1):
        rows.append(_parse_row(number, cells, positions, places))
        if index % 5000 == 0:
            _progress(job, rows_validated=index)
    _check_file(rows)
    _progress(job, rows_validated=len(rows))
    lap("validate")

    all_or_nothing = job.mode == ImportJob.Mode.ALL_OR_NOTHING
    status = ImportJob.Status.FAILED
    outcome = None
    if not (all_or_nothing and any(not r.ok for r in rows)):
        side = _SideProgress(job)
        try:
            with transaction.atomic():
                _lock_registry()
                tags, households, head_names = _match(job, rows, user.paths_with(Perm.REGISTRY_EDIT))
                lap("match")
                if any(r.ok for r in rows) and not (all_or_nothing and any(not r.ok for r in rows)):
                    writer = _Writer(job, user, places, side)
                    writer.lap = lap
                    outcome = writer.write(rows, tags, households, head_names)
                    status = ImportJob.Status.SUCCEEDED
                    # Totals and status commit with the writes: a job never reads as done when they are not.
                    _finish(job, status, "", rows=rows, header=sheet.header, outcome=outcome)
        finally:
            side.close()
    if outcome is None:
        _finish(job, status, "", rows=rows, header=sheet.header)
    lap("finish")
    log.info("import job %s (%s rows): %s", job.pk, len(rows), lap)


def _source(job: ImportJob):
    try:
        return job.file.path
    except NotImplementedError:  # a storage without local paths
        return io.BytesIO(job.file.read())


def _finish(job: ImportJob, status: str, message: str, rows: list[Row] | None = None, header=None,
            outcome: Outcome | None = None) -> None:
    """Totals, the error report and the closing message of a job."""
    failed = [r for r in rows or () if not r.ok]
    job.status, job.finished_at = status, timezone.now()
    job.errors = len(failed)
    if rows is not None:
        job.rows_total = job.rows_validated = len(rows)
    if outcome is not None:
        job.created, job.updated, job.unchanged = outcome.created, outcome.updated, outcome.unchanged
        job.households_created, job.households_updated = outcome.households_created, outcome.households_updated
        job.rows_written = outcome.created + outcome.updated + outcome.unchanged
    if failed:
        report = excel.error_report(header, ((r.number, r.cells, r.errors) for r in failed))
        job.error_report.save("errors.xlsx", ContentFile(report), save=False)
    if not message and outcome is not None:
        message = _("Imported %(rows)s rows: %(created)s new, %(updated)s changed, %(unchanged)s unchanged.") % {
            "rows": job.rows_written, "created": outcome.created, "updated": outcome.updated,
            "unchanged": outcome.unchanged}
        if failed:
            message += " " + ngettext(
                "%(errors)s row had errors and was skipped; see the error report.",
                "%(errors)s rows had errors and were skipped; see the error report.", len(failed)) % {"errors": len(failed)}
    elif not message and job.mode == ImportJob.Mode.VALID_ONLY:
        message = _("None of the %(rows)s rows can be imported, so nothing was written; see the error report.") % {
            "rows": len(rows or ())}
    elif not message:
        message = _("%(errors)s of %(rows)s rows have errors, so nothing was written. Correct them (see the error "
                    "report) and upload the file again, or choose “Import valid rows only”.") % {
            "errors": len(failed), "rows": len(rows or ())}
    job.message = message
    job.save()


def jobs(user):
    """Import jobs the user may see: their own, and under their county-administrator nodes."""
    if user is None or not user.is_authenticated:
        return ImportJob.objects.none()
    q = Q(created_by=user)
    for a in user.active_assignments:
        if a.role == Role.COUNTY_ADMIN:
            q |= under(a.org_path)
    return ImportJob.objects.filter(q).select_related("created_by", "node")


def job_get(user, pk) -> ImportJob:
    try:
        return jobs(user).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None
