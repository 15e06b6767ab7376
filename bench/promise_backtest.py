"""Backtest of backlog-aware promises on the demo organisation's history.

Builds the demo into a fresh SQLite file (or reuses ``--data-dir``), then quotes every request
of the last ``--weeks`` weeks as at its submission, from what was known then, and prints per
unit and overall: the share of promises kept (target: the confidence ± 4 points), beside the
share kept by "submission + published turnaround", and the mean quote lengths where the queue
was short (load at or below the median) and long.

    python bench/promise_backtest.py
    python bench/promise_backtest.py --data-dir /tmp/tandem-demo --weeks 8 --confidence 85 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _demo import open_demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="", help="TANDEM_DATA_DIR with a demo (built when empty)")
    parser.add_argument("--weeks", type=int, default=8, help="weeks quoted, at the end of the history (default 8)")
    parser.add_argument("--confidence", type=int, default=85, help="per cent (default 85)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    open_demo(args.data_dir, "tandem-backtest-")
    from django.utils import timezone

    from tandem.promises.backtest import backtest, summary
    from tandem.work.models import ServiceRequest
    end = ServiceRequest.objects.order_by("-submitted_at").values_list("submitted_at", flat=True).first() or (
        timezone.now()
    )
    began = time.perf_counter()
    outcomes = backtest(weeks=args.weeks, end=end, confidence=args.confidence)
    seconds = time.perf_counter() - began
    overall = summary(outcomes)
    per_unit = {name: summary({name: o}) for name, o in outcomes.items() if o.quotes}
    if args.json:
        print(json.dumps({"overall": overall, "units": per_unit, "seconds": seconds}, indent=2))
        return
    print(f"{'unit':<28}{'quotes':>8}{'kept':>8}{'turnaround kept':>17}{'quote h':>9}{'turnaround h':>14}")
    for name, s in per_unit.items():
        print(f"{name:<28}{s['quotes']:>8}{s['kept_share']:>8.1%}{s['kept_share_turnaround']:>17.1%}"
              f"{s['mean_quote_hours']:>9.1f}{s['mean_turnaround_hours']:>14.1f}")
    s = overall
    print(f"{'all':<28}{s['quotes']:>8}{s['kept_share']:>8.1%}{s['kept_share_turnaround']:>17.1%}"
          f"{s['mean_quote_hours']:>9.1f}{s['mean_turnaround_hours']:>14.1f}")
    print(f"short queues: quote {s['short_queue_mean_quote_hours']:.1f} h vs turnaround "
          f"{s['short_queue_mean_turnaround_hours']:.1f} h; long queues: quote "
          f"{s['long_queue_mean_quote_hours']:.1f} h vs turnaround {s['long_queue_mean_turnaround_hours']:.1f} h")
    print(f"{overall['from_history']} of {overall['quotes']} quotes from history; {seconds:.1f} s")


if __name__ == "__main__":
    main()
