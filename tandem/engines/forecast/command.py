"""``tandem forecast``: daily arrivals for the weeks after a date, from a CSV or XES event log.

Runs without Django, as ``tandem analyse`` does (``tandem.cli``); the management command of the
same name calls the same functions. An arrival is a case's first event; days are UTC dates.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any, TextIO

import numpy as np

from tandem.engines.eventlog import EventLogError, read_log
from tandem.engines.forecast.arrivals import TooShort, forecast

HELP = (
    "Forecast daily arrivals (each case's first event) of a CSV or XES event log for the days from "
    "--until on, from the cases that began before it: p10, p50 and p90 per day."
)
EPOCH = date(1970, 1, 1).toordinal()


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= value <= 366:
        raise argparse.ArgumentTypeError(f"--days: 1 to 366, not {value}")
    return value


def add_arguments(parser: Any) -> None:
    parser.add_argument("--log", required=True, metavar="FILE", help="a .csv or .xes file, optionally .gz")
    parser.add_argument("--until", required=True, type=day, metavar="YYYY-MM-DD",
                        help="the first day forecast: only cases whose first event is before this day (UTC) are read")
    parser.add_argument("--days", type=days, default=28, help="how many days to forecast (default 28)")
    parser.add_argument("--country", metavar="CC",
                        help="public holidays of this country (ISO code, e.g. GB or GB-ENG); by default the "
                             "country whose holidays explain the log's quiet weekdays, if one does")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


def run(options: dict[str, Any], out: TextIO) -> int:
    """Exit code: 0, or 2 with one line on stderr when the log cannot be forecast."""
    until: date = options["until"]
    try:
        log = read_log(options["log"])
    except (EventLogError, OSError) as exc:
        sys.stderr.write(f"tandem forecast: {exc}\n")
        return 2
    bounds = log.case_bounds()
    first_days = log.time[bounds[:-1]] // 86_400_000_000 + EPOCH
    before = first_days[first_days < until.toordinal()]
    if len(before) == 0:
        sys.stderr.write(f"tandem forecast: no case of {options['log']} begins before {until}.\n")
        return 2
    start = date.fromordinal(int(before.min()))
    counts = np.bincount(before - start.toordinal(), minlength=until.toordinal() - start.toordinal())
    try:
        result = forecast(start, counts, options["days"], country=options.get("country") or None)
    except TooShort as exc:
        sys.stderr.write(f"tandem forecast: {exc}\n")
        return 2
    except (KeyError, NotImplementedError) as exc:  # an unknown --country
        sys.stderr.write(f"tandem forecast: no public holidays known for country {options.get('country')!r} ({exc}).\n")
        return 2
    if options["json"]:
        out.write(json.dumps(result.as_json()) + "\n")
        return 0
    means = ", ".join(f"{m:.1f}" for m in result.weekday_means)
    out.write(
        f"{len(before):,} arrivals from {start} to {date.fromordinal(until.toordinal() - 1)}; weekday means (Mon-Sun) "
        f"{means}; level {result.level:.2f}; holidays: {result.holidays_from}\n"
        f"{'date':<12}{'p10':>6}{'p50':>6}{'p90':>6}\n"
    )
    for d in result.days:
        out.write(f"{d.day.isoformat():<12}{d.p10:>6.0f}{d.p50:>6.0f}{d.p90:>6.0f}\n")
    for note in result.notes:
        out.write(f"note: {note}\n")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tandem forecast", description=HELP)
    add_arguments(parser)
    return run(vars(parser.parse_args(argv)), sys.stdout)
