"""How well the arrivals forecast does on rolling origins (issue: the four-week plan).

For each series (the shared Helpdesk, BPIC 2012 W and environmental-permit logs: daily first
events of cases; the demo's history: daily requests per back-office unit and per service), at
eight origins spread through the history (each with at least eight weeks behind it), forecast
the next 28 days and score:

- MASE: the mean absolute error of the p50 over the 28 days, scaled by the in-sample mean
  absolute error of the weekly seasonal-naive forecast (same weekday last week); reported as a
  ratio to the seasonal-naive forecast's own MASE (target <= 0.70) and to the "same weekday
  over the last eight weeks" mean's (target <= 0.9);
- coverage: the share of days whose count falls within p10-p90 (target 70-90 %).

The logs are forecast as ``tandem forecast`` does (no country given: holidays inferred); the
demo with its units' calendar holidays (England), as the product does.

    python bench/arrivals_forecast.py            # all series
    python bench/arrivals_forecast.py --only helpdesk
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
HORIZON, ORIGINS, MIN_TRAIN = 28, 8, 56

from tandem.engines.forecast.arrivals import country_holidays, daily_counts, forecast  # noqa: E402


def seasonal_naive(y: np.ndarray) -> np.ndarray:
    return np.tile(y[-7:], HORIZON // 7 + 1)[:HORIZON]


def eight_weeks(y: np.ndarray) -> np.ndarray:
    n = len(y)
    return np.array([np.mean([y[n - 7 + (k % 7) - 7 * j] for j in range(8)]) for k in range(HORIZON)])


def log_series(path: Path) -> tuple[date, np.ndarray]:
    from tandem.engines.eventlog import read_log

    log = read_log(str(path))
    first = log.time[log.case_bounds()[:-1]] // 1_000_000
    return daily_counts(first // 86400 + date(1970, 1, 1).toordinal())


def demo_series() -> dict[str, tuple[date, np.ndarray]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from tandem.demo.organisation import demo_organisation
    from tandem.engines.history.model import Params
    from tandem.engines.history.simulate import simulate

    end = datetime(2026, 12, 7, 8, tzinfo=UTC)
    org = demo_organisation(end.date(), 26, 2026)
    history = simulate(org.engine(), Params(end=end, weeks=26, seed=2026, reopen_window_days=14))
    days = history.requests.submitted // 86400 + date(1970, 1, 1).toordinal()
    first = int(days.min())
    out: dict[str, tuple[date, np.ndarray]] = {}
    units: dict[str, np.ndarray] = {}
    for i, service in enumerate(org.services):
        counts = np.bincount(days[history.requests.service == i] - first, minlength=int(days.max()) - first + 1)
        out[f"service {service.slug}"] = (date.fromordinal(first), counts)
        units[service.unit] = units.get(service.unit, 0) + counts
    out.update({f"unit {u}": (date.fromordinal(first), c) for u, c in units.items()})
    return out


def score(series: dict[str, tuple[date, np.ndarray]], country: str | None) -> dict[str, float]:
    ours, naive, eight, covered, days, seconds, runs = [], [], [], 0, 0, 0.0, 0
    for start, y in series.values():
        n = len(y)
        for origin in np.linspace(MIN_TRAIN, n - HORIZON, ORIGINS).astype(int):
            train, test = y[:origin], y[origin:origin + HORIZON]
            scale = np.mean(np.abs(train[7:] - train[:-7]))
            if scale == 0:
                continue
            began = time.perf_counter()
            holidays = country_holidays(country, start, date.fromordinal(start.toordinal() + n + HORIZON)) \
                if country else None
            f = forecast(start, train, HORIZON, holidays=holidays)
            seconds += time.perf_counter() - began
            runs += 1
            p10 = np.array([d.p10 for d in f.days])
            p50 = np.array([d.p50 for d in f.days])
            p90 = np.array([d.p90 for d in f.days])
            ours.append(np.mean(np.abs(test - p50)) / scale)
            naive.append(np.mean(np.abs(test - seasonal_naive(train))) / scale)
            eight.append(np.mean(np.abs(test - eight_weeks(train))) / scale)
            covered += int(np.sum((test >= p10) & (test <= p90)))
            days += len(test)
    return {
        "mase": float(np.mean(ours)), "vs_naive": float(np.mean(ours) / np.mean(naive)),
        "eight_vs_naive": float(np.mean(eight) / np.mean(naive)), "vs_eight": float(np.mean(ours) / np.mean(eight)),
        "coverage": covered / days, "ms_per_forecast": 1000 * seconds / max(runs, 1), "forecasts": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["helpdesk", "bpic", "permits", "demo"])
    parser.add_argument("--each-unit", action="store_true", help="also score each demo back-office unit alone")
    args = parser.parse_args()
    sets: list[tuple[str, dict[str, tuple[date, np.ndarray]], str | None]] = []
    logs = {"helpdesk": "Helpdesk.xes.gz", "bpic": "BPI_Challenge_2012_W.xes.gz", "permits": "env_permit.xes.gz"}
    for key, name in logs.items():
        if args.only in (None, key):
            start, counts = log_series(DATA / name)
            if len(counts) >= MIN_TRAIN + HORIZON:
                sets.append((f"{key} log", {key: (start, counts)}, None))
            else:
                print(f"{key} log: {len(counts)} days, too short for eight origins with eight weeks behind them")
    if args.only in (None, "demo"):
        demo = demo_series()
        sets.append(("demo units", {k: v for k, v in demo.items() if k.startswith("unit")}, "GB-ENG"))
        sets.append(("demo services", {k: v for k, v in demo.items() if k.startswith("service")}, "GB-ENG"))
        if args.each_unit:
            sets.extend((f"  {k[5:]}", {k: v}, "GB-ENG") for k, v in demo.items() if k.startswith("unit"))
    print(f"{'series':<16} {'MASE':>6} {'vs naive':>9} {'8-wk vs naive':>14} {'vs 8-wk':>8} {'p10-p90':>8} {'ms':>6}")
    for name, series, country in sets:
        r = score(series, country)
        print(f"{name:<16} {r['mase']:6.3f} {r['vs_naive']:9.3f} {r['eight_vs_naive']:14.3f} {r['vs_eight']:8.3f} "
              f"{100 * r['coverage']:7.1f}% {r['ms_per_forecast']:6.1f}")


if __name__ == "__main__":
    main()
