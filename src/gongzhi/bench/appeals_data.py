"""Build a large appeal history fast for the appeals benchmark: 1,000,000 appeals over the benchmark
registry (``registry_data``: root code "BENCH") and six months, with the demo's categories, routing and
state mix (most closed, about a tenth open, some overdue), and the main timeline events of each.

Rows go in with PostgreSQL COPY (bulk_create on SQLite) in chunks; deadlines come from the same
``routing`` helpers as filing, computed once per minute of filing (working hours) or day (working days).
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Mod
from django.utils import timezone

from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.access import Role
from gongzhi.appeals import demo_texts as T
from gongzhi.appeals import routing
from gongzhi.appeals.defaults import ensure_default_categories, leaf_codes
from gongzhi.appeals.demo import CHANNELS, HOURS, SATISFACTION, SCOPE, SWEEP_MINUTES, WEIGHTS
from gongzhi.appeals.models import Appeal, AppealEvent, Category, Channel, DueState, Status, TimeUnit
from gongzhi.orgs.demo import people
from gongzhi.core.pii import blind_index, encrypt, mask_phone
from gongzhi.core.scoping import under
from gongzhi.dashboards.rollups import rollup_rebuild
from gongzhi.orgs.models import NodeKind, OrgNode, Resident, Unit, UnitKind

from . import registry_data

STEP = OrgNode.steplen
CHUNK = 50_000
DEPARTMENTS = ["住建局", "经科局", "综合行政执法局", "市场监管局", "公安局", "生态环境局", "人社局", "医保局",
               "应急管理局", "自然资源局"]
PARTNERS = ["自来水公司", "供电公司", "燃气公司"]

APPEAL_COLUMNS = [
    "id", "number", "title", "description", "category_id", "channel", "status", "due_state", "node_id", "org_path",
    "household_id", "address", "lng", "lat", "attributes", "reporter_id", "reporter_name", "reporter_phone_enc",
    "reporter_phone_hash", "reporter_phone_masked", "filed_by_id", "client_id", "owner_node_id", "owner_path",
    "handler_node_id", "handler_unit_id", "handler_path", "accepted_by_id", "merged_into_id", "submitted_at",
    "dispatched_at", "accepted_at", "resolved_at", "verified_at", "closed_at", "response_due", "resolve_due",
    "due_soon_at", "deadline_unconfirmed", "responded_on_time", "resolved_on_time", "result", "rating_resolved",
    "satisfaction", "rating_comment", "rated_at", "rated_by_callback", "return_count", "reopen_count",
    "supervise_count", "extension_count", "escalated_at", "updated_at",
]
EVENT_COLUMNS = ["appeal_id", "at", "actor_id", "actor_name", "kind", "from_status", "to_status", "note", "public",
                 "data"]


def bench_root() -> OrgNode | None:
    return OrgNode.objects.filter(depth=1, code="BENCH").first()


def _json(value):
    """A JSON column value for ``registry_data._copy``: wrapped for COPY, plain for bulk_create."""
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    return value


def _units(root: OrgNode) -> dict[str, Unit]:
    units = {}
    for names, kind in ((DEPARTMENTS, UnitKind.DEPARTMENT), (PARTNERS, UnitKind.PARTNER)):
        for name in names:
            units[name], _made = Unit.objects.get_or_create(
                kind=kind, name=f"基准县{name}", defaults={"home": root, "org_path": root.path})
    return units


def _staff(root: OrgNode, units: dict[str, Unit], nodes: list[OrgNode]) -> dict:
    """A worker per grid, community and subdistrict and a handler per unit (no password: they only act in
    the data). Returns {node id or ("unit", id): (user id, display name)}."""
    prefix = {NodeKind.GRID: ("wg", Role.GRID_WORKER), NodeKind.COMMUNITY: ("sq", Role.COMMUNITY_STAFF),
              NodeKind.SUBDISTRICT: ("jd", Role.SUBDISTRICT_STAFF)}
    wanted = [(f"bench-{prefix[n.kind][0]}-{n.pk}", prefix[n.kind][1], n, None, n.pk) for n in nodes
              if n.kind in prefix]
    role = {UnitKind.DEPARTMENT: Role.DEPARTMENT_HANDLER, UnitKind.PARTNER: Role.PARTNER_CONTACT}
    wanted += [(f"bench-unit-{u.pk}", role[u.kind], root, u, ("unit", u.pk)) for u in units.values()]
    existing = dict(User.objects.filter(username__startswith="bench-").values_list("username", "id"))
    password = make_password(None)
    new = [User(username=w[0], display_name=w[0], password=password) for w in wanted if w[0] not in existing]
    User.objects.bulk_create(new, batch_size=2000)
    ids = dict(User.objects.filter(username__startswith="bench-").values_list("username", "id"))
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user_id=ids[name], role=r, node=node, org_path=node.path, unit=unit)
         for name, r, node, unit, _key in wanted if name not in existing], batch_size=2000)
    return {key: (ids[name], name) for name, _r, _n, _u, key in wanted}


def _relative_routes(root: OrgNode, categories: dict[str, Category]) -> dict:
    """Each category's handler relative to the appeal's place. The default rules sit at the root only,
    so routing one place per category says it for all: its grid, its community or a unit."""
    sample = OrgNode.objects.filter(under(root.path, "path"), kind=NodeKind.MICRO_GRID).order_by("path").first()
    out = {}
    for code, category in categories.items():
        r = routing.route(sample, category)
        if r.unit is not None:
            out[code] = ("unit", r.unit.pk, r.auto_dispatch)
        elif r.node.kind == NodeKind.GRID:
            out[code] = ("grid", None, r.auto_dispatch)
        else:
            out[code] = ("community", None, r.auto_dispatch)
    return out


class _Deadlines:
    """``routing.deadlines`` for many filing times: working-hour deadlines cached per minute, working-day
    ones per day (they depend on nothing finer)."""

    def __init__(self):
        self.cache = {}

    def due(self, start: dt.datetime, amount: int, unit: str):
        if unit == TimeUnit.WORKING_DAYS:
            key = (amount, unit, timezone.localtime(start).date())
        elif unit == TimeUnit.WORKING_HOURS:
            key = (amount, unit, start)
        else:
            return routing.due_after(start, amount, unit)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = routing.due_after(start, amount, unit)
        return hit

    def of(self, policy, start: dt.datetime):
        response = self.due(start, policy.response_amount, policy.response_unit)
        resolve = self.due(start, policy.resolve_amount, policy.resolve_unit)
        return (response.at, resolve.at, routing.due_soon(start, resolve.at, policy.due_soon_percent),
                response.warning or resolve.warning)


def build(*, appeals: int = 1_000_000, residents: int = 1_000_000, seed: int = 11, months: int = 6,
          now: dt.datetime | None = None, log=print) -> dict:
    """Add ``appeals`` appeals to the benchmark tree (built first with ``residents`` residents when
    missing) and return the row counts; then rebuild the dashboard roll-ups."""
    t0 = time.perf_counter()
    root = bench_root()
    if root is None:
        registry_data.build(residents=residents, log=log)
        root = bench_root()
    rng = random.Random(seed)
    now = now or timezone.now()
    with transaction.atomic():
        units = _units(root)
        ensure_default_categories(root)
        nodes = list(OrgNode.objects.filter(under(root.path, "path")).order_by("path"))
        by_path = {n.path: n for n in nodes}
        staff = _staff(root, units, nodes)
        categories = {c.code: c for c in Category.objects.filter(code__in=leaf_codes()).select_related("policy")}
        policies = {code: routing.policy_for(c) for code, c in categories.items()}
        routes = _relative_routes(root, categories)
        micro = [n for n in nodes if n.kind == NodeKind.MICRO_GRID]
        pool: dict[str, list] = {}
        sample = Resident.objects.filter(under(root.path)).annotate(m=Mod("id", 4)).filter(m=0)  # a quarter will do
        for rid, hid, name, path in sample.values_list("id", "household_id", "name", "org_path"):
            pool.setdefault(path, []).append((rid, hid, name))
        log(f"appeals: setup in {time.perf_counter() - t0:.1f}s ({len(micro)} micro-grids, {len(staff)} staff)")

        codes = list(categories)
        pick_code = people.Weighted([(c, WEIGHTS[c]) for c in codes])
        pick_channel = people.Weighted(CHANNELS)
        pick_hour = people.Weighted(HOURS)
        pick_satisfaction = people.Weighted(SATISFACTION)
        deadlines = _Deadlines()
        tz = timezone.get_current_timezone()
        today = timezone.localdate(now)
        days = round(months * 30.44)
        midnights = [dt.datetime.combine(today - dt.timedelta(days=d), dt.time(0), tzinfo=tz) for d in range(days)]
        used_phones: set = set()
        next_id = (Appeal.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        counts = {"appeals": 0, "events": 0}
        hours = dt.timedelta(hours=1)
        for start in range(0, appeals, CHUNK):
            rows, events = [], []
            for i in range(start, min(start + CHUNK, appeals)):
                pk = next_id + i
                node = micro[rng.randrange(len(micro))]
                grid = by_path[node.path[: 4 * STEP]]
                community = by_path[node.path[: 3 * STEP]]
                code = pick_code.pick(rng)
                policy = policies[code]
                channel = pick_channel.pick(rng)
                submitted = midnights[rng.randrange(days)] + dt.timedelta(hours=pick_hour.pick(rng),
                                                                          minutes=rng.randrange(60))
                if submitted > now - dt.timedelta(minutes=10):
                    submitted -= dt.timedelta(days=1)
                response_due, resolve_due, due_soon_at, unconfirmed = deadlines.of(policy, submitted)
                # who
                reporter, household, name, phone = None, None, "", ""
                candidates = pool.get(node.path)
                if channel != Channel.SNAPSHOT and candidates and rng.random() < 0.8:
                    reporter, household, name = candidates[rng.randrange(len(candidates))]
                elif channel in (Channel.HOTLINE, Channel.WINDOW):
                    name = people.SURNAMES.pick(rng) + rng.choice("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超")
                    phone = people.mobile(rng, used_phones)
                if channel in (Channel.VISIT, Channel.SNAPSHOT):
                    owner, filer = grid, staff[grid.pk]
                elif channel in (Channel.WINDOW, Channel.MEETING, Channel.WISH_WALL):
                    owner, filer = community, staff[community.pk]
                else:
                    owner, filer = community, None
                kind, unit_id, auto = routes[code]
                handler = grid if kind == "grid" else community if kind == "community" else None
                handler_user = staff[("unit", unit_id)] if unit_id else staff[handler.pk]
                dispatcher = staff[owner.pk]
                chief = staff[community.pk]
                # when: the lifecycle, cut where "now" finds it
                r = rng.random()
                fate = "void" if r < 0.012 else "merge" if r < 0.035 else "normal"
                status = Status.SUBMITTED
                times = {}
                t = submitted + (dt.timedelta(minutes=1) if auto else hours * rng.uniform(0.2, 3))
                times["dispatched"] = t
                if fate == "normal":
                    t += hours * rng.uniform(0.1, 2.5)
                    times["accepted"] = t
                    span = max(resolve_due - t, hours)
                    x = rng.random()
                    share = (rng.uniform(0.03, 0.4) if x < 0.6 else rng.uniform(0.4, 0.95) if x < 0.9
                             else rng.uniform(1.0, 1.6) if x < 0.985 else rng.uniform(3, 25))
                    t += span * share
                    times["resolved"] = t
                    t += hours * rng.uniform(8, 360)  # checking and callbacks take days: about a tenth is open
                    times["verified"] = t
                    t += hours * rng.uniform(1, 72)
                    times["closed"] = t
                else:
                    times["ended"] = t + hours * rng.uniform(1, 40)
                reached = [k for k, v in times.items() if v <= now]
                state = {"dispatched": Status.DISPATCHED, "accepted": Status.ACCEPTED, "resolved": Status.RESOLVED,
                         "verified": Status.VERIFIED, "closed": Status.CLOSED,
                         "ended": Status.VOIDED if fate == "void" else Status.MERGED}
                if reached:
                    status = state[reached[-1]]
                if fate != "normal" and status == Status.DISPATCHED and not auto:
                    status = Status.SUBMITTED  # voided or merged by the dispatcher before dispatching
                dispatched = times["dispatched"] if "dispatched" in reached and status != Status.SUBMITTED else None
                accepted = times.get("accepted") if "accepted" in reached else None
                resolved = times.get("resolved") if "resolved" in reached else None
                verified = times.get("verified") if "verified" in reached else None
                closed = (times.get("closed") if "closed" in reached
                          else times["ended"] if status in (Status.VOIDED, Status.MERGED) else None)
                open_work = status in (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED)
                at = now if open_work else (resolved or closed)
                due_state = (DueState.OVERDUE if at >= resolve_due else DueState.DUE_SOON if at >= due_soon_at
                             else DueState.NORMAL)
                escalate = resolve_due + dt.timedelta(minutes=SWEEP_MINUTES)
                escalated = escalate if escalate <= (now if open_work else (resolved or closed)) else None
                satisfaction, rated, rating_resolved, callback = "", None, None, False
                if resolved is not None and rng.random() < 0.8:
                    rated_at = resolved + hours * rng.uniform(2, 48)
                    if rated_at <= now:
                        satisfaction, rated = pick_satisfaction.pick(rng), rated_at
                        rating_resolved = satisfaction != "unsatisfied" or rng.random() < 0.5
                        callback = rng.random() < 0.5
                handled = status not in (Status.SUBMITTED, Status.VOIDED, Status.MERGED) or (
                    status in (Status.VOIDED, Status.MERGED) and dispatched is not None)
                where = f"{community.name[-4:]}{grid.name[-4:]}{rng.choice(T.SPOTS_COMPOUND)}"
                title, text = rng.choice(T.APPEALS[code])
                slots = {"where": where, "addr": where, "days": 3, "n": 2, "street": "基准大道"}
                rows.append((
                    pk, f"{timezone.localtime(submitted):%Y%m%d}{pk:06d}", title.format(**slots)[:120],
                    text.format(**slots), categories[code].pk, channel, status, due_state, node.pk, node.path,
                    household if (reporter or SCOPE[code] == "household") else None, f"基准县{where}",
                    None, None, _json({}), reporter, name, encrypt(phone), blind_index("phone", phone),
                    mask_phone(phone), filer[0] if filer else None, None, owner.pk, owner.path,
                    handler.pk if handled and handler else None, unit_id if handled else None,
                    handler.path if handled and handler else "", handler_user[0] if accepted else None,
                    next_id + rng.randrange(max(1, i)) if status == Status.MERGED and i else None,
                    submitted, dispatched, accepted, resolved, verified, closed, response_due, resolve_due,
                    due_soon_at, unconfirmed, accepted <= response_due if accepted else None,
                    resolved <= resolve_due if resolved else None,
                    rng.choice(T.RESULTS[code]) if resolved else "", rating_resolved, satisfaction, "", rated,
                    callback, 1 if rng.random() < 0.05 else 0,
                    1 if satisfaction == "unsatisfied" and rating_resolved is False else 0, 0, 0, escalated, now,
                ))
                # the timeline: the main steps
                empty = _json({})
                events.append((pk, submitted, filer[0] if filer else None, filer[1] if filer else T.HOTLINE if
                               channel == Channel.HOTLINE else "", "file", "", Status.SUBMITTED, "", True,
                               _json({"channel": channel})))
                prev = Status.SUBMITTED
                for key, kind, to, actor in (
                    ("dispatched", "dispatch", Status.DISPATCHED, None if auto else dispatcher),
                    ("accepted", "accept", Status.ACCEPTED, handler_user),
                    ("resolved", "resolve", Status.RESOLVED, handler_user),
                    ("verified", "verify", Status.VERIFIED, chief),
                    ("closed", "close", Status.CLOSED, chief),
                ):
                    moment = {"dispatched": dispatched, "accepted": accepted, "resolved": resolved,
                              "verified": verified, "closed": closed if status == Status.CLOSED else None}[key]
                    if moment is None:
                        continue
                    events.append((pk, moment, actor[0] if actor else None, actor[1] if actor else "", kind, prev, to,
                                   "", True, empty))
                    prev = to
                if escalated is not None:
                    events.append((pk, escalated, None, "", "escalate", prev, prev, "", False, empty))
                if status in (Status.VOIDED, Status.MERGED):
                    events.append((pk, closed, dispatcher[0], dispatcher[1], "void_decide" if status == Status.VOIDED
                                   else "merge", prev, status, "", status == Status.MERGED, empty))
                if rated is not None:
                    events.append((pk, rated, chief[0] if callback else None, chief[1] if callback else name,
                                   "callback" if callback else "rate",
                                   status, status, "", True, _json({"satisfaction": satisfaction})))
            registry_data._copy(Appeal, APPEAL_COLUMNS, rows)
            registry_data._copy(AppealEvent, EVENT_COLUMNS, events)
            counts["appeals"] += len(rows)
            counts["events"] += len(events)
            log(f"appeals: {counts['appeals']:,} written, {counts['events']:,} events, "
                f"{time.perf_counter() - t0:.0f}s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                table = Appeal._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    if connection.vendor == "postgresql":  # the benchmark vacuums the tables before it measures (registry.vacuum)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Appeal._meta.db_table}")
            cursor.execute(f"ANALYZE {AppealEvent._meta.db_table}")
    log(f"roll-ups rebuilt: {rollup_rebuild()}")
    log(f"appeals built in {time.perf_counter() - t0:.1f}s")
    return counts
