"""Remaining-time promises on the three shared logs: ``tandem promise evaluate --json`` on each, one table.

    .venv/bin/python bench/promise_eval.py                 # /work/shared/data/*.xes.gz
    .venv/bin/python bench/promise_eval.py --data DIR --markdown

Each log is evaluated by the console command in a subprocess (the public surface), with the
published protocol (docs/promises.md): first 80 % of cases by first event to fit, last 20 % to test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = {
    "Helpdesk.xes.gz": ("Helpdesk", 4.50, "4.80 GGNN"),
    "BPI_Challenge_2012_W.xes.gz": ("BPIC 2012 W", 5.50, "5.86"),
    "env_permit.xes.gz": ("env permit", 1.35, "1.46"),
}


def evaluate(path: Path) -> dict:
    r = subprocess.run([sys.executable, "-m", "tandem.cli", "promise", "evaluate", "--log", str(path), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=900)
    if r.returncode:
        raise SystemExit(f"{path}: exit {r.returncode}\n{r.stderr}")
    return json.loads(r.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    head = ["log", "test prefixes", "MAE P50 (d)", "target", "best published", "global median", "median by k",
            "P80 hit", "P90 hit", "P80 quote (d)", "P90 quote (d)", "fit (s)", "predictions/s"]
    rows = []
    for name, (label, target, best) in LOGS.items():
        path = args.data / name
        if not path.is_file():
            print(f"skipped {path}: not there", file=sys.stderr)
            continue
        f = evaluate(path)
        b = f["baselines"]
        rows.append([label, f"{f['test_prefixes']:,}", f"{f['mae_days']:.2f}", f"≤ {target:.2f}", best,
                     f"{b['global_median_mae_days']:.2f}", f"{b['median_by_prefix_length_mae_days']:.2f}",
                     f"{f['hit_rate_p80']:.1%}", f"{f['hit_rate_p90']:.1%}", f"{f['mean_quote_days_p80']:.2f}",
                     f"{f['mean_quote_days_p90']:.2f}", f"{f['fit_seconds']:.1f}",
                     f"{f['predictions_per_second']:,.0f}"])
        print(f"{label}: {json.dumps({k: v for k, v in f.items() if k != 'model'})}", file=sys.stderr)
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    for line in [head, *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
