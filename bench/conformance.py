"""Throughput of the procedure-conformance engine (``tandem/engines/evidence/conformance.py``).

Synthetic resolved requests of one service with a five-step procedure: most ticked in order,
some skipping or swapping a step, a few with a tick taken back. No database, no Django.

    .venv/bin/python bench/conformance.py                # 100,000 requests
    .venv/bin/python bench/conformance.py --requests 1000000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tandem.engines.evidence.conformance import RequestMarks, conformance

PROCEDURE = [101, 102, 103, 104, 105]


def requests(n: int, seed: int = 2026) -> list[RequestMarks]:
    rng = np.random.default_rng(seed)
    draws = rng.random((n, 3)).tolist()
    start = datetime(2026, 5, 1, tzinfo=UTC)
    out = []
    for i, (skip, where, swap) in enumerate(draws):
        order = list(PROCEDURE)
        if skip < 0.1:
            del order[int(where * len(order))]
        if swap < 0.05:
            j = int(where * (len(order) - 1))
            order[j], order[j + 1] = order[j + 1], order[j]
        marks = [(step, True, False) for step in order]
        if swap > 0.98:  # a tick taken back and made again
            marks[1:1] = [(order[0], False, False), (order[0], True, False)]
        out.append(RequestMarks(resolved=start + timedelta(minutes=13 * i), marks=marks))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = requests(args.requests)
    marks = sum(len(r.marks) for r in data)
    began = time.perf_counter()
    result = conformance(PROCEDURE, data)
    seconds = time.perf_counter() - began
    figures = {
        "requests": args.requests, "marks": marks, "seconds": round(seconds, 3),
        "requests_per_second": round(args.requests / seconds), "marks_per_second": round(marks / seconds),
        "share_following": round(result.share or 0.0, 4), "weeks": len(result.weeks),
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        print(f"{name:22} {value:,}" if isinstance(value, int) else f"{name:22} {value}")


if __name__ == "__main__":
    main()
