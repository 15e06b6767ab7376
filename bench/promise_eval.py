"""Remaining-time promises on the three shared logs: ``tandem promise evaluate --json`` on each, one table.

    .venv/bin/python bench/promise_eval.py                 # /work/shared/data/*.xes.gz
    .venv/bin/python bench/promise_eval.py --data DIR --markdown

Each log is evaluated by the console command in a subprocess (the public surface), with the
published protocol (docs/promises.md): first 80 % of cases by first event to fit, last 20 % to test;
then a second table of the rolling origins (fit on the cases started before each origin, score the
block after), with the queue-blind model beside. ``--log FILE`` adds any other log (e.g. the demo's
history from ``tandem export-log``).
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


def evaluate(path: Path, case_attributes: list[str]) -> dict:
    extra = [a for name in case_attributes for a in ("--case-attribute", name)]
    command = [sys.executable, "-m", "tandem.cli", "promise", "evaluate", "--log", str(path), "--json", *extra]
    r = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    if r.returncode:
        raise SystemExit(f"{path}: exit {r.returncode}\n{r.stderr}")
    return json.loads(r.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--log", type=Path, action="append", default=[], help="another log to evaluate (repeatable)")
    parser.add_argument("--case-attribute", action="append", default=[], metavar="NAME",
                        help="for the --log logs: a case attribute to use (e.g. unit for the demo's history)")
    args = parser.parse_args()
    head = ["log", "test prefixes", "MAE P50 (d)", "target", "best published", "global median", "median by k",
            "P80 hit", "P90 hit", "P80 quote (d)", "P90 quote (d)", "fit (s)", "predictions/s"]
    rows, rolling = [], []
    logs = [(args.data / name, *info, []) for name, info in LOGS.items()]
    logs += [(path, path.name, None, "", args.case_attribute) for path in args.log]
    for path, label, target, best, attributes in logs:
        if not path.is_file():
            print(f"skipped {path}: not there", file=sys.stderr)
            continue
        f = evaluate(path, attributes)
        rolling += rolling_rows(label, f)
        b = f["baselines"]
        rows.append([label, f"{f['test_prefixes']:,}", f"{f['mae_days']:.2f}",
                     f"≤ {target:.2f}" if target else "", best,
                     f"{b['global_median_mae_days']:.2f}", f"{b['median_by_prefix_length_mae_days']:.2f}",
                     f"{f['hit_rate_p80']:.1%}", f"{f['hit_rate_p90']:.1%}", f"{f['mean_quote_days_p80']:.2f}",
                     f"{f['mean_quote_days_p90']:.2f}", f"{f['fit_seconds']:.1f}",
                     f"{f['predictions_per_second']:,.0f}"])
        print(f"{label}: {json.dumps({k: v for k, v in f.items() if k != 'model'})}", file=sys.stderr)
    show(head, rows, args.markdown)
    print()
    show(ROLLING_HEAD, rolling, args.markdown)


ROLLING_HEAD = ["log", "origin", "cases", "cut short", "MAE", "MAE k=1", "P80 hit", "P90 hit", "blind MAE",
                "blind k=1", "blind P80", "blind P90", "online P80", "online P90", "fit (s)", "blind fit (s)",
                "predictions/s"]


def rolling_rows(label: str, f: dict) -> list[list[str]]:
    """One row per rolling origin and one for them all; "online": the P80/P90 shifts recomputed every day."""
    if not f.get("rolling") or not f["rolling"]["origins"]:
        return [[label, "too few cases", *[""] * (len(ROLLING_HEAD) - 2)]]

    def pct(v: float | None) -> str:
        return "" if v is None else f"{v:.1%}"

    def num(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}"

    out = []
    for o in [*f["rolling"]["origins"], {**f["rolling"]["overall"], "origin": "overall"}]:
        b = o["queue_blind"]
        out.append([label, o["origin"][:10], f"{o['test_cases']:,}", str(o.get("left_out_cut_short", "")),
                    num(o["mae_days"]), num(o["mae_p50_k1_days"]), pct(o["hit_rate_p80"]), pct(o["hit_rate_p90"]),
                    num(b["mae_days"]), num(b["mae_p50_k1_days"]), pct(b["hit_rate_p80"]), pct(b["hit_rate_p90"]),
                    pct(o["online_hit_rate_p80"]), pct(o["online_hit_rate_p90"]),
                    num(o.get("fit_seconds")), num(b.get("fit_seconds")),
                    f"{o['predictions_per_second']:,.0f}" if "predictions_per_second" in o else ""])
    return out


def show(head: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
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
