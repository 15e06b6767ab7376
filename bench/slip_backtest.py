"""Backtest of slip notices on the demo organisation's history: were broken promises announced
while there was still time?

Builds the demo into a fresh SQLite file (or reuses ``--data-dir``). Every request of the last
``--weeks`` weeks gets the promise it would have been quoted at its submission
(``tandem.promises.backtest.past_promises``, as the product and the demo quote). Then the
worker is replayed on each one: its forecast is refreshed on the worker's schedule
(``refresh_after``: every ``REFRESH_EVERY``, once more ``WARN_AHEAD_SECONDS`` of working time
before the promised time, and at every status move of the request, which marks it due), each
time by the product's forecast (``forecast_from``) from the request's status then and the
unit's queue as its book says it stood at that instant, and the product's slip rule
(``slip_foreseen``) decides whether the requester is told. A refresh at or after the promised
time finds an open request already late: the product tells it as a miss (``tells_missed``),
never as a slip.

Printed, per unit and overall, over promises whose outcome is known by the end of the history:
broken promises (resolved after the promised time, or still open past it); the share announced
at least ``WARN_AHEAD_SECONDS`` of working time (the service's calendar) before the promised
time (target >= 80 %); slip notices sent at or after the promised time (target 0); false
alarms (announced, then kept) as a share of slip notices.

    python bench/slip_backtest.py
    python bench/slip_backtest.py --data-dir /tmp/tandem-demo --weeks 8 --sample 0 --json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _demo import open_demo  # noqa: E402


@dataclass
class Tally:
    promises: int = 0  # outcome known
    broken: int = 0
    announced_in_time: int = 0  # broken, slip notice >= WARN_AHEAD before the promised time
    announced_late: int = 0  # broken, slip notice before the promised time but later than that
    told_missed: int = 0  # broken, not announced: told as missed at a refresh after the promised time
    never_told: int = 0  # broken, settled before any refresh after the promised time
    broken_short: int = 0  # broken, promised less than WARN_AHEAD after the quote: never announceable in time
    slip_notices: int = 0  # "will probably miss" notices, all before the promised time
    slip_notices_after: int = 0  # "will probably miss" notices at or after the promised time (target 0)
    false_alarms: int = 0  # slip notices on promises then kept
    refreshes: int = 0
    lead_hours: list[float] | None = None  # working hours of notice on broken promises announced

    def add(self, other: Tally) -> None:
        for name, value in asdict(other).items():
            if name == "lead_hours":
                self.lead_hours = (self.lead_hours or []) + (other.lead_hours or [])
            else:
                setattr(self, name, getattr(self, name) + value)

    def figures(self) -> dict[str, Any]:
        leads = sorted(self.lead_hours or [])
        return {
            **{k: v for k, v in asdict(self).items() if k != "lead_hours"},
            "announced_in_time_share": self.announced_in_time / self.broken if self.broken else None,
            "false_alarm_share": self.false_alarms / self.slip_notices if self.slip_notices else None,
            "median_notice_working_hours": leads[len(leads) // 2] if leads else None,
        }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="", help="TANDEM_DATA_DIR with a demo (built when empty)")
    parser.add_argument("--weeks", type=int, default=8, help="weeks of promises replayed, at the end (default 8)")
    parser.add_argument("--before", type=int, default=0,
                        help="end the replayed weeks this many weeks before the history's end (default 0): a "
                             "window apart from the one the rule was chosen on")
    parser.add_argument("--sample", type=int, default=0,
                        help="replay at most this many promises per unit, drawn at random (default 0: all)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the sample (default 2026)")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse()
    open_demo(args.data_dir, "tandem-slip-")
    from tandem.work.models import Event
    last = Event.objects.order_by("-at").values_list("at", flat=True).first()
    assert last is not None, "the demo has no history"
    end = last - timedelta(weeks=args.before)
    began = time.perf_counter()
    units = replay(end, last, weeks=args.weeks, sample=args.sample, seed=args.seed)
    seconds = time.perf_counter() - began
    total = Tally()
    for tally in units.values():
        total.add(tally)
    report(args, end, units, total, seconds)


def replay(end: datetime, last: datetime, *, weeks: int, sample: int, seed: int) -> dict[str, Tally]:
    """Promises quoted in the ``weeks`` before ``end``, replayed up to ``last`` (the history's end)."""
    import numpy as np

    from tandem.engines import quoting
    from tandem.engines.worktime import to_epoch
    from tandem.org.models import Unit
    from tandem.promises import books
    from tandem.promises.actions import refresh_after, tells_missed
    from tandem.promises.backtest import past_promises
    from tandem.promises.queries import (
        NOT_STARTED,
        WARN_AHEAD_SECONDS,
        default_confidence,
        forecast_from,
        slip_foreseen,
    )
    from tandem.work.effort import DEFAULT_EFFORT_SECONDS
    from tandem.work.models import OPEN_STATUS_VALUES, Event, ServiceRequest, Status

    start = end - timedelta(weeks=weeks)
    confidence = default_confidence()
    rng = random.Random(seed)
    open_values = set(OPEN_STATUS_VALUES)
    not_started = {s.value for s in NOT_STARTED}
    out: dict[str, Tally] = {}
    for unit in Unit.objects.filter(services__isnull=False).distinct().order_by("name"):
        book = books.build_book(unit, end, since=start)
        promises, _outcome = past_promises(unit, start, end, confidence=confidence, book=book)
        if sample and len(promises) > sample:
            promises = rng.sample(promises, sample)
        requests = {
            pk: (sid, submitted, status, resolved_at)
            for pk, sid, submitted, status, resolved_at in ServiceRequest.objects.filter(
                pk__in=[p.request_id for p in promises]
            ).values_list("pk", "service_id", "submitted_at", "status", "resolved_at")
        }
        moves: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
        for rid, at, to_status in (
            Event.objects.filter(request__unit=unit, request__submitted_at__gte=start)
            .exclude(to_status="")
            .order_by("request_id", "seq")
            .values_list("request_id", "at", "to_status")
        ):
            moves[rid].append((at, to_status))
        weights = np.array([book.effort.get(int(s), DEFAULT_EFFORT_SECONDS) for s in book.service_ids])

        # The worker's refreshes of each promise, up to the first at or after the promised time.
        plans: list[tuple[Any, list[tuple[datetime, str]]]] = []
        instants: list[int] = []
        for promise in promises:
            sid, submitted, status, resolved_at = requests[promise.request_id]
            if status == Status.CANCELLED:
                continue
            if resolved_at is None and promise.promised_at >= last:
                continue  # still open and not yet due: the outcome is unknown
            cal = book.calendars[sid]
            trail = moves.get(promise.request_id, [])
            refreshes: list[tuple[datetime, str]] = []
            status_now, due = Status.NEW.value, refresh_after(promise.promised_at, cal, submitted)
            steps = [(at, s) for at, s in trail if at > submitted]
            k = 0
            while True:
                nxt_move = steps[k][0] if k < len(steps) else None
                candidates = [t for t in (due, nxt_move) if t is not None]
                if not candidates:
                    break
                t = min(candidates)
                if t > last:
                    break
                while k < len(steps) and steps[k][0] <= t:
                    status_now = steps[k][1]
                    k += 1
                if status_now not in open_values:
                    due = None  # settled: the worker forgets it until a move (a reopening) marks it due
                    continue
                refreshes.append((t, status_now))
                if t >= promise.promised_at:
                    break  # from here on the request is late: told as missed, never as a slip
                due = refresh_after(promise.promised_at, cal, t)
            plans.append((promise, refreshes))
            instants += [to_epoch(t) for t, _s in refreshes]

        # The unit's queue at every refresh instant, as its book says it stood then.
        times = np.array(instants, dtype=np.int64)
        load_at = dict(zip(instants, book.drain_at(times).tolist(), strict=True)) if len(times) else {}
        hours = quoting.backlog_at(times, book.submitted, book.ended, weights) / 3600 if len(times) else []
        queue_at = dict(zip(instants, list(hours), strict=True))

        tally = Tally(lead_hours=[])
        for promise, refreshes in plans:
            sid, submitted, _status, resolved_at = requests[promise.request_id]
            cal = book.calendars[sid]
            broken = resolved_at is None or resolved_at > promise.promised_at
            tally.promises += 1
            tally.broken += broken
            tally.broken_short += broken and cal.between(submitted, promise.promised_at) < WARN_AHEAD_SECONDS
            told: datetime | None = None
            missed = False
            for t, status_now in refreshes:
                tally.refreshes += 1
                if tells_missed(promise, t):
                    missed = True  # the product's miss notice, not a slip notice
                    break
                e = to_epoch(t)
                f = forecast_from(
                    book, cal, promise, service_id=sid, submitted_at=submitted,
                    started=status_now not in not_started, now=t, load_now=load_at[e], queue_hours=queue_at[e],
                )
                if slip_foreseen(f):
                    told = t
                    break
            if told is not None:
                tally.slip_notices += 1
                tally.slip_notices_after += told >= promise.promised_at
                tally.false_alarms += not broken
            if not broken:
                continue
            if told is not None:
                ahead = cal.between(told, promise.promised_at)
                assert tally.lead_hours is not None
                tally.lead_hours.append(ahead / 3600)
                if ahead >= WARN_AHEAD_SECONDS:
                    tally.announced_in_time += 1
                else:
                    tally.announced_late += 1
            elif missed:
                tally.told_missed += 1
            else:
                tally.never_told += 1
        out[unit.name] = tally
    return out


def report(args: argparse.Namespace, end: datetime, units: dict[str, Tally], total: Tally, seconds: float) -> None:
    from tandem.promises.actions import REFRESH_EVERY
    from tandem.promises.queries import SLIP_CHANCE, SLIP_CHANCE_LAST_CALL, WARN_AHEAD_SECONDS

    overall = total.figures()
    scope = (f"promises quoted in the {args.weeks} weeks to {end:%Y-%m-%d %H:%M} UTC"
             + (f", a random sample of at most {args.sample} per unit (seed {args.seed})" if args.sample else ", all"))
    if args.json:
        print(json.dumps({"scope": scope, "overall": overall, "units": {n: t.figures() for n, t in units.items()},
                          "seconds": round(seconds, 1)}, indent=2, default=str))
        return
    print(scope)
    print(f"refreshes every {REFRESH_EVERY}, once more {WARN_AHEAD_SECONDS / 3600:g} working hours before the "
          "promised time, and at every status move (the capacity and material-change triggers are not replayed)")
    print(f"slip rule: a miss at least {SLIP_CHANCE:.0%} likely, or {SLIP_CHANCE_LAST_CALL:.0%} from "
          f"{WARN_AHEAD_SECONDS / 3600:g} working hours before the promised time on")
    print()
    header = (f"{'unit':<24}{'promises':>9}{'broken':>8}{'in time':>9}{'late':>6}{'missed':>8}{'untold':>8}"
              f"{'notices':>9}{'after':>7}{'false':>8}{'median h':>10}")
    print(header)

    def row(name: str, f: dict[str, Any]) -> None:
        share = f["announced_in_time_share"]
        false = f["false_alarm_share"]
        median = f["median_notice_working_hours"]
        print(f"{name:<24}{f['promises']:>9}{f['broken']:>8}{'—' if share is None else f'{share:.1%}':>9}"
              f"{f['announced_late']:>6}{f['told_missed']:>8}{f['never_told']:>8}{f['slip_notices']:>9}"
              f"{f['slip_notices_after']:>7}{'—' if false is None else f'{false:.1%}':>8}"
              f"{'—' if median is None else f'{median:.1f}':>10}")

    for name, tally in units.items():
        row(name, tally.figures())
    row("all", overall)
    print()
    share = overall["announced_in_time_share"]
    met = "met" if share is not None and share >= 0.8 else "not met"
    print(f"broken promises announced >= {WARN_AHEAD_SECONDS / 3600:g} working hours ahead: "
          f"{'—' if share is None else f'{share:.1%}'} (target >= 80 %: {met})")
    print(f"  of the {overall['broken']} broken, {overall['broken_short']} were promised less than "
          f"{WARN_AHEAD_SECONDS / 3600:g} working hours after their quote: no notice could come that early")
    print(f"slip notices at or after the promised time: {overall['slip_notices_after']} (target 0: "
          f"{'met' if overall['slip_notices_after'] == 0 else 'not met'})")
    false = overall["false_alarm_share"]
    print(f"false alarms (announced, then kept): {overall['false_alarms']} of {overall['slip_notices']} notices "
          f"({'—' if false is None else f'{false:.1%}'})")
    print(f"{overall['refreshes']:,} forecasts replayed in {seconds:.1f} s")
    print("in time: announced >= 4 working hours ahead; late: announced with less notice; missed: told only "
          "after the promised time (as missed); untold: settled late before the worker looked again")


if __name__ == "__main__":
    main()
