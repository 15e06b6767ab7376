"""What each group of queue features adds: the engine refitted with one group left out at a time.

    .venv/bin/python bench/promise_ablation.py                         # the three shared logs, three origins
    .venv/bin/python bench/promise_ablation.py --log FILE --origins 0.8 --markdown

For every log and variant, at every origin (the first event of the case at that share of the cases by
first event): fit on the cases started before it, score the cases started after it up to the next
origin (the last block: to the end of the log); MAE of P50 over prefixes k >= 2 and at k = 1, pooled
over the origins (each prefix weighs the same). Accuracy only; the times depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tandem.engines.eventlog import read_log  # noqa: E402
from tandem.engines.promise import fit  # noqa: E402
from tandem.engines.promise.features import prefixes  # noqa: E402
from tandem.engines.promise.model import case_start_order  # noqa: E402

LOGS = ["Helpdesk.xes.gz", "BPI_Challenge_2012_W.xes.gz", "env_permit.xes.gz"]
GROUPS = {
    "throughput": ["queue:done_1d", "queue:done_5d", "queue:done_20d"],
    "drain time": ["queue:drain_days"],
    "active resources": ["queue:resources_active_7d"],
    "hours to opening": ["queue:hours_to_open"],
}
ALL_QUEUE = [c for cols in GROUPS.values() for c in cols]
VARIANTS: dict[str, dict] = {
    "queue-blind (no inter-case column)": {"queue_features": False},
    "load only (before the queue features)": {"leave_out": ALL_QUEUE},
    "all queue features": {},
    **{f"all but {name}": {"leave_out": cols} for name, cols in GROUPS.items()},
}


def run(path: Path, shares: list[float]) -> dict[str, tuple[float, float, float]]:
    log = read_log(path)
    order = case_start_order(log)
    rows = prefixes(log)
    y = rows.remaining_days
    cuts = [int(len(order) * s) for s in shares] + [len(order)]
    out = {}
    for name, kwargs in VARIANTS.items():
        err, err1, seconds = [], [], 0.0
        for i in range(len(shares)):
            is_fit = np.zeros(len(log.case.names), dtype=bool)
            is_fit[order[:cuts[i]]] = True
            block = np.zeros(len(log.case.names), dtype=bool)
            block[order[cuts[i]:cuts[i + 1]]] = True
            t0 = time.perf_counter()
            model = fit(log, cases=is_fit, **kwargs)
            seconds += time.perf_counter() - t0
            q = model.predict_prefixes(log)
            sel = block[rows.case]
            err.append(np.abs(q.p50 - y)[sel & (rows.k >= 2)])
            err1.append(np.abs(q.p50 - y)[sel & (rows.k == 1)])
        out[name] = (float(np.concatenate(err).mean()), float(np.concatenate(err1).mean()), seconds)
        print(f"{path.name}: {name}: {out[name]}", file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--log", type=Path, action="append", default=[], help="evaluate this log instead (repeatable)")
    parser.add_argument("--origins", default="0.5,0.65,0.8", help="shares of cases before each origin")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    paths = args.log or [args.data / name for name in LOGS if (args.data / name).is_file()]
    shares = [float(x) for x in args.origins.split(",")]
    results = {p.name: run(p, shares) for p in paths}
    head = ["variant", *(f"{n}: MAE / k=1" for n in results)]
    lines = [[v, *(f"{results[n][v][0]:.2f} / {results[n][v][1]:.2f}" for n in results)] for v in VARIANTS]
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|---|" + "---:|" * len(results))
        for line in lines:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(head)]
    for line in [head, *lines]:
        cells = zip(line, widths, strict=True)
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(cells)))


if __name__ == "__main__":
    main()
