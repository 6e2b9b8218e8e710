"""``gongzhi bench SUITE``: build a large data set (PostgreSQL) and measure its hot paths.

The suites are registered with ``core.parts.bench_suite`` (``registry``, ``appeals``, and any an app adds);
each adds its own options."""

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core import parts


class Command(BaseCommand):
    help = ("Benchmarks: `gongzhi bench SUITE --help` for a suite's options. `registry` builds 1,000,000 residents "
            "(once) and measures list, search and import; `appeals` adds 1,000,000 appeals (once) and measures "
            "filing, dispatch, accept, the appeal list (page and API), the rates, the dashboard and the deadline sweep; "
            "`load` runs `gongzhi serve` on that data and measures it under 16 and 64 concurrent clients.")

    def add_arguments(self, parser):
        suites = parts.bench_suites()
        sub = parser.add_subparsers(dest="suite", required=True, metavar="SUITE")
        for name, suite in suites.items():
            module = suite.load()
            p = sub.add_parser(name, help=(module.main.__doc__ or "").strip().splitlines()[0] if module.main.__doc__ else None)
            p.add_argument("--runs", type=int, default=50, help="timed runs per measurement (median reported)")
            p.add_argument("--rebuild", action="store_true", help="drop the benchmark data and build it again")
            p.add_argument("--allow-sqlite", action="store_true", help="run on SQLite anyway (figures not comparable)")
            p.add_argument("--markdown", help="append the result table to this file")
            if hasattr(module, "add_arguments"):
                module.add_arguments(p)

    def handle(self, *args, **opts):
        from django.db import connection

        if connection.vendor != "postgresql" and not opts["allow_sqlite"]:
            raise CommandError(f"The {opts['suite']} benchmark targets PostgreSQL: set DATABASE_URL "
                               "(or pass --allow-sqlite).")
        module = parts.bench_suites()[opts["suite"]].load()
        module.main(opts, self.stdout.write)
