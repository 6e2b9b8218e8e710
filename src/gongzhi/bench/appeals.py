"""The appeals benchmark: filing, dispatch and accept through their actions, the scoped appeal list page,
the three rates and the dashboard payload, and the deadline sweep, over 1,000,000 appeals.

Each figure is the median of ``runs`` runs after two warm-up runs, and the lowest median of ``BLOCK``
consecutive runs (``registry.Timing``); the list cases are timed in turns. Page times
are measured around Django's test client (middleware, view, template; no network). Appeals the
benchmark files are removed afterwards, so it can run again on the same data.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from contextlib import contextmanager
from itertools import cycle

from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.core.access import Role
from gongzhi.appeals import actions, events
from gongzhi.appeals.models import OPEN_STATUSES, Appeal, AppealEvent, AppealFollower, Category, Channel, DueState, Status
from gongzhi.appeals.actions.sweep import SWEPT, sweep
from gongzhi.core.models import AuditEvent
from gongzhi.core.scoping import under
from gongzhi.dashboards import rollups
from gongzhi.dashboards.metrics import dashboard_payload, metrics
from gongzhi.dashboards.models import AppealFact, RollupQueue
from gongzhi.dashboards.rollups import rollup_rebuild
from gongzhi.orgs.models import NodeKind, OrgNode, Resident, UnitKind

from . import appeals_data
from .registry import BLOCK, Timing, _get, _interleaved_ms, _line, _median_ms, _user, machine_speed, vacuum

MARK = "基准测试"  # title prefix of the appeals the benchmark files, removed afterwards
TARGETS_MS = {"file": 5.0, "dispatch": 5.0, "accept": 5.0, "list": 20.0, "metrics": 50.0, "dashboard": 50.0}
SWEEP_TARGET_S = 10.0
_ROW = re.compile(rb'href="/appeals/(\d+)/"')


def _drop(root: OrgNode, log) -> None:
    """Remove the benchmark's appeals (the registry stays) with plain DELETEs: whatever points at them
    (timeline, photos, notices, ...) first, found from the model's relations."""
    from django.db.models import CASCADE

    log("dropping the old benchmark appeals ...")
    inside = Appeal.objects.filter(under(root.path))
    ids = inside.values("id")
    relations = [r for r in Appeal._meta.related_objects if r.related_model is not Appeal]
    for rel in relations:
        if rel.on_delete is not CASCADE:
            rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": ids}).update(**{rel.field.name: None})
    # Photos point at timeline events too: they go first.
    for rel in sorted(relations, key=lambda r: r.related_model.__name__ != "AppealPhoto"):
        if rel.on_delete is CASCADE:
            rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": ids})._raw_delete(Appeal.objects.db)
    AppealFact.objects.filter(appeal_id__in=ids)._raw_delete(Appeal.objects.db)
    inside.update(merged_into=None)
    inside._raw_delete(Appeal.objects.db)


def _remove_filed(log) -> None:
    """The appeals filed while measuring, and their roll-up counts (rebuilt for today)."""
    filed = Appeal.objects.filter(title__startswith=MARK)
    n = filed.count()
    filed.delete()
    rollup_rebuild(since=timezone.localdate() - dt.timedelta(days=1))
    RollupQueue.objects.all().delete()  # what it still held is in the rebuild
    log(f"removed the {n} appeals filed while measuring")


def run(*, appeals: int, residents: int, runs: int, rebuild: bool, markdown: str | None, sweep_runs: int = 3,
        log=print) -> dict:
    root = appeals_data.bench_root()
    if root is not None and rebuild:
        _drop(root, log)
    if root is None or not Appeal.objects.filter(under(root.path)).exists():
        log(f"building {appeals:,} appeals (once) ...")
        appeals_data.build(appeals=appeals, residents=residents, log=log)
        root = appeals_data.bench_root()
    inside = Appeal.objects.filter(under(root.path))
    size = inside.count()
    open_count = inside.filter(status__in=OPEN_STATUSES).count()
    overdue = inside.filter(due_state=DueState.OVERDUE, status__in=SWEPT).count()
    town = OrgNode.objects.filter(under(root.path, "path"), kind=NodeKind.SUBDISTRICT).order_by("path").first()
    community = OrgNode.objects.filter(under(town.path, "path"), kind=NodeKind.COMMUNITY).order_by("path")[3]
    grid = OrgNode.objects.filter(under(community.path, "path"), kind=NodeKind.GRID).order_by("path")[2]
    county_user = _user("bench_county", Role.COUNTY_ADMIN, root)
    town_user = _user("bench_town", Role.SUBDISTRICT_STAFF, town)
    community_user = _user("bench_community", Role.COMMUNITY_STAFF, community)
    grid_user = _user("bench_grid", Role.GRID_WORKER, grid)
    results: list[tuple[str, Timing, float | None, str]] = []

    def record(label, target, timing: Timing, note=""):
        results.append((label, timing, TARGETS_MS.get(target), note))
        log(_line(label, timing, note))

    vacuum(Appeal, AppealEvent, AppealFollower, AuditEvent, RollupQueue, AppealFact, log=log)
    speed = [machine_speed()]
    log(f"machine speed: {speed[0]:.2f} s for the fixed loop (about 0.3 s when the machine is quiet)")
    try:
        _actions(record, runs, grid, county_user, community_user, grid_user)
        _list_page(record, runs, root, town, community, county_user, town_user, community_user, grid_user)
        _api_list(record, runs, county_user, town_user, grid_user)
        _base_cost(record, runs, town_user)
        _figures(record, runs, root, town, community, grid, county_user)
    finally:
        _remove_filed(log)
    sweep_line = _sweep(sweep_runs, log)
    speed.append(machine_speed())
    report = _markdown(size, open_count, overdue, results, sweep_line, runs, speed)
    log(report)
    if markdown:
        with open(markdown, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    return {"results": results, "sweep": sweep_line, "appeals": size}


@contextmanager
def _no_listeners():
    """The actions alone, without their listeners (the roll-up queue row, the notification task): a
    diagnostic row that shows which part of an action's time is whose."""
    saved = list(events._listeners), list(events._in_transaction)
    events._listeners.clear()
    events._in_transaction.clear()
    try:
        yield
    finally:
        events._listeners.extend(saved[0])
        events._in_transaction.extend(saved[1])


def _actions(record, runs, grid, county_user, community_user, grid_user):
    garbage = Category.objects.get(code="garbage")
    it = cycle(Resident.objects.filter(under(grid.path)).order_by("id")[: 6 * (runs + 2)])

    def file_one(by=grid_user, channel=Channel.VISIT):
        return actions.appeal_file(by=by, category=garbage, title=f"{MARK}垃圾清运",
                                   description="基准测试：楼下垃圾桶满了没人清运", channel=channel, reporter=next(it))

    def measure(suffix, target):
        record(f"file an appeal (appeal_file: routing, deadlines, audit){suffix}", target,
               _median_ms(file_one, runs))
        # Dispatch and accept each need fresh appeals: filed beforehand, outside the timing.
        batch = [file_one(by=community_user, channel=Channel.WINDOW) for _ in range(runs + 2)]
        queue = iter(batch)
        record(f"dispatch (appeal_dispatch, community staff to a grid){suffix}", target,
               _median_ms(lambda: actions.appeal_dispatch(appeal=next(queue), by=community_user, to_node=grid), runs))
        queue = iter(batch)
        record(f"accept (appeal_accept, the grid worker){suffix}", target,
               _median_ms(lambda: actions.appeal_accept(appeal=next(queue), by=grid_user), runs))

    rollups.catch_up()
    measure("", "file")
    # What the worker (or the next figures read) then does for those actions: per queued change.
    queued = RollupQueue.objects.count()
    started = time.perf_counter()
    done = rollups.catch_up()
    per_change = (time.perf_counter() - started) * 1000 / max(done, 1)
    record(f"roll-up catch-up after those actions, per change ({done} changes, batches of "
           f"{rollups.CATCH_UP_BATCH})", None, Timing(per_change, per_change, 0, per_change), f"{queued} queued")
    with _no_listeners():
        measure(" - action alone, listeners off", None)


def _list_page(record, runs, root, town, community, county_user, town_user, community_user, grid_user):
    url = reverse("appeals:list")
    in_town = Appeal.objects.filter(under(town.path)).order_by("-submitted_at", "-id")
    sample = in_town[min(300, in_town.count() - 1)]
    garbage = Category.objects.get(code="garbage")
    department = in_town.filter(handler_unit__kind=UnitKind.DEPARTMENT).values_list("handler_unit", flat=True)[0]
    today = timezone.localdate()
    cases = [
        ("county admin, no filter", county_user, {}),
        ("subdistrict staff, no filter", town_user, {}),
        ("subdistrict staff, status accepted", town_user, {"status": Status.ACCEPTED}),
        ("subdistrict staff, overdue", town_user, {"due": DueState.OVERDUE}),
        ("subdistrict staff, category 垃圾清运", town_user, {"category": garbage.pk}),
        ("subdistrict staff, hotline, last 30 days", town_user,
         {"channel": Channel.HOTLINE, "date_from": today - dt.timedelta(days=29), "date_to": today}),
        ("subdistrict staff, one community", town_user, {"node": community.pk}),
        ("subdistrict staff, closed + category + community", town_user,
         {"status": Status.CLOSED, "category": garbage.pk, "node": community.pk}),
        ("subdistrict staff, number", town_user, {"q": sample.number}),
        ("subdistrict staff, text 垃圾", town_user, {"q": "垃圾"}),
        ("subdistrict staff, handled by a department", town_user, {"handler": f"u{department}"}),
        ("community staff, only mine to act on", community_user, {"mine": "1"}),
        ("grid worker, no filter", grid_user, {}),
    ]
    counts, fns, rows = [], [], []
    for _label, user, params in cases:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        rows.append(len(set(_ROW.findall(_get(client, url, params).content))))
        fns.append(lambda c=client, p=params: _get(c, url, p))
    for (label, _who, _params), n, timing in zip(cases, rows, _interleaved_ms(fns, runs)):
        counts.append(timing.queries)
        record(f"appeal list: {label}", "list", timing, f"{n} rows")
    # A later page through the keyset cursor.
    client = Client(HTTP_HOST="localhost")
    client.force_login(town_user)
    last = in_town[min(5000, in_town.count() - 30)]
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    params = {"after": f"{(last.submitted_at - epoch) // dt.timedelta(microseconds=1)}-{last.pk}"}
    timing = _median_ms(lambda: _get(client, url, params), runs)
    counts.append(timing.queries)
    record("appeal list: subdistrict staff, page 201 (keyset)", "list", timing,
           f"queries per page: {min(counts)}-{max(counts)}")


def _api_list(record, runs, county_user, town_user, grid_user):
    """The API's list (``GET /api/v1/appeals?limit=25``) as each kind of user, with a bearer token as scripts
    and the mobile app send it; the tokens are revoked afterwards."""
    from gongzhi.accounts.actions import token_create, token_revoke

    url = "/api/v1/appeals"
    cases = [("county admin", county_user), ("subdistrict staff", town_user), ("grid worker", grid_user)]
    made, fns, rows = [], [], []
    try:
        for _label, user in cases:
            token, raw = token_create(user=user, name="gongzhi bench appeals")
            made.append((token, user))
            client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
            rows.append(len(_get(client, url, {"limit": 25}).json()["items"]))
            fns.append(lambda c=client: _get(c, url, {"limit": 25}))
        for (label, _user), n, timing in zip(cases, rows, _interleaved_ms(fns, runs)):
            record(f"API appeal list (?limit=25, token): {label}", "list", timing, f"{n} rows")
    finally:
        for token, user in made:
            token_revoke(token=token, by=user)


def _base_cost(record, runs, user):
    """What every authenticated page pays before its own work (the middleware, the session, the user with their
    roles), and that plus the layout (header and menu), through two views of ``bench.baseline``."""
    from django.test import override_settings

    with override_settings(ROOT_URLCONF="gongzhi.bench.baseline"):
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        cases = [("session and user with roles through the middleware (empty answer)", "/__bench__/user/"),
                 ("that and the layout (header, menu), no content", "/__bench__/layout/")]
        fns = [lambda u=u: _get(client, u, {}) for _label, u in cases]
        for (label, _url), timing in zip(cases, _interleaved_ms(fns, runs)):
            record(f"base of any page, subdistrict staff: {label}", None, timing)


def _figures(record, runs, root, town, community, grid, county_user):
    today = timezone.localdate()
    period = {"date_from": today - dt.timedelta(days=29), "date_to": today}
    for label, node in (("county", root), ("subdistrict", town), ("community", community), ("grid", grid)):
        record(f"the rates (metrics), {label}, 30 days", "metrics",
               _median_ms(lambda n=node: metrics(user=county_user, node=n, **period), runs))
    for label, node in (("county", root), ("subdistrict", town)):
        record(f"dashboard payload, {label}, 30 days", "dashboard",
               _median_ms(lambda n=node: dashboard_payload(user=county_user, node=n, **period), runs))


def _sweep(runs: int, log):
    times, first = [], None
    for _ in range(max(1, runs)):
        t = time.perf_counter()
        counts = sweep()
        times.append(time.perf_counter() - t)
        first = first or counts
        log(f"deadline sweep over every appeal: {times[-1]:.2f} s {counts}")
    return statistics.median(times), first, len(times)


def _markdown(size, open_count, overdue, results, sweep_line, runs, speed) -> str:
    vendor = connection.vendor
    version = ""
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    lines = [
        f"### Appeals benchmark, {timezone.localdate()}: {size:,} appeals ({open_count:,} open, {overdue:,} unresolved "
        f"and overdue), {vendor} {version}, {runs} runs per case",
        "",
        f"Machine speed (`machine_speed`, about 0.3 s quiet): {speed[0]:.2f} s before, {speed[1]:.2f} s after.",
        "",
        f"| case | median ms, quietest {BLOCK} runs | median ms, all runs | p95 ms | queries | target ms | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, t, target, note in results:
        flag = "" if target is None or t.quiet < target else " **over target**"
        if target is not None and t.quiet < target <= t.median:
            flag = " (over target in the machine's slow stretches)"
        lines.append(f"| {label} | {t.quiet:.2f} | {t.median:.2f} | {t.p95:.2f} | {t.queries} | {target or ''} | "
                     f"{note}{flag} |")
    if sweep_line:
        seconds, counts, n = sweep_line
        flag = "" if seconds < SWEEP_TARGET_S else " **over target**"
        lines.append(f"| deadline sweep over all {size:,} appeals (median of {n}) | | {seconds * 1000:.0f} | | | "
                     f"{SWEEP_TARGET_S * 1000:.0f} | first run: {counts}{flag} |")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--residents", type=int, default=1_000_000, help="registry size to build (default 1,000,000)")
    parser.add_argument("--appeals", type=int, default=1_000_000, help="appeals to build (default 1,000,000)")
    parser.add_argument("--sweep-runs", type=int, default=3, help="timed deadline sweeps (median reported)")


def main(opts: dict, log) -> dict:
    """``gongzhi bench appeals``: 1,000,000 appeals (built once); filing, dispatch, accept, the list, the rates,
    the dashboard and the deadline sweep."""
    return run(appeals=opts["appeals"], residents=opts["residents"], runs=opts["runs"], rebuild=opts["rebuild"],
               markdown=opts["markdown"], sweep_runs=opts["sweep_runs"], log=log)
