"""Throughput of the working-time engine: scalar and vectorised ``add`` / ``between``.

A realistic UK office calendar (England's bank holidays, Monday to Friday 09:00-12:30 and
13:30-17:30, a half day on Christmas Eve), random instants over 2024-2026 and random
durations of up to ten working days. No database, no Django.

    .venv/bin/python bench/worktime.py            # figures beside the targets
    .venv/bin/python bench/worktime.py --json     # the same as JSON on stdout

Targets (issue 3): >= 1,000,000 vectorised operations/s, >= 100,000 scalar operations/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tandem.engines.worktime import CalendarSpec, WorkingCalendar

SCALAR_TARGET = 100_000
VECTOR_TARGET = 1_000_000
DAY = int(7.5 * 3600)

UK_OFFICE = CalendarSpec.create(
    tz="Europe/London",
    weekly={d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(5)},
    country="GB",
    subdivision="ENG",
    closures={f"{y}-12-24": [("00:00", "12:30")] for y in range(2023, 2028)},
)


def best_rate(run: Callable[[], object], ops: int, repeat: int) -> float:
    """Operations per second: the median of ``repeat`` timed runs (the machine is shared)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return ops / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scalar", type=int, default=200_000, help="scalar calls per run")
    parser.add_argument("--vector", type=int, default=1_000_000, help="array length")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    rng = np.random.default_rng(20240601)
    lo = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    hi = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())

    start = time.perf_counter()
    WorkingCalendar(UK_OFFICE, years=(2024, 2027))
    build_3y = time.perf_counter() - start
    start = time.perf_counter()
    WorkingCalendar(UK_OFFICE, years=(2000, 2041))
    build_41y = time.perf_counter() - start

    cal = WorkingCalendar(UK_OFFICE, years=(2023, 2029))  # built before timing
    a = rng.integers(lo, hi, args.vector, dtype=np.int64)
    b = rng.integers(lo, hi, args.vector, dtype=np.int64)
    d = rng.integers(0, 10 * DAY, args.vector, dtype=np.int64)

    n = args.scalar
    sa, sb, sd = a[:n].tolist(), b[:n].tolist(), d[:n].tolist()
    da = [datetime.fromtimestamp(x, UTC) for x in sa]
    db = [datetime.fromtimestamp(x, UTC) for x in sb]
    between, add = cal.between, cal.add

    figures = {
        "scalar between, epoch seconds": best_rate(
            lambda: [between(x, y) for x, y in zip(sa, sb, strict=True)], n, args.repeat
        ),
        "scalar add, epoch seconds": best_rate(
            lambda: [add(x, s) for x, s in zip(sa, sd, strict=True)], n, args.repeat
        ),
        "scalar between, datetimes": best_rate(
            lambda: [between(x, y) for x, y in zip(da, db, strict=True)], n, args.repeat
        ),
        "scalar add, datetimes": best_rate(
            lambda: [add(x, s) for x, s in zip(da, sd, strict=True)], n, args.repeat
        ),
        "vectorised between_many": best_rate(
            lambda: cal.between_many(a, b), args.vector, args.repeat
        ),
        "vectorised add_many": best_rate(lambda: cal.add_many(a, d), args.vector, args.repeat),
    }
    # The answers are checked, not only timed: the vectorised forms equal the scalar ones.
    assert cal.between_many(a[:1000], b[:1000]).tolist() == [
        between(x, y) for x, y in zip(sa[:1000], sb[:1000], strict=True)
    ]
    assert cal.add_many(a[:1000], d[:1000]).tolist() == [
        add(x, s) for x, s in zip(sa[:1000], sd[:1000], strict=True)
    ]

    machine = {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "holidays": version("holidays"),
    }
    table = cal.years
    result = {
        "machine": machine,
        "calendar": "Europe/London, GB-ENG holidays, Mon-Fri 09:00-12:30 + 13:30-17:30",
        "intervals": cal.interval_count,
        "years": table,
        "build_seconds": {"3 years": round(build_3y, 4), "41 years": round(build_41y, 4)},
        "ops_per_second": {k: round(v) for k, v in figures.items()},
        "targets": {"scalar": SCALAR_TARGET, "vectorised": VECTOR_TARGET},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"machine: {machine['cpu_count']} CPUs ({machine['machine']}), Python {machine['python']}, "
        f"numpy {machine['numpy']}, holidays {machine['holidays']}"
    )
    if table:
        span = f"{table[0]}-{table[1] - 1}"
        print(f"calendar: {result['calendar']}; {cal.interval_count} intervals for {span}")
    print(f"build: 3 years {build_3y * 1000:.1f} ms, 41 years {build_41y * 1000:.1f} ms")
    print(
        f"scalar runs of {n:,} calls, vectorised arrays of {args.vector:,}; median of {args.repeat}"
    )
    for name, rate in figures.items():
        target = VECTOR_TARGET if name.startswith("vectorised") else SCALAR_TARGET
        mark = "ok" if rate >= target else "BELOW TARGET"
        print(f"  {name:<32} {rate:>14,.0f} ops/s   target {target:>9,}  {mark}")


if __name__ == "__main__":
    main()
