"""``gongzhi bench registry|appeals``: build a large data set (PostgreSQL) and measure its hot paths."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Benchmarks. `gongzhi bench registry` builds 1,000,000 residents (once) and measures list, search and "
            "import; `gongzhi bench appeals` adds 1,000,000 appeals (once) and measures filing, dispatch, accept, "
            "the appeal list, the rates, the dashboard and the deadline sweep.")

    def add_arguments(self, parser):
        parser.add_argument("suite", choices=["registry", "appeals"])
        parser.add_argument("--residents", type=int, default=1_000_000, help="registry size to build (default 1,000,000)")
        parser.add_argument("--appeals", type=int, default=1_000_000, help="appeals to build (default 1,000,000)")
        parser.add_argument("--runs", type=int, default=50, help="timed runs per measurement (median reported)")
        parser.add_argument("--sweep-runs", type=int, default=3, help="timed deadline sweeps (median reported)")
        parser.add_argument("--import-rows", type=int, default=100_000, help="rows in the import file (default 100,000)")
        parser.add_argument("--skip-import", action="store_true", help="skip the import measurement")
        parser.add_argument("--rebuild", action="store_true", help="drop the benchmark data and build it again")
        parser.add_argument("--allow-sqlite", action="store_true", help="run on SQLite anyway (figures not comparable)")
        parser.add_argument("--markdown", help="append the result table to this file")

    def handle(self, *args, **opts):
        from django.db import connection

        if connection.vendor != "postgresql" and not opts["allow_sqlite"]:
            raise CommandError(f"The {opts['suite']} benchmark targets PostgreSQL: set DATABASE_URL "
                               "(or pass --allow-sqlite).")
        if opts["suite"] == "appeals":
            from gongzhi.core.bench import appeals

            appeals.run(
                appeals=opts["appeals"], residents=opts["residents"], runs=opts["runs"], rebuild=opts["rebuild"],
                markdown=opts["markdown"], sweep_runs=opts["sweep_runs"], log=self.stdout.write,
            )
            return
        from gongzhi.core.bench import registry

        registry.run(
            residents=opts["residents"], runs=opts["runs"], import_rows=0 if opts["skip_import"] else opts["import_rows"],
            rebuild=opts["rebuild"], markdown=opts["markdown"], log=self.stdout.write,
        )
