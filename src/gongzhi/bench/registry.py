"""The registry benchmark: scoped resident list page, search by ID hash, 100,000-row import.

Server time is measured around Django's test client (middleware, view, template; no network).
Each figure is the median of ``runs`` runs after two warm-up runs; query counts are recorded
per case so a growing count shows up.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
import time
from typing import NamedTuple

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.actions import role_assign
from gongzhi.accounts.models import User
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.pii import id_check_char
from gongzhi.orgs import selectors
from gongzhi.orgs.models import CareTag, Household, NodeKind, OrgNode, Resident

from . import registry_data

TARGETS_MS = {"list": 20.0, "search": 5.0}
IMPORT_TARGET_S = 60.0


def _bench_root() -> OrgNode | None:
    return OrgNode.objects.filter(depth=1, code="BENCH").first()


def _drop(root: OrgNode, log) -> None:
    """Remove what ``registry_data.build`` and this benchmark made under the benchmark root."""
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.core.models import ImportJob
    from gongzhi.orgs.models import CareTag, Household

    log("dropping the old benchmark tree ...")
    inside = {"org_path__startswith": root.path}
    CareTag.objects.filter(**inside).delete()
    Household.objects.filter(**inside).update(head=None)
    Resident.objects.filter(**inside).delete()
    Household.objects.filter(**inside).delete()
    RoleAssignment.objects.filter(**inside).delete()
    ImportJob.objects.filter(**inside).delete()
    OrgNode.objects.filter(path__startswith=root.path).delete()


def _user(username: str, role: str, node: OrgNode) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"display_name": username})
    if created:
        user.set_unusable_password()
        user.save()
    role_assign(user=user, role=role, node=node, by=SYSTEM)
    return User.objects.get(pk=user.pk)


BLOCK = 10  # runs per block for the "quiet" figure


class Timing(NamedTuple):
    """A case's figures: the median and 95th percentile of all runs, the queries of the last run, and the
    lowest median of a block of ``BLOCK`` consecutive runs (the machine's quietest stretch: a shared
    virtual machine has slower stretches that last minutes, see ``machine_speed``)."""

    median: float
    p95: float
    queries: int
    quiet: float


def _timing(times: list[float], queries: int) -> Timing:
    ordered = sorted(times)
    blocks = [statistics.median(times[i:i + BLOCK]) for i in range(0, len(times) - BLOCK + 1, BLOCK)]
    median = statistics.median(ordered)
    return Timing(median, ordered[max(0, int(len(ordered) * 0.95) - 1)], queries, min(blocks, default=median))


def _median_ms(fn, runs: int) -> Timing:
    """``fn`` timed ``runs`` times after two warm-up runs."""
    return _interleaved_ms([fn], runs)[0]


def _interleaved_ms(fns: list, runs: int) -> list[Timing]:
    """Several cases timed in turns (one run of each, then the next round), so a stretch when the machine
    is slower falls on every case alike instead of on whichever ran then."""
    for fn in fns:
        for _ in range(2):
            fn()
    times: list[list[float]] = [[] for _ in fns]
    queries = [0] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                fn()
                times[i].append((time.perf_counter() - t) * 1000)
            queries[i] = len(ctx.captured_queries)
    return [_timing(case_times, n) for case_times, n in zip(times, queries)]


def _line(label: str, t: Timing, note: str = "") -> str:
    return (f"{label:60s} median {t.median:6.2f} ms (quiet {t.quiet:6.2f})  p95 {t.p95:6.2f} ms  "
            f"{t.queries} queries  {note}")


def vacuum(*models, log=print) -> None:
    """VACUUM (ANALYZE) the tables measured, as autovacuum keeps them in service: earlier runs leave the rows
    they filed and removed behind, and a server may run with autovacuum off (the development machines'
    does). PostgreSQL only, outside a transaction."""
    if connection.vendor != "postgresql" or not connection.get_autocommit():
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    log(f"vacuumed {len(models)} tables in {time.perf_counter() - started:.1f} s")


def machine_speed() -> float:
    """Seconds for a fixed piece of pure Python (ten million additions): printed beside the figures so runs
    on a slower or busier machine can be told apart (about 0.3 s on this project's quiet 2-core machines,
    0.5 s in their slow stretches)."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def _get(client: Client, url: str, params: dict):
    response = client.get(url, params)
    if response.status_code != 200:
        raise RuntimeError(f"{url} {params} answered {response.status_code}")
    return response


def _import_file(rows: int, grids: list[OrgNode]) -> bytes:
    """A 100,000-row registry workbook of new people, in the template's columns."""
    from gongzhi.core import excel
    from gongzhi.orgs.imports import COLUMNS

    wb = excel.workbook(write_only=True)
    ws = wb.create_sheet("居民")
    ws.append([c.header for c in COLUMNS])
    base = dt.date(1940, 1, 1)
    for i in range(rows):
        grid = grids[i % len(grids)]
        birth = base + dt.timedelta(days=i % 25000)
        first17 = "511824" + birth.strftime("%Y%m%d") + f"{(i // 25000) % 1000:03d}"
        house = i // 3
        values = {
            "grid": grid.code, "address": f"导入测试{grid.code}区{house}号", "name": "导入" + "甲乙丙丁戊己庚辛"[i % 8],
            "id_number": first17 + id_check_char(first17), "phone": f"15{i:09d}",
            "relation": "户主" if i % 3 == 0 else "其他", "residency": "户籍", "ethnicity": "汉族", "party": "否",
            "care_groups": "高龄" if birth.year < 1946 else "",
        }
        ws.append([values.get(c.key, "") for c in COLUMNS])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _remove_imported() -> None:
    """Leave the registry as it was, so the benchmark can run again."""
    from gongzhi.orgs.models import CareTag, Household

    CareTag.objects.filter(resident__household__address__startswith="导入测试").delete()
    Resident.objects.filter(household__address__startswith="导入测试").delete()
    Household.objects.filter(address__startswith="导入测试").delete()


def run(*, residents: int, runs: int, import_rows: int, rebuild: bool, markdown: str | None, log=print) -> dict:
    root = _bench_root()
    if root is not None and rebuild:
        _drop(root, log)
        root = None
    if root is None:
        log(f"building a registry of {residents:,} residents (once) ...")
        built = registry_data.build(residents=residents, log=log)
        root = _bench_root()
        log(f"built: {built}")
    vacuum(Resident, CareTag, Household, OrgNode, log=log)
    speed = [machine_speed()]
    log(f"machine speed: {speed[0]:.2f} s for the fixed loop (about 0.3 s when the machine is quiet)")
    size = Resident.objects.filter(org_path__startswith=root.path).count()
    town = OrgNode.objects.filter(path__startswith=root.path, kind=NodeKind.SUBDISTRICT).order_by("path").first()
    community = OrgNode.objects.filter(path__startswith=town.path, kind=NodeKind.COMMUNITY).order_by("path")[3]
    grid = OrgNode.objects.filter(path__startswith=community.path, kind=NodeKind.GRID).order_by("path")[2]
    county_user = _user("bench_county", Role.COUNTY_ADMIN, root)
    town_user = _user("bench_town", Role.SUBDISTRICT_STAFF, town)
    grid_user = _user("bench_grid", Role.GRID_WORKER, grid)
    results: list[tuple[str, float, float, int, str]] = []

    url = reverse("orgs:residents")
    in_community = Resident.objects.filter(org_path__startswith=community.path).order_by("id")
    sample = in_community[min(500, in_community.count() - 1)]  # min(): tiny sizes in the smoke test
    cases = [
        ("county admin, no filter (all residents)", county_user, {}),
        ("subdistrict staff, no filter", town_user, {}),
        ("subdistrict staff, care group 高龄", town_user, {"care_group": "advanced_age"}),
        ("subdistrict staff, care group 退役军人 (rare)", town_user, {"care_group": "veteran"}),
        ("subdistrict staff, floating residents", town_user, {"residency": "floating"}),
        ("subdistrict staff, age 60-70, female", town_user, {"age_min": 60, "age_max": 70, "gender": "F"}),
        ("subdistrict staff, one community", town_user, {"node": community.pk}),
        ("subdistrict staff, residency + care group + community",
         town_user, {"node": community.pk, "residency": "registered", "care_group": "veteran"}),
        ("subdistrict staff, pinyin initials", town_user, {"q": sample.name_initials[:2]}),
        ("subdistrict staff, name", town_user, {"q": sample.name}),
        ("subdistrict staff, ID number (hash)", town_user, {"q": sample.reveal_id_number()}),
        ("grid worker, no filter", grid_user, {}),
    ]
    fns, rows = [], []
    for _label, user, params in cases:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        rows.append(_get(client, url, params).content.count(b'href="/registry/resident/'))
        fns.append(lambda c=client, p=params: _get(c, url, p))
    for (label, _who, _params), n, timing in zip(cases, rows, _interleaved_ms(fns, runs)):
        results.append((f"resident list: {label}", timing, f"{n} rows"))
        log(_line(label, timing, f"{n} rows"))
    # The next page through the keyset cursor.
    client = Client(HTTP_HOST="localhost")
    client.force_login(town_user)
    in_town = Resident.objects.filter(org_path__startswith=town.path).order_by("org_path", "id")
    last = in_town[min(5000, in_town.count() - 30)]
    params = {"after": f"{last.org_path}-{last.pk}"}
    timing = _median_ms(lambda: _get(client, url, params), runs)
    results.append(("resident list: subdistrict staff, page 201 (keyset)", timing, ""))
    log(_line("page 201 via cursor", timing))

    # Search by ID hash: the selector the search box and the API use.
    numbers = [r.reveal_id_number() for r in Resident.objects.filter(org_path__startswith=town.path).order_by("?")[:runs + 2]]
    it = iter(numbers * 3)

    def search_once():
        found = list(selectors.residents(town_user).filter(selectors.search_q(next(it))))
        assert len(found) == 1

    timing = _median_ms(search_once, runs)
    results.append(("search by ID number (keyed hash), subdistrict scope", timing, ""))
    log(_line("search by ID hash", timing))

    import_line = None
    if import_rows:
        from gongzhi.orgs.imports import import_start, run_import

        grids = list(OrgNode.objects.filter(path__startswith=town.path, kind=NodeKind.GRID).order_by("path")[:40])
        log(f"writing a {import_rows:,}-row workbook ...")
        content = _import_file(import_rows, grids)
        upload = SimpleUploadedFile("bench.xlsx", content)
        from django.test import override_settings

        # The job runs here, as the task worker would run it (no worker may take it first).
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
            t = time.perf_counter()
            job = import_start(by=county_user, node=root, upload=upload, mode="all")
            run_import(job.pk)
            seconds = time.perf_counter() - t
        job.refresh_from_db()
        import_line = (seconds, job)
        log(f"import of {import_rows:,} rows: {seconds:.1f} s, status {job.status}, created {job.created}, "
            f"errors {job.errors}: {job.message}")
        _remove_imported()

    reset_queries()
    speed.append(machine_speed())
    report = _markdown(size, results, import_rows, import_line, runs, speed)
    log(report)
    if markdown:
        with open(markdown, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")
    return {"results": results, "import": import_line}


def _markdown(size, results, import_rows, import_line, runs, speed) -> str:
    vendor = connection.vendor
    version = ""
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    lines = [
        f"### Registry benchmark, {timezone.localdate()}: {size:,} residents, {vendor} {version}, {runs} runs per case",
        "",
        f"Machine speed (`machine_speed`, about 0.3 s quiet): {speed[0]:.2f} s before, {speed[1]:.2f} s after.",
        "",
        f"| case | median ms, quietest {BLOCK} runs | median ms, all runs | p95 ms | queries | note |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, t, note in results:
        lines.append(f"| {label} | {t.quiet:.2f} | {t.median:.2f} | {t.p95:.2f} | {t.queries} | {note} |")
    if import_line:
        seconds, job = import_line
        lines.append(f"| import of {import_rows:,} rows (xlsx, all or nothing) | | {seconds * 1000:.0f} | | | "
                     f"{seconds:.1f} s, {job.created:,} created, status {job.status} |")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--residents", type=int, default=1_000_000, help="registry size to build (default 1,000,000)")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows in the import file (default 100,000)")
    parser.add_argument("--skip-import", action="store_true", help="skip the import measurement")


def main(opts: dict, log) -> dict:
    """``gongzhi bench registry``: 1,000,000 residents (built once); list, search and import."""
    return run(residents=opts["residents"], runs=opts["runs"], import_rows=0 if opts["skip_import"] else opts["import_rows"],
               rebuild=opts["rebuild"], markdown=opts["markdown"], log=log)
