"""Rows matched with the registry: the resident a row updates (by its 记录编号, else by the ID number's
blind index) and the household at its address, read in batches; conflicts are reported on the rows."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.utils.translation import gettext as _

from ..models import CareTag, Household, Relation, Resident
from .parse import Row, households

BATCH = 2000

RESIDENT_FIELDS = ("id", "id_number_hash", "id_number_masked", "household_id", "org_path", "name", "relation",
                   "residency", "ethnicity", "is_party_member", "phone_hash", "phone_masked")
HOUSEHOLD_FIELDS = ("id", "address", "grid_id", "micro_grid_id", "org_path", "compound_id", "building_id",
                    "entrance_id", "room", "head_id")


def chunks(items: list, size: int = BATCH):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def lock_registry() -> None:
    """One import writes at a time, so two uploads cannot both add the same person.
    SQLite already serialises writers (transaction_mode IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [74_1001])


def mask_agrees(cell: str, stored: str) -> bool:
    """Can a masked cell be the mask of the value on record? The characters it shows at the start and
    the end agree with those the stored mask shows (either may show more, should the format change)."""
    cell, stored = cell.strip(), stored.strip()
    if not stored:
        return False
    if "*" not in stored:
        return cell == stored
    head, tail = cell.partition("*")[0], cell.rpartition("*")[2]
    stored_head, stored_tail = stored.partition("*")[0], stored.rpartition("*")[2]
    return ((head.startswith(stored_head) or stored_head.startswith(head))
            and (tail.endswith(stored_tail) or stored_tail.endswith(tail)))


class Registry:
    """What the registry holds for the rows: residents by ID hash and by id (with care groups), households
    by address, the names of their heads."""

    def __init__(self, rows: list[Row]):
        good = [r for r in rows if r.ok]
        self.by_hash: dict[str, dict] = {}
        for chunk in chunks({r.id_hash for r in good if r.id_hash}):
            for values in Resident.objects.filter(id_number_hash__in=chunk).values(*RESIDENT_FIELDS):
                self.by_hash[values["id_number_hash"]] = values
        self.by_id: dict[int, dict] = {r["id"]: r for r in self.by_hash.values()}
        for chunk in chunks({r.record for r in good if r.record} - set(self.by_id)):
            for values in Resident.objects.filter(pk__in=chunk).values(*RESIDENT_FIELDS):
                self.by_id[values["id"]] = values
        self.tags: dict[int, set] = defaultdict(set)
        for chunk in chunks(self.by_id):
            for rid, group in CareTag.objects.filter(resident_id__in=chunk).values_list("resident_id", "group"):
                self.tags[rid].add(group)
        self.households: dict[str, dict] = {}
        for chunk in chunks({r.address for r in good}):
            for values in Household.objects.filter(address__in=chunk).values(*HOUSEHOLD_FIELDS):
                self.households[values["address"]] = values
        self.head_names: dict[int, str] = {}
        for chunk in chunks([h["head_id"] for h in self.households.values() if h["head_id"]]):
            self.head_names.update(Resident.objects.filter(pk__in=chunk).values_list("id", "name"))


def _mark_group(group: list[Row], message: str) -> None:
    for row in group:
        row.errors.append(message)


def match(rows: list[Row], *, root_path: str, scope_paths: list[str] | None) -> Registry:
    """Match rows with the registry under ``root_path`` (and the importer's ``scope_paths``, None for
    everywhere); rows that conflict get their errors. Returns what the writes need."""
    registry = Registry(rows)

    def in_scope(path: str) -> bool:
        return path.startswith(root_path) and (scope_paths is None or any(path.startswith(p) for p in scope_paths))

    for address, group in households(rows).items():
        house = registry.households.get(address)
        if house is not None and not in_scope(house["org_path"]):
            _mark_group(group, _("A household with this address already exists."))
            continue
        # Naming the grid of a household that sits in one of its micro-grids is fine; another grid is a move.
        if house is not None and not house["org_path"].startswith(group[0].grid.path):
            _mark_group(group, _("This address is registered in another grid; move the household in the registry first."))
            continue
        for row in group:
            found = _resident(row, registry, in_scope)
            if not row.ok:
                continue
            if found is None:
                if row.phone_masked:
                    row.errors.append(_("The phone number is masked; give the full number or leave it empty."))
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
                    % {"name": registry.head_names.get(house["head_id"], "")}
                )
    # One person named twice, once by 记录编号 and once by ID number.
    people: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        if row.existing is not None:
            people[row.existing["id"]].append(row)
    for same in people.values():
        if len(same) > 1:
            for row in same:
                row.errors.append(_("This person is also in row %(rows)s.")
                                  % {"rows": ", ".join(str(r.number) for r in same if r is not row)})
    return registry


def _resident(row: Row, registry: Registry, in_scope) -> dict | None:
    """The registered resident ``row`` is about (None: a new person), or errors on the row."""
    err = row.errors.append
    if row.record:
        found = registry.by_id.get(row.record)
        if found is None or not in_scope(found["org_path"]):
            err(_("There is no resident with 记录编号 %(record)s in your area.") % {"record": row.record})
            return None
        if row.id_masked:
            if not mask_agrees(row.id_masked, found["id_number_masked"]):
                err(_("The masked ID number does not match the one on record for 记录编号 %(record)s; type the full "
                      "number or keep the one from the export.") % {"record": row.record})
        elif row.id_hash != found["id_number_hash"] and row.id_hash in registry.by_hash:
            err(_("A resident with this ID number is already registered."))
    else:
        found = registry.by_hash.get(row.id_hash)
        if found is not None and not in_scope(found["org_path"]):
            err(_("A resident with this ID number is already registered."))
            return None
    if found is not None and row.phone_masked and not mask_agrees(row.phone_masked, found["phone_masked"]):
        err(_("The masked phone number does not match the one on record; type the full number or keep the one "
              "from the export."))
    return found if row.ok else None
