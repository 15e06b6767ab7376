"""Crash without loss, at size: clients submit with idempotency keys to gunicorn while the server
is killed with SIGKILL at seeded random moments and restarted, and the worker is killed half-way
through a round of breaches; afterwards the same checks as tests/test_crash.py.

    .venv/bin/python bench/crash.py                              # SQLite, 2,000 submissions, 10 kills
    TANDEM_DATABASE_URL=postgres://... .venv/bin/python bench/crash.py
    .venv/bin/python bench/crash.py --submissions 5000 --kills 20 --json

On PostgreSQL the run creates its own databases on that server (a migrated template and a copy)
and drops them at the end; on SQLite it works in a temporary folder.

Figures: submissions acknowledged, lost (acknowledged, not stored), doubled (one key stored
twice), attempts and what the failed ones met (dropped connections, 5xx), replays (a retry of a
submission that had been stored before the crash, answered 200 with the same request), restart
times (SIGKILL to the first answer of the new server), throughput between kills, breaches
logged and told once, verify-audit's verdict.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import crashload
from tests.stack import Stack, Template


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10, help="server kills (default 10)")
    parser.add_argument("--overdue", type=int, default=300, help="breached requests for the worker (default 300)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tandem-crash-") as folder:
        began = time.monotonic()
        template = Template.create(Path(folder) / "template")
        stack = Stack(template, Path(folder) / "stack")
        try:
            seed = stack.inside("seed", overdue=args.overdue)
            result = crashload.run(
                stack, seed, submissions=args.submissions, server_kills=args.kills, clients=args.clients,
                rng_seed=args.seed, workers=args.workers, give_up_after=3600, kill_gap=(1.0, 5.0),
            )
            report = stack.inside("report")
        finally:
            stack.close()
            template.close()
        problems = crashload.check(report, result, seed)
        untold = crashload.missing_breach_notifications(report, seed)
        stored = [k for k in report["keys"] if k.startswith("crash-")]
        figures = {
            "database": template.vendor,
            "submissions": args.submissions,
            "acknowledged": len(result.acknowledged),
            "lost": len(set(result.acknowledged) - set(stored)),
            "doubled": len(report["duplicated_keys"]),
            "attempts": result.attempts,
            "dropped": result.dropped,
            "server_errors": result.server_errors,
            "refused": len(result.refused),
            "replays": result.replays,
            "server_kills": result.server_kills,
            "restart_seconds_median": round(statistics.median(result.restart_seconds), 2)
            if result.restart_seconds else None,
            "restart_seconds_max": round(max(result.restart_seconds), 2) if result.restart_seconds else None,
            "load_seconds": round(result.seconds, 1),
            # Over the whole load, restarts included.
            "acknowledged_per_second": round(len(result.acknowledged) / result.seconds, 1) if result.seconds else None,
            "worker_killed_after_breaches": result.worker_killed_at,
            "overdue": args.overdue,
            "breaches_untold": len(untold),
            "notifications_doubled": len(report["duplicated_notifications"]),
            "audit_ok": bool(report["audit"].get("ok")),
            "audit_events": report["audit"].get("events"),
            "problems": problems,
            "total_seconds": round(time.monotonic() - began, 1),
        }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>30}: {value}")
        print("OK: nothing acknowledged was lost or doubled" if not problems and not untold else "FAILED")
    return 0 if not problems and not untold else 1


if __name__ == "__main__":
    raise SystemExit(main())
