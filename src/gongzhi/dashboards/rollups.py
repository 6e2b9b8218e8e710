"""Incremental roll-ups of the appeal figures, and their set-based rebuild (see docs/metrics.md).

Each appeal has one ``AppealFact``: what it counts for now. When an action changes an appeal, the
listener recomputes that fact and adds the difference (new minus old) to every ``AppealRollup`` row
it touches, in one upsert of ``x = x + delta``. The fact row is locked first, so two changes to one
appeal apply one after the other, and applying a change twice adds nothing. ``rollup_rebuild``
recomputes everything from the appeals table with INSERT ... SELECT (after bulk loads, to repair).
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractMinute,
    ExtractSecond,
    Floor,
    Greatest,
    Least,
    TruncDate,
)
from django.utils import timezone

from gongzhi.appeals.models import OPEN_STATUSES, Appeal, Satisfaction, Status
from gongzhi.core import workdays
from gongzhi.orgs.models import OrgNode

from .models import COUNTERS, AppealFact, AppealRollup, RollupQueue, WorkCalendar

STEP = OrgNode.steplen
# Roll-up rows for nodes down to this depth (county 1, subdistrict 2, community 3, grid 4); deeper nodes
# hold a few hundred appeals a month and are summed from their facts. By day, a breakdown by category
# or handler barely compresses below a subdistrict (a community files a handful per category a day),
# so those rows stop at BREAKDOWN_DEPTH and communities and below sum their facts instead.
ROLLUP_DEPTH = 4
BREAKDOWN_DEPTH = 2
UNRESOLVED = (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SECOND = dt.timedelta(seconds=1)
_ENDED = (Status.VOIDED, Status.MERGED)
_FIELDS = (
    "id", "submitted_at", "org_path", "category_id", "handler_unit_id", "handler_path", "accepted_by_id", "resolve_due",
    "status", "dispatched_at", "responded_on_time", "resolved_at", "resolved_on_time", "rated_at", "rating_resolved",
    "satisfaction", "rated_by_callback", "return_count", "reopen_count", "extension_count", "supervise_count",
)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- working seconds ---------------------------------------------------------------------------


def _windows() -> list[tuple[int, int]]:
    """Office hours as (opens, closes) in seconds after midnight."""
    return [(o.hour * 3600 + o.minute * 60, c.hour * 3600 + c.minute * 60) for o, c in workdays.office_hours()]


def _office_seconds_before(clock: int) -> int:
    """Office seconds of a working day that have passed at ``clock`` seconds after midnight."""
    return sum(min(max(clock - opens, 0), closes - opens) for opens, closes in _windows())


def _local(moment: dt.datetime) -> tuple[dt.date, int]:
    local = timezone.localtime(moment, _tz())
    return local.date(), local.hour * 3600 + local.minute * 60 + local.second


def working_seconds(start: dt.datetime, end: dt.datetime) -> int:
    """Office seconds on working days between two moments (whole seconds, as the SQL of the rebuild)."""
    (d1, s1), (d2, s2) = _local(start), _local(end)
    per_day = _office_seconds_before(24 * 3600)
    total, day = 0, d1
    while day < d2:
        if workdays.is_workday(day):
            total += per_day
        day += dt.timedelta(days=1)
    if workdays.is_workday(d2):
        total += _office_seconds_before(s2)
    if workdays.is_workday(d1):
        total -= _office_seconds_before(s1)
    return total


def _whole_seconds(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // _SECOND


# --- one appeal's fact ------------------------------------------------------------------------


def fact_of(row: dict) -> dict:
    """What an appeal (a dict of ``_FIELDS``) counts for: its keys and counters. docs/metrics.md
    defines each counter; the SQL of ``_fact_query`` must say exactly the same."""
    valid = row["status"] not in _ENDED
    rated = valid and row["rated_at"] is not None
    resolved = valid and row["resolved_at"] is not None
    fact = {
        "appeal_id": row["id"],
        "day": timezone.localtime(row["submitted_at"], _tz()).date(),
        "place_path": row["org_path"],
        "category_id": row["category_id"],
        "handler_unit_id": row["handler_unit_id"],
        "handler_path": "" if row["handler_unit_id"] else (row["handler_path"] or ""),
        "worker_id": row["accepted_by_id"],
        "due_at": row["resolve_due"] if valid and row["status"] in UNRESOLVED else None,
        "due_day": None,
        "filed": 1,
        "voided": int(row["status"] == Status.VOIDED),
        "merged": int(row["status"] == Status.MERGED),
        "open": int(valid and row["status"] in OPEN_STATUSES),
        "dispatched": int(valid and row["dispatched_at"] is not None),
        "responded": int(valid and row["responded_on_time"] is not None),
        "responded_on_time": int(valid and row["responded_on_time"] is True),
        "resolved": int(resolved),
        "resolved_on_time": int(resolved and row["resolved_on_time"] is True),
        "closed": int(valid and row["status"] == Status.CLOSED),
        "rated": int(rated),
        "rated_resolved": int(rated and row["rating_resolved"] is True),
        "satisfied": int(rated and row["satisfaction"] == Satisfaction.SATISFIED),
        "basic": int(rated and row["satisfaction"] == Satisfaction.BASIC),
        "unsatisfied": int(rated and row["satisfaction"] == Satisfaction.UNSATISFIED),
        "callback": int(rated and bool(row["rated_by_callback"])),
        "returned": int(valid and row["return_count"] > 0),
        "reopened": int(valid and row["reopen_count"] > 0),
        "reworked": int(valid and (row["return_count"] > 0 or row["reopen_count"] > 0)),
        "returns": row["return_count"] if valid else 0,
        "reopens": row["reopen_count"] if valid else 0,
        "extended": int(valid and row["extension_count"] > 0),
        "supervised": int(valid and row["supervise_count"] > 0),
        "handling_seconds": 0,
        "handling_work_seconds": 0,
    }
    if fact["due_at"] is not None:
        fact["due_day"] = timezone.localtime(fact["due_at"], _tz()).date()
    if resolved:
        fact["handling_seconds"] = _whole_seconds(row["resolved_at"]) - _whole_seconds(row["submitted_at"])
        fact["handling_work_seconds"] = working_seconds(row["submitted_at"], row["resolved_at"])
    return fact


def handler_key(unit_id: int | None, handler_path: str, node_path: str) -> str:
    """The handler as seen from ``node_path``: a unit itself; an org node below the next level
    down as its ancestor at that level; "" for none yet."""
    if unit_id:
        return f"u{unit_id}"
    if not handler_path:
        return ""
    below = len(node_path) + STEP
    if handler_path.startswith(node_path) and len(handler_path) > below:
        return "n" + handler_path[:below]
    return "n" + handler_path


def rollup_keys(fact: dict):
    """(day, node path, depth, dim, key) of every roll-up row an appeal's fact adds to: each node
    from the tree's top down to its place (or ROLLUP_DEPTH), whole, and near the top by category
    and handler."""
    path, day = fact["place_path"], fact["day"]
    for depth in range(1, min(len(path) // STEP, ROLLUP_DEPTH) + 1):
        node_path = path[: depth * STEP]
        yield day, node_path, depth, AppealRollup.Dim.ALL, ""
        if depth <= BREAKDOWN_DEPTH:
            yield day, node_path, depth, AppealRollup.Dim.CATEGORY, str(fact["category_id"])
            yield day, node_path, depth, AppealRollup.Dim.HANDLER, handler_key(
                fact["handler_unit_id"], fact["handler_path"], node_path)
            if fact["due_day"] is not None:
                yield fact["due_day"], node_path, depth, AppealRollup.Dim.DUE, ""


def _add(deltas: dict, fact: dict | None, sign: int) -> None:
    if fact is None or not fact.get("filed"):
        return
    for key in rollup_keys(fact):
        row = deltas.setdefault(key, [0] * len(COUNTERS))
        for i, name in enumerate(COUNTERS):
            row[i] += sign * fact[name]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _upsert(deltas: dict) -> None:
    """Add the deltas to the roll-up rows in one statement, creating rows that do not exist yet.
    Rows go in key order so concurrent writers lock them in the same order (no deadlocks)."""
    rows = sorted((key, values) for key, values in deltas.items() if any(values))
    if not rows:
        return
    table = _q(AppealRollup._meta.db_table)
    columns = ["day", "node_path", "depth", "dim", "key", *COUNTERS]
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = []
    for key, values in rows:
        params.extend(key)
        params.extend(values)
    sets = ", ".join(f"{_q(c)} = {table}.{_q(c)} + excluded.{_q(c)}" for c in COUNTERS)
    sql = (
        f"INSERT INTO {table} ({', '.join(_q(c) for c in columns)}) VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT ({_q('node_path')}, {_q('dim')}, {_q('key')}, {_q('day')}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _fact_dict(fact: AppealFact) -> dict:
    return {f.attname: getattr(fact, f.attname) for f in AppealFact._meta.concrete_fields}


def refresh(appeal_id: int) -> bool:
    """Bring the roll-ups in line with one appeal as it stands now; True when anything changed."""
    with transaction.atomic():
        return _apply([appeal_id]) > 0


def _apply(appeal_ids) -> int:
    """Inside a transaction: bring facts and roll-ups in line with these appeals as they stand now, in
    one upsert of the summed differences. Returns how many facts changed.

    Locks the facts in id order, then the roll-up rows in key order (``_upsert``): two of these at
    once wait for each other but never deadlock, and a change applied twice adds nothing."""
    ids = sorted(set(appeal_ids))
    if connection.vendor == "postgresql":
        # Derived data, facts and roll-ups in one transaction: a crash may lose this catch-up but never
        # half of it, and its queue rows come back with it. So no wait for the disk.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    # An empty fact to lock for an appeal seen the first time, whoever inserts it first.
    AppealFact.objects.bulk_create(
        [AppealFact(appeal_id=pk, day=dt.date(1970, 1, 1), place_path="", category_id=0, filed=0) for pk in ids],
        ignore_conflicts=True,
    )
    old = {f.appeal_id: f for f in AppealFact.objects.select_for_update().filter(appeal_id__in=ids).order_by("appeal_id")}
    rows = {row["id"]: row for row in Appeal.objects.filter(pk__in=ids).values(*_FIELDS)}
    deltas: dict = {}
    changed, gone = [], []
    for pk in ids:
        before = _fact_dict(old[pk])
        new = fact_of(rows[pk]) if pk in rows else None
        if new is not None and all(before[k] == v for k, v in new.items()):
            continue
        _add(deltas, before, -1)
        _add(deltas, new, +1)
        if new is None:
            gone.append(pk)
        else:
            changed.append(AppealFact(**new))
    _upsert(deltas)
    if gone:
        AppealFact.objects.filter(appeal_id__in=gone).delete()
    fields = [f.attname for f in AppealFact._meta.concrete_fields if not f.primary_key]
    if len(changed) == 1:  # the usual catch-up: one action since the last
        AppealFact.objects.filter(appeal_id=changed[0].appeal_id).update(**{k: getattr(changed[0], k) for k in fields})
    elif changed:
        AppealFact.objects.bulk_update(changed, fields)
    return len(changed) + len(gone)


def on_appeal_changed(appeal_id: int, kind: str, event_id: int | None = None) -> None:
    """The ``gongzhi.appeals.events`` listener, inside the action's transaction: queue the appeal (one
    small INSERT); ``catch_up`` applies it."""
    RollupQueue.objects.create(appeal_id=appeal_id)


CATCH_UP_BATCH = 200


def catch_up(*, limit: int | None = None, wait: bool = True) -> int:
    """Apply the queued appeal changes to the roll-ups, oldest first, a batch per transaction; returns
    how many queue rows were done. ``limit`` stops after about that many; ``wait=False`` (the figures
    reads) gives up at once on PostgreSQL when a rebuild holds the tables, and answers with the figures
    as they are rather than keep a page waiting."""
    done = 0
    while limit is None or done < limit:
        try:
            with transaction.atomic():
                if not wait and connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '100ms'")
                # Rows another catch-up is working on are skipped (PostgreSQL); SQLite has one writer anyway.
                batch = list(
                    RollupQueue.objects.select_for_update(skip_locked=True).order_by("id")
                    .values_list("id", "appeal_id")[:CATCH_UP_BATCH]
                )
                if not batch:
                    break
                _apply(appeal for _id, appeal in batch)
                RollupQueue.objects.filter(id__in=[pk for pk, _appeal in batch]).delete()
        except OperationalError:
            if wait:
                raise
            break  # lock_timeout: a rebuild is running; its result includes these changes anyway
        done += len(batch)
    return done


def pending() -> bool:
    return RollupQueue.objects.exists()


def waiting(cap: int) -> int:
    """How many appeal changes wait for the roll-ups, counted up to ``cap``."""
    return RollupQueue.objects.values("id")[:cap].count()


# --- rebuild -----------------------------------------------------------------------------------


class _EpochSeconds(Func):
    """Whole seconds since 1970 of a timestamp (truncated, as ``_whole_seconds``)."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint", **extra)

    def as_sqlite(self, compiler, conn, **extra):
        # "%%%%s": once for the template, once for the cursor's own "%s" placeholders.
        return self.as_sql(compiler, conn, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)", **extra)


def _outer(field: str):
    # An outer timestamp typed as one, so the date functions accept it inside the subquery.
    return ExpressionWrapper(OuterRef(field), output_field=DateTimeField())


def _clock(field: str):
    tz = _tz()
    return (
        ExtractHour(_outer(field), tzinfo=tz) * 3600 + ExtractMinute(_outer(field), tzinfo=tz) * 60
        + Floor(ExtractSecond(_outer(field), tzinfo=tz))
    )


def _work_point(field: str):
    """W(t) of docs/metrics.md: office seconds of the working days before t's day, plus those of t's
    own day up to t when it is a working day. Working seconds between two moments = W(end) - W(start)."""
    clock = _clock(field)
    passed = sum(
        (Least(Greatest(clock - Value(opens), Value(0)), Value(closes - opens)) for opens, closes in _windows()),
        start=Value(0),
    )
    point = WorkCalendar.objects.filter(day=TruncDate(_outer(field), tzinfo=_tz())).annotate(
        w=F("seconds_before") + Case(When(is_workday=True, then=passed), default=Value(0))
    ).values("w")[:1]
    return Subquery(point, output_field=BigIntegerField())


def _flag(condition: Q, valid: Q):
    return Case(When(valid & condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _fact_query(since: dt.date | None):
    """The appeals as fact rows, in the column order of ``_fact_columns``: the SQL twin of ``fact_of``."""
    tz = _tz()
    valid = ~Q(status__in=_ENDED)
    rated = Q(rated_at__isnull=False)
    resolved = Q(resolved_at__isnull=False)
    qs = Appeal.objects.all()
    if since is not None:
        qs = qs.filter(submitted_at__gte=_day_start(since))
    columns = {
        "x_appeal_id": F("id"),
        "x_day": TruncDate("submitted_at", tzinfo=tz),
        "x_place_path": F("org_path"),
        "x_category_id": F("category_id"),
        "x_handler_unit_id": F("handler_unit_id"),
        "x_handler_path": Case(When(handler_unit_id__isnull=False, then=Value("")), default=F("handler_path"),
                               output_field=CharField()),
        "x_worker_id": F("accepted_by_id"),
        "x_due_at": Case(When(valid & Q(status__in=UNRESOLVED), then=F("resolve_due")), default=None,
                         output_field=DateTimeField()),
        "x_due_day": Case(When(valid & Q(status__in=UNRESOLVED), then=TruncDate("resolve_due", tzinfo=tz)),
                          default=None, output_field=DateField()),
        "x_filed": Value(1, output_field=IntegerField()),
        "x_voided": _flag(Q(status=Status.VOIDED), Q()),
        "x_merged": _flag(Q(status=Status.MERGED), Q()),
        "x_open": _flag(Q(status__in=OPEN_STATUSES), valid),
        "x_dispatched": _flag(Q(dispatched_at__isnull=False), valid),
        "x_responded": _flag(Q(responded_on_time__isnull=False), valid),
        "x_responded_on_time": _flag(Q(responded_on_time=True), valid),
        "x_resolved": _flag(resolved, valid),
        "x_resolved_on_time": _flag(resolved & Q(resolved_on_time=True), valid),
        "x_closed": _flag(Q(status=Status.CLOSED), valid),
        "x_rated": _flag(rated, valid),
        "x_rated_resolved": _flag(rated & Q(rating_resolved=True), valid),
        "x_satisfied": _flag(rated & Q(satisfaction=Satisfaction.SATISFIED), valid),
        "x_basic": _flag(rated & Q(satisfaction=Satisfaction.BASIC), valid),
        "x_unsatisfied": _flag(rated & Q(satisfaction=Satisfaction.UNSATISFIED), valid),
        "x_callback": _flag(rated & Q(rated_by_callback=True), valid),
        "x_returned": _flag(Q(return_count__gt=0), valid),
        "x_reopened": _flag(Q(reopen_count__gt=0), valid),
        "x_reworked": _flag(Q(return_count__gt=0) | Q(reopen_count__gt=0), valid),
        "x_returns": Case(When(valid, then=F("return_count")), default=Value(0), output_field=IntegerField()),
        "x_reopens": Case(When(valid, then=F("reopen_count")), default=Value(0), output_field=IntegerField()),
        "x_extended": _flag(Q(extension_count__gt=0), valid),
        "x_supervised": _flag(Q(supervise_count__gt=0), valid),
        "x_handling_seconds": Case(
            When(valid & resolved, then=_EpochSeconds("resolved_at") - _EpochSeconds("submitted_at")),
            default=Value(0), output_field=BigIntegerField(),
        ),
        "x_handling_work_seconds": Case(
            When(valid & resolved, then=Coalesce(_work_point("resolved_at") - _work_point("submitted_at"), Value(0))),
            default=Value(0), output_field=BigIntegerField(),
        ),
    }
    return qs.order_by().annotate(**columns).values(*columns)


def _fact_columns() -> list[str]:
    return ["appeal_id", "day", "place_path", "category_id", "handler_unit_id", "handler_path", "worker_id", "due_at",
            "due_day", *COUNTERS]


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=_tz())


def _fill_calendar() -> int:
    """Refill ``WorkCalendar`` over every day an appeal was filed or resolved on (and today)."""
    span = Appeal.objects.aggregate(a=Min("submitted_at"), b=Max("submitted_at"), c=Max("resolved_at"))
    today = timezone.localdate()
    dates = [timezone.localtime(v, _tz()).date() for v in span.values() if v is not None] + [today]
    first, last = min(dates) - dt.timedelta(days=1), max(dates) + dt.timedelta(days=1)
    per_day = _office_seconds_before(24 * 3600)
    rows, before, day = [], 0, first
    while day <= last:
        work = workdays.is_workday(day)
        rows.append(WorkCalendar(day=day, is_workday=work, seconds_before=before))
        before += per_day if work else 0
        day += dt.timedelta(days=1)
    WorkCalendar.objects.all().delete()
    WorkCalendar.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _rollup_sql(dim: str, depth: int, since: dt.date | None) -> tuple[str, list]:
    fact, rollup = _q(AppealFact._meta.db_table), _q(AppealRollup._meta.db_table)
    size = depth * STEP
    unit, hpath, org = _q("handler_unit_id"), _q("handler_path"), _q("place_path")
    key = {
        AppealRollup.Dim.ALL: "''",
        AppealRollup.Dim.DUE: "''",
        AppealRollup.Dim.CATEGORY: f"CAST({_q('category_id')} AS TEXT)",
        # handler_key() in SQL
        AppealRollup.Dim.HANDLER: (
            f"CASE WHEN {unit} IS NOT NULL THEN 'u' || CAST({unit} AS TEXT) WHEN {hpath} = '' THEN '' "
            f"WHEN SUBSTR({hpath}, 1, {size}) = SUBSTR({org}, 1, {size}) AND LENGTH({hpath}) > {size + STEP} "
            f"THEN 'n' || SUBSTR({hpath}, 1, {size + STEP}) ELSE 'n' || {hpath} END"
        ),
    }[dim]
    where, params = [f"LENGTH({org}) >= %s"], [size]
    day = _q("day")
    if dim == AppealRollup.Dim.DUE:
        day = _q("due_day")
        where.append(f"{day} IS NOT NULL")
    if since is not None and dim != AppealRollup.Dim.DUE:  # "d" rows mix filing days: always all of them
        where.append(f"{_q('day')} >= %s")
        params.append(since)
    node = f"SUBSTR({org}, 1, {size})"
    columns = ", ".join(_q(c) for c in ["day", "node_path", "depth", "dim", "key", *COUNTERS])
    sums = ", ".join(f"SUM({_q(c)})" for c in COUNTERS)
    sql = (
        f"INSERT INTO {rollup} ({columns}) SELECT {day}, {node}, {depth}, '{dim}', {key}, {sums} "
        f"FROM {fact} WHERE {' AND '.join(where)} GROUP BY {day}, {node}"
        + ("" if dim in (AppealRollup.Dim.ALL, AppealRollup.Dim.DUE) else f", {key}")
    )
    return sql, params


def _secondary_indexes():
    for model in (AppealFact, AppealRollup):
        for index in model._meta.indexes:
            yield model, index


def _drop_indexes() -> None:
    with connection.schema_editor(atomic=False) as editor:
        for model, index in _secondary_indexes():
            editor.remove_index(model, index)


def _create_indexes() -> None:
    with connection.schema_editor(atomic=False) as editor:
        for model, index in _secondary_indexes():
            editor.add_index(model, index)


def rollup_rebuild(since: dt.date | None = None, *, log=None) -> dict:
    """Recompute facts and roll-ups from the appeals table, for appeals filed on or after ``since``
    (a local date; None: all). Set-based SQL; the demo loader and the benchmark call it after bulk
    loads. Listeners wait for it (PostgreSQL: EXCLUSIVE locks on both tables, which let pages read
    the old figures meanwhile; a full rebuild also drops and rebuilds the indexes, and then pages
    wait too)."""
    started = time.perf_counter()
    say = log or (lambda _msg: None)
    with transaction.atomic():
        fact_table, rollup_table = _q(AppealFact._meta.db_table), _q(AppealRollup._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"LOCK TABLE {fact_table}, {rollup_table} IN EXCLUSIVE MODE")
            days = _fill_calendar()
            bulk = since is None and connection.vendor == "postgresql"
            if since is None:
                # DELETE rather than TRUNCATE: TRUNCATE would take a lock that stops readers too.
                cursor.execute(f"DELETE FROM {rollup_table}")
                cursor.execute(f"DELETE FROM {fact_table}")
            if bulk:
                # A million rows go in several times faster without their indexes; built again below.
                _drop_indexes()
            else:
                cursor.execute(
                    f"DELETE FROM {rollup_table} WHERE {_q('day')} >= %s OR {_q('dim')} = %s", [since, AppealRollup.Dim.DUE]
                )
                cursor.execute(f"DELETE FROM {fact_table} WHERE {_q('day')} >= %s", [since])
            select, params = _fact_query(since).query.sql_with_params()
            columns = ", ".join(_q(c) for c in _fact_columns())
            cursor.execute(f"INSERT INTO {fact_table} ({columns}) {select}", params)
            facts = cursor.rowcount
            say(f"roll-ups: {facts} appeal facts")
            cursor.execute(f"SELECT MAX(LENGTH({_q('place_path')})) FROM {fact_table}")
            deepest = (cursor.fetchone()[0] or 0) // STEP
            rows = 0
            for dim in AppealRollup.Dim.values:
                for depth in range(1, min(deepest, ROLLUP_DEPTH if dim == "a" else BREAKDOWN_DEPTH) + 1):
                    sql, params = _rollup_sql(dim, depth, since)
                    cursor.execute(sql, params)
                    rows += cursor.rowcount
            if bulk:
                _create_indexes()
            say(f"roll-ups: {rows} rows")
    if connection.vendor == "postgresql":
        # VACUUM (outside a transaction only) also marks the fresh rows all-visible, so the overdue
        # counts stay index-only scans; inside one, ANALYZE at least gives the planner the new sizes.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{command} {fact_table}")
            cursor.execute(f"{command} {rollup_table}")
    return {"appeals": facts, "rows": rows, "calendar_days": days, "seconds": round(time.perf_counter() - started, 2)}


def pending_at(now) -> bool:
    """The scheduler's test for the catch-up: are appeal changes queued for the roll-ups?"""
    return pending()
