"""Time the demo county generator: a fresh SQLite file in a temp folder, migrate, generate, print seconds and counts.

    .venv/bin/python benchmarks/demo_generate.py [--scale 1.0] [--seed 1] [--postgres URL]

With --postgres the database at URL (which must exist and be empty) is used instead of SQLite.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database instead of SQLite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gongzhi-bench-") as data_dir:
        os.environ["GONGZHI_DATA_DIR"] = data_dir
        os.environ.pop("DATABASE_URL", None)
        if args.postgres:
            os.environ["DATABASE_URL"] = args.postgres
        os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings"
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from gongzhi.orgs.demo import generate

        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        counts = generate(seed=args.seed, scale=args.scale)
        seconds = time.perf_counter() - started
        print(f"demo county generated in {seconds:.2f} s on {connection.vendor} (scale {args.scale}, seed {args.seed})")
        print(json.dumps(counts, indent=2))
        connection.close()


if __name__ == "__main__":
    main()
