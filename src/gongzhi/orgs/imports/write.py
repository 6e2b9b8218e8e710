"""The writes of one import: collected per row, then made in bulk (COPY on PostgreSQL, one UPDATE per
thousand rows), with one audit row per created or changed record. Unchanged rows are not written and
leave no audit row, so a re-import of the same file changes nothing."""

from __future__ import annotations

import operator
from collections import defaultdict
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

from gongzhi.core.audit import clean_changes
from gongzhi.core.models import AuditEvent, ImportJob

from ..models import CareTag, Entrance, Household, Relation, ResidencyType, Resident
from .columns import DEFAULT_ETHNICITY
from .match import BATCH, HOUSEHOLD_FIELDS, Registry, chunks
from .parse import Places, Row, households

_NEW_RESIDENT_VALUES = ("name", "name_initials", "gender", "birth_date", "id_number_enc", "id_number_hash",
                        "id_number_masked", "phone_enc", "phone_hash", "phone_masked")
_ID_VALUES = ("id_number_enc", "id_number_hash", "id_number_masked", "gender", "birth_date")
_PHONE_VALUES = ("phone_enc", "phone_hash", "phone_masked")


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    households_created: int = 0
    households_updated: int = 0
    entrances_created: int = 0


class Writer:
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

    def write(self, rows: list[Row], registry: Registry) -> Outcome:
        good = [r for r in rows if r.ok]
        groups = households(good)
        entrances = self._entrances(good)
        houses = self._households(groups, registry.households, entrances)
        self.lap("households")
        person_of = self._residents(good, houses, registry.tags)
        self.lap("residents")
        self._heads(groups, houses, registry.households, person_of, registry.head_names)
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
        insert(AuditEvent, self.audit)
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
                house = Household(**{k: old[k] for k in HOUSEHOLD_FIELDS})
                house._changes = {}
                # Only the columns the file has count; an absent 小区 column leaves the compound alone.
                for (key, value), was_given in zip(place.items(), given):
                    if was_given and old[key] != value:
                        house._changes[key.removesuffix("_id")] = [old[key], value]
                        setattr(house, key, value)
            houses[address] = house
        insert(Household, new)
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
            if row.id_hash and row.id_hash != old["id_number_hash"]:  # a full number given with the 记录编号
                changes["id_number"] = [old["id_number_masked"], v["id_number_masked"]]
                sets.update({k: v[k] for k in _ID_VALUES})
            if row.phone is not None and v["phone_hash"] != old["phone_hash"]:
                changes["phone"] = [old["phone_masked"], v["phone_masked"]]
                sets.update({k: v[k] for k in _PHONE_VALUES})
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
            for chunk in chunks(people, 1000):
                bulk_set(Resident, chunk, keys, stamp=self.now)
                done += len(chunk)
                self.progress(rows_written=done)
        for people, chunk_rows in zip(chunks(new), chunks(new_rows)):
            insert(Resident, people)
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
            for chunk in chunks(ids):
                CareTag.objects.filter(resident_id__in=chunk, group=group).delete()
        insert(CareTag, tag_add)
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
        bulk_set(Household, new_heads, ["head_id"])
        bulk_set(Household, changed, ["compound_id", "building_id", "entrance_id", "room", "head_id"], stamp=self.now)


def insert(model, objs: list) -> None:
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


def bulk_set(model, objs: list, fields, stamp=None) -> None:
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
    for chunk in chunks(objs, 1000):
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


