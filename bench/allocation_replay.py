"""The demo organisation's real arrivals and absences replayed through three allocation
policies, and the lending suggestion on a week where Payroll is short.

    .venv/bin/python bench/allocation_replay.py                 # builds the demo (~20 s), prints figures
    .venv/bin/python bench/allocation_replay.py --json
    .venv/bin/python bench/allocation_replay.py --data-dir DIR  # reuse (or build and keep) a demo in DIR
    .venv/bin/python bench/allocation_replay.py --no-lending    # the replay only

Replay. The demo is built into a temporary SQLite database (as ``tandem demo`` builds it; its
history ends now). For each back-office unit, the requests submitted over ``--weeks`` weeks
(default 4) that end one week before the history's end are replayed, with one more week to
drain, through ``tandem.engines.allocation.simulate`` (the code ``bench/allocation.py`` runs on
a synthetic unit). Everything comes from the database as the product reads it: the clock is the
unit's working hours (``forecast.Clock``); people are the unit's members with their skills and
levels and their working hours in each hour from their own calendar (pattern, bank holidays,
their recorded absences); each request needs its service's most demanding required skill at its
level (catalogue required skills), takes its service's effort as the allocation app learns it
(median working time from start to resolution over the 12 weeks before the replay; one hour
without history), is due at its agreement's due instant (``resolve_by``, else the published
``due_at``), and has priority 1 on the external channel, 3 otherwise. The demo's requests are
simulated with fixed efforts per service: the replay measures how well each policy uses the
same people on the same arrivals, not the demo's own history.

Figures per unit and overall: share of requests resolved within their agreement (unresolved at
the end count as missed), mean working hours from arrival to resolution, and the load spread
(standard deviation across people of utilisation, hours worked / hours working). Targets
(issue 5): Tandem >= 10 percentage points above round-robin, above oldest-first, and a spread
no larger than theirs.

Lending. At 09:00 on the Monday of the week before the history's end (``T``), three of
Payroll's six people are made absent for that week. No front-office person in the demo holds a
payroll skill, so two front-office people are given ``payroll-system`` and ``paye`` at level 2
(as if they had done payroll before). The suggestion is computed as the product does
(``tandem.allocation.forecast.forecast``, what ``loan_suggestions`` returns) with the work
that was open at ``T`` as its backlog; it predicts breaches with and without the best loan. The
replay then runs the week's real arrivals (not the forecast's expected ones) with and without
that person lent for their spare time, with the same policy (Tandem's), and counts breaches
the same way: requests resolved after their due time, or open at the end and due by then.
These changes are made in a transaction that is rolled back.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
POLICY_NAMES = ("tandem", "round_robin", "oldest_first_pull")
TARGET_PP = 0.10


def setup(data_dir: str) -> tuple[Path, bool]:
    keep = bool(data_dir)
    path = Path(data_dir or tempfile.mkdtemp(prefix="tandem-replay-"))
    path.mkdir(parents=True, exist_ok=True)
    os.environ["TANDEM_DATA_DIR"] = str(path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from tandem.demo.load import build_demo, database_is_empty

    call_command("migrate", verbosity=0)
    if database_is_empty():
        began = time.perf_counter()
        build_demo()
        print(f"demo built in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return path, keep


def history_end() -> datetime:
    from django.db.models import Max

    from tandem.work.models import ServiceRequest

    return ServiceRequest.objects.aggregate(end=Max("submitted_at"))["end"]


def replay_unit(unit: Any, start: datetime, stop: datetime, end: datetime) -> dict[str, Any]:
    from tandem.allocation.forecast import Clock, items_of, sim_people
    from tandem.allocation.order import QueueOrder
    from tandem.allocation.queries import service_efforts, workers_of
    from tandem.engines.allocation import simulate
    from tandem.work.models import ServiceRequest

    clock = Clock(unit, start, end)
    workers = workers_of(unit, start, end)
    people = sim_people(workers, clock)
    efforts = service_efforts(unit, start)
    requests = ServiceRequest.objects.filter(unit=unit, submitted_at__gte=start, submitted_at__lt=stop).order_by("id")
    arrivals = items_of(requests, efforts, clock, order=QueueOrder.of(unit))
    world = simulate.World(people, arrivals, clock.steps)
    out: dict[str, Any] = {
        "unit": unit.slug, "people": len(people), "requests": len(arrivals), "steps": clock.steps,
        "demand_hours": round(sum(a.effort for a in arrivals), 1),
        "capacity_hours": round(sum(sum(p.hours) for p in people), 1),
        "policies": {},
    }
    for name in POLICY_NAMES:
        began = time.perf_counter()
        result = simulate.replay(world, simulate.POLICIES[name])
        out["policies"][name] = {**result.figures(), "seconds": round(time.perf_counter() - began, 2),
                                 "worked": result.worked, "present": [sum(p.hours) for p in people]}
    return out


def overall(units: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for name in POLICY_NAMES:
        rows = [u["policies"][name] for u in units]
        items = sum(r["items"] for r in rows)
        resolved = sum(r["resolved"] for r in rows)
        worked = np.concatenate([np.array(r["worked"]) for r in rows])
        present = np.concatenate([np.array(r["present"]) for r in rows])
        util = worked[present > 0] / present[present > 0]
        out[name] = {
            "items": items,
            "resolved": resolved,
            "within_due": sum(r["within_due"] * r["items"] for r in rows) / items,
            "mean_hours_to_resolution": sum(r["mean_hours_to_resolution"] * r["resolved"] for r in rows)
            / max(resolved, 1),
            "utilisation_sd": float(np.std(util)),
            "utilisation_sd_mean_of_units": float(np.mean([r["utilisation_sd"] for r in rows])),
        }
    return out


def verdict(figures: dict[str, dict[str, float]]) -> dict[str, bool]:
    t, rr, of = figures["tandem"], figures["round_robin"], figures["oldest_first_pull"]
    return {
        "attainment_vs_round_robin": t["within_due"] - rr["within_due"] >= TARGET_PP,
        "attainment_vs_oldest_first": t["within_due"] > of["within_due"],
        # Fairness is within a unit: the mean over units of the spread inside each.
        "spread_no_worse": t["utilisation_sd_mean_of_units"]
        <= min(rr["utilisation_sd_mean_of_units"], of["utilisation_sd_mean_of_units"]) + 1e-9,
    }


def lending(end: datetime) -> dict[str, Any]:
    from django.db import transaction
    from django.db.models import Q

    from tandem.agreements.queries import calendar_for_unit
    from tandem.allocation.forecast import WORKABLE_STATUSES, Clock, forecast, items_of, sim_people
    from tandem.allocation.order import QueueOrder
    from tandem.allocation.queries import service_efforts, workers_of
    from tandem.engines.allocation import simulate
    from tandem.org.models import Absence, Person, PersonSkill, Role, Side, Skill, Unit
    from tandem.work.models import ServiceRequest

    unit = Unit.objects.get(slug="payroll")
    zone = calendar_for_unit(unit).zone
    local_end = end.astimezone(zone)
    monday = (local_end - timedelta(days=local_end.weekday() + 7)).replace(hour=9, minute=0, second=0, microsecond=0)
    days = 5
    out: dict[str, Any] = {"now": monday.isoformat(), "days": days}
    with transaction.atomic():
        away = list(Person.objects.filter(unit=unit).exclude(role=Role.LEAD).order_by("id")[:3])
        friday = monday.date() + timedelta(days=4)
        for person in away:
            Absence.objects.filter(person=person, starts_on__lte=friday, ends_on__gte=monday.date()).delete()
            Absence.objects.create(person=person, starts_on=monday.date(), ends_on=friday, note="bench: short week")
        out["absent"] = [p.display_name for p in away]
        helpers = list(
            Person.objects.filter(unit__side=Side.FRONT, role=Role.MEMBER, user__is_active=True).order_by("id")[:2]
        )
        for person in helpers:
            for slug in ("payroll-system", "paye"):
                PersonSkill.objects.update_or_create(person=person, skill=Skill.objects.get(slug=slug),
                                                     defaults={"level": 2})
        out["given_payroll_skills"] = [f"{p.display_name} ({p.unit.name})" for p in helpers]
        # The work open at T, as it was then (the database holds each request's final state).
        open_then = list(
            ServiceRequest.objects.filter(unit=unit, submitted_at__lt=monday)
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=monday))
            .exclude(status="cancelled", closed_at__lte=monday)
        )
        for sr in open_then:
            sr.assignee_id = None  # who held it then is not recorded; the plan places it
            sr.status = WORKABLE_STATUSES[0]
        began = time.perf_counter()
        f = forecast(unit, monday, days, backlog=open_then)
        out["forecast_seconds"] = round(time.perf_counter() - began, 2)
        out["forecast"] = {
            "backlog_requests": f.backlog_items, "backlog_hours": f.backlog_hours,
            "expected_requests": f.expected_items, "expected_hours": f.expected_hours,
            "demand_hours": round(f.demand_hours, 1), "capacity_hours": f.capacity_hours, "short": f.short,
            "without": vars(f.without),
            "suggestions": [
                {"person": s.person.display_name, "unit": s.person.unit.name, "spare_hours": s.spare_hours,
                 "with": vars(s.outcome)}
                for s in f.suggestions
            ],
        }
        if f.suggestions:
            best = f.suggestions[0]
            clock = Clock(unit, monday, f.until)
            workers = workers_of(unit, monday, f.until)
            people = sim_people(workers, clock)
            efforts = service_efforts(unit, monday)
            order = QueueOrder.of(unit)
            backlog = items_of(open_then, efforts, clock, at=monday, order=order)
            arrived = items_of(
                ServiceRequest.objects.filter(unit=unit, submitted_at__gte=monday, submitted_at__lt=f.until),
                efforts, clock, order=order,
            )
            skills = {k: float(v) for k, v in PersonSkill.objects.filter(person=best.person).values_list(
                "skill__name", "level")}
            skills["(any member)"] = 1.0
            lent = simulate.SimPerson("lent", skills, clock.presence(best.person, share=best.spare_hours / best.hours))
            replayed = {}
            for label, extra in (("without", []), ("with", [lent])):
                world = simulate.World(people + extra, backlog + arrived, clock.steps)
                r = simulate.replay(world, simulate.TANDEM)
                replayed[label] = {"breaches": r.breaches, "backlog_items": r.backlog_items,
                                   "backlog_hours": round(r.backlog_hours, 1)}
            out["replay"] = {"person": best.person.display_name, "arrivals": len(arrived), **replayed}
        transaction.set_rollback(True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--weeks", type=int, default=4, help="weeks of arrivals replayed (default 4)")
    parser.add_argument("--data-dir", default="", help="a demo to reuse (built there and kept if empty)")
    parser.add_argument("--no-lending", action="store_true")
    parser.add_argument("--units", default="", help="comma-separated unit slugs (default: every back-office unit)")
    args = parser.parse_args()
    path, keep = setup(args.data_dir)
    try:
        from tandem.org.models import Side, Unit

        end = history_end()
        stop = end - timedelta(weeks=1)
        start = stop - timedelta(weeks=args.weeks)
        units = Unit.objects.filter(side=Side.BACK).order_by("name")
        if args.units:
            units = units.filter(slug__in=args.units.split(","))
        report: dict[str, Any] = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load": os.getloadavg()},
            "window": {"arrivals_from": start.isoformat(), "arrivals_until": stop.isoformat(),
                       "drained_until": end.isoformat()},
            "units": [replay_unit(u, start, stop, end) for u in units],
        }
        report["overall"] = overall(report["units"])
        report["targets_met"] = verdict(report["overall"])
        if not args.no_lending:
            report["lending"] = lending(end)
    finally:
        if not keep:
            from django.db import connection

            connection.close()
            shutil.rmtree(path, ignore_errors=True)
    if args.json:
        for u in report["units"]:
            for r in u["policies"].values():
                r.pop("worked"), r.pop("present")
        print(json.dumps(report, indent=2, default=str))
        return
    print(f"machine: {report['machine']}")
    w = report["window"]
    print(f"arrivals {w['arrivals_from'][:16]} to {w['arrivals_until'][:16]}, drained until {w['drained_until'][:16]}")
    print(f"{'unit':<12} {'people':>6} {'requests':>8} {'demand h':>8} {'capacity h':>10} {'policy':>18} "
          f"{'within due':>10} {'mean h':>7} {'util sd':>8} {'sec':>6}  (OVERALL util sd: pooled / mean of units)")
    rows = [(u["unit"], u) for u in report["units"]] + [("OVERALL", None)]
    for name, u in rows:
        for policy in POLICY_NAMES:
            r = u["policies"][policy] if u else report["overall"][policy]
            head = (f"{name:<12} {u['people']:>6} {u['requests']:>8} {u['demand_hours']:>8.0f} "
                    f"{u['capacity_hours']:>10.0f}" if u else f"{name:<12} {'':>6} {r['items']:>8} {'':>8} {'':>10}")
            extra = f" / {r['utilisation_sd_mean_of_units']:.3f}" if not u else f" {r['seconds']:>6}"
            print(f"{head} {policy:>18} {r['within_due']:>10.1%} {r['mean_hours_to_resolution']:>7.2f} "
                  f"{r['utilisation_sd']:>8.3f}{extra}")
    print(f"targets met: {report['targets_met']}")
    if "lending" in report:
        print()
        print(json.dumps(report["lending"], indent=2, default=str))


if __name__ == "__main__":
    main()
