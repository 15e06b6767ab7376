"""How long the demo takes to build, phase by phase, and how far it scales.

Builds the demo organisation and its simulated history into a fresh SQLite file (a temporary
folder unless ``--data-dir`` is given) and prints the seconds of each phase (migrate,
simulation, organisation, history load, total), the row counts, the database size and the
peak memory. ``--requests N`` scales the history to about N service requests over the same
weeks (arrivals x k and every agent k x faster, so queues keep their shape): the database for
the 1,000,000-request latency benchmark (``bench/list_latency.py``).

    python bench/demo_build.py                      # the demo, as `tandem demo` builds it
    python bench/demo_build.py --requests 1000000 --data-dir /tmp/tandem-1m
    TANDEM_DATABASE_URL=postgres://… python bench/demo_build.py --requests 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=26, help="weeks of history (default 26)")
    parser.add_argument("--seed", type=int, default=2026, help="simulation seed (default 2026)")
    parser.add_argument("--requests", type=int, default=0,
                        help="scale the history to about this many requests (default: the demo's)")
    parser.add_argument("--end", default="", help="the history's 'now', ISO (default: now)")
    parser.add_argument("--data-dir", default="",
                        help="build into this TANDEM_DATA_DIR and keep it (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args()


def main() -> None:
    args = parse()
    keep = bool(args.data_dir)
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="tandem-bench-"))
    os.environ["TANDEM_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from tandem.demo.load import build_demo, database_is_empty
    from tandem.demo.organisation import demo_organisation
    from tandem.engines.history import Params, simulate

    end = datetime.fromisoformat(args.end.replace("Z", "+00:00")) if args.end else datetime.now(UTC)
    end = end.replace(microsecond=0)
    try:
        began = time.perf_counter()
        call_command("migrate", verbosity=0)
        migrate = time.perf_counter() - began
        if not database_is_empty():
            name = connection.settings_dict["NAME"]
            sys.exit(f"The database {name} is not empty; give an empty one.")
        scale = 1.0
        if args.requests:
            # A pilot run at the demo's size tells how many requests one unit of scale makes.
            org = demo_organisation(end.date(), args.weeks, args.seed).engine()
            pilot = len(simulate(org, Params(end=end, weeks=args.weeks, seed=args.seed)).requests)
            scale = args.requests / pilot
        summary = build_demo(seed=args.seed, weeks=args.weeks, end=end, scale=scale,
                             report=None if args.json else print)
        total = migrate + sum(summary.seconds.values())
        db = settings.DATABASES["default"]
        size = 0
        if connection.vendor == "sqlite":
            path = Path(str(db["NAME"]))
            size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures = {
            "database": connection.vendor, "weeks": args.weeks, "seed": args.seed,
            "scale": round(scale, 3),
            "seconds": {"migrate": round(migrate, 2),
                        **{k: round(v, 2) for k, v in summary.seconds.items()},
                        "total": round(total, 2)},
            "counts": summary.counts, "database_mib": round(size / 2**20, 1),
            "peak_memory_mib": round(peak_mib), "data_dir": str(data_dir) if keep else None,
        }
        if args.json:
            print(json.dumps(figures, indent=2))
            return
        print()
        temporary = connection.vendor == "sqlite" and not keep
        print(f"database   {connection.vendor} {db['NAME']}" + (" (temporary)" if temporary else ""))
        for phase, seconds in figures["seconds"].items():
            print(f"{phase:<13}{seconds:>9.2f} s")
        for name, count in summary.counts.items():
            print(f"{name:<13}{count:>11,}")
        if size:
            print(f"{'size':<13}{size / 2**20:>9.1f} MiB")
        print(f"{'peak memory':<13}{peak_mib:>9.0f} MiB")
    finally:
        if not keep:
            connection.close()
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
