"""The change calendar: does the collision check find every audience-week over its limit, does
following its proposals leave none, and how fast are the calendar and its check at scale.

1. On the demo (built into a temporary folder, or a copy of ``--demo-dir``'s database): the
   check's over-limit audience-weeks against a plain recomputation from the database rows;
   then every proposal is accepted through the move action, as an owner would, and the
   audience-weeks over the limit are counted again, plainly; with each moved change's distance
   from the date asked for.
2. At 1,000 changes and 100 audiences (a fresh database): the calendar (13 weeks, every audience,
   as an executive sees it) and its check, through the page and the API, median of the runs.

    python bench/change_calendar.py                   # builds the demo (about 40 s) first
    python bench/change_calendar.py --demo-dir /tmp/tandem-demo
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo-dir", default="", help="a TANDEM_DATA_DIR holding a built demo (copied, not changed)")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--audiences", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", action="store_true",
                        help="also profile one page view at scale (cProfile) and print where its time goes")
    parser.add_argument("--scale-only", action="store_true", help="skip the demo part")
    parser.add_argument("--keep-db", default="",
                        help="a file for the scale part's database: made on the first run, copied on the next ones "
                             "(SQLite only; the changes and audiences then come from it)")
    return parser.parse_args()


def load_average() -> str:
    """The machine's load average (1, 5, 15 minutes), printed beside every timing: the machine
    is shared, and a figure means little without it."""
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def plain_over(limit_of) -> set[tuple[int, date]]:  # type: ignore[no-untyped-def]
    """Audience-weeks over their limit, from the rows and the people, with no engine: each active
    person of a unit absorbs the changes for the whole unit and those for their role; the
    most-loaded person's minutes are held against the limit."""
    from tandem.changes.models import ChangeAudience, Status
    from tandem.org.models import Person

    roles: dict[int, list[str]] = defaultdict(list)
    for unit_id, role in Person.objects.filter(user__is_active=True).values_list("unit_id", "role"):
        roles[unit_id].append(role)
    minutes: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for unit_id, role, own, effective, m in ChangeAudience.objects.exclude(
            change__status=Status.CANCELLED).values_list(
            "unit_id", "role", "effective_on", "change__effective_on", "change__minutes"):
        day = own or effective  # a staged change reaches each audience on its own day
        minutes[(unit_id, day - timedelta(days=day.weekday()))][role] += m
    over = set()
    for key, by_role in minutes.items():
        loads = [by_role[""] + (by_role[r] if r else 0) for r in roles[key[0]]] or [by_role[""]]
        if max(loads) > limit_of(key[0]):
            over.add(key)
    return over


def demo_part(today: date) -> dict[str, object]:
    from django.contrib.auth import get_user_model

    from tandem.changes import actions
    from tandem.changes.models import Change
    from tandem.changes.queries import calendar, rules
    from tandem.engines import changes as engine

    admin = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.first()
    the_rules = rules()
    before = plain_over(the_rules.limit)
    cal = calendar(admin, start=today - timedelta(days=35), weeks=26, today=today)
    found = {(row.unit.pk, c["week"]) for row in cal.rows for c in row.cells if c["over"]}
    shown_from = cal.weeks[0]
    before_shown = {k for k in before if k[1] >= shown_from}
    person = admin.person  # type: ignore[attr-defined]
    now_cal = calendar(admin, weeks=26, today=today)
    moves = [(p.change.pk, p.plan_on) for p in now_cal.proposals if p.plan_on]
    for pk, day in moves:
        actions.move_change(person, pk, day, today=today)
    after = plain_over(the_rules.limit)
    after_future = {k for k in after if k[1] >= engine.week_of(today)}
    distances = [(c.effective_on - c.requested_on).days for c in Change.objects.filter(pk__in=[m[0] for m in moves])]
    return {
        "over-limit audience-weeks (plain recomputation)": len(before_shown),
        "found by the check": len(found & before_shown),
        "flagged that are not over": len(found - before_shown),
        "proposals accepted": len(moves),
        "over-limit audience-weeks after (from this week)": len(after_future),
        "moved changes within four weeks of the date asked": f"{sum(d <= 28 for d in distances)}/{len(distances)}",
        "named as late / no room": f"{len(now_cal.late)} / {len(now_cal.unplaceable)}",
        "largest move (days)": max(distances, default=0),
    }


def scale_setup(n_changes: int, n_audiences: int, today: date):  # type: ignore[no-untyped-def]
    """A fresh database's calendar: ``n_changes`` changes of one back-office unit landing on
    ``n_audiences`` branches, each with a lead and four members; returns the executive."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from tandem.catalogue.models import Service
    from tandem.changes.models import AudienceLimit, Blackout, Change, ChangeAudience, Status
    from tandem.org.models import Person, Role, Side, Unit

    call_command("migrate", verbosity=0)

    rng = random.Random(7)
    back = Unit.objects.create(name="Payroll", slug="payroll", side=Side.BACK)
    units = Unit.objects.bulk_create([Unit(name=f"Branch {i:03d}", slug=f"branch-{i:03d}", side=Side.FRONT)
                                      for i in range(n_audiences)])
    user = get_user_model().objects.create_user("exec", password="pw")
    me = Person.objects.create(user=user, unit=back, role=Role.EXECUTIVE)
    Service.objects.create(unit=back, name="Pay", slug="pay", summary="Pay", scope_includes="Pay", owner=me,
                           turnaround_days=2)
    AudienceLimit.objects.bulk_create([AudienceLimit(unit=u, minutes_per_week=rng.choice([40, 60, 90]))
                                       for u in units[::3]])
    Blackout.objects.bulk_create([Blackout(starts_on=today + timedelta(days=28 * k + 25),
                                           ends_on=today + timedelta(days=28 * k + 27), reason="Month end")
                                  for k in range(8)])
    changes = Change.objects.bulk_create([
        Change(unit=back, title=f"Change {i}", summary="s", why="w", kind="policy", status=Status.DRAFT,
               effective_on=(day := today + timedelta(days=rng.randrange(0, 26 * 7))), requested_on=day,
               minutes=rng.choice([10, 15, 20, 30]), created_by=me)
        for i in range(n_changes)])
    # Each branch has people: a lead and four members (a tenth of the branches have no lead), so
    # that a change for one role weighs on that role's people only, as it does in use.
    User = get_user_model()
    staff = User.objects.bulk_create([User(username=f"p{u.pk}-{k}", password="!") for u in units for k in range(5)])
    Person.objects.bulk_create([
        Person(user=account, unit=units[i // 5],
               role=Role.LEAD if i % 5 == 0 and (i // 5) % 10 else Role.MEMBER)
        for i, account in enumerate(staff)])
    # A fifth of the landings reach the leads only, a tenth the members only.
    ChangeAudience.objects.bulk_create([
        ChangeAudience(change=c, unit=u, role=rng.choices(["", Role.LEAD, Role.MEMBER], [7, 2, 1])[0])
        for c in changes for u in rng.sample(units, rng.choice([1, 2, 3, 5, 10, 20]))])
    return me


def scale_part(n_changes: int, n_audiences: int, runs: int, today: date, *,
               profile: bool = False, ready: bool = False, keep: str = "") -> dict[str, object]:
    from django.test import Client

    from tandem.changes.models import ChangeAudience
    from tandem.org.models import Person, Side
    from tests.apiclient import token_for  # type: ignore[import-not-found]

    if ready:  # a database kept from an earlier run (--keep-db)
        me = Person.objects.get(user__username="exec")
    else:
        me = scale_setup(n_changes, n_audiences, today)
        if keep:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [keep])
    user = me.user
    # As gunicorn's workers serve it: tandem.wsgi freezes what the process loaded (see settle()).
    import tandem.wsgi  # noqa: F401

    client = Client()
    client.force_login(user)
    api = Client(headers={"Authorization": f"Bearer {token_for(me)}"})

    def timed(fn) -> str:  # type: ignore[no-untyped-def]
        """The median wall time of ``runs`` calls, with the median CPU time of this process (less
        sensitive to the other work on a shared machine) and the load average after them."""
        fn()  # the first call warms the caches (templates, URL resolvers), as a served page's have
        times, cpu = [], []
        for _ in range(runs):
            began, began_cpu = time.perf_counter(), time.process_time()
            response = fn()
            times.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
            assert response.status_code == 200, response.status_code
        return (f"{statistics.median(times):.1f} (CPU {statistics.median(cpu):.1f}; "
                f"load {load_average()})")

    from tandem.changes.queries import calendar

    class Done:
        status_code = 200

    check = timed(lambda: (calendar(user), Done)[1])
    page = timed(lambda: client.get("/changes/"))
    api_ms = timed(lambda: api.get("/api/change-calendar"))
    body = api.get("/api/change-calendar").json()
    if profile:
        _profile(lambda: client.get("/changes/"))

    # A staging accepted in one action, for the first 20 colliding changes that have one: each
    # stage lands where it fits, so the audience-weeks over the limit never grow.
    from tandem.changes import proposals
    from tandem.changes.queries import rules as the_rules

    limit_of = the_rules().limit
    over_before = len(plain_over(limit_of))
    from tandem.refusal import Conflict

    admin = _admin(me)  # the bench's executive, made an administrator so that it manages every change
    staged, stale, stage_ms = 0, 0, []
    for proposal in body["proposals"]:
        if staged == 20:
            break
        if not proposal["staging"]:
            continue
        began = time.perf_counter()
        try:
            proposals.accept_staging(admin, proposal["change"],
                                     [(s, date.fromisoformat(d)) for s, d in proposal["staging"]], today=today)
        except Conflict:  # made stale by an earlier acceptance: refused, as it should be
            stale += 1
            continue
        stage_ms.append((time.perf_counter() - began) * 1000)
        staged += 1
    over_after_staging = len(plain_over(limit_of))
    return {
        "changes × audiences": f"{n_changes} × {n_audiences} ({ChangeAudience.objects.count()} landings)",
        "over-limit audience-weeks shown": body["over"],
        "proposals": len(body["proposals"]),
        "over-limit after the proposals": body["over_after_proposals"],
        "people (leads, members) / role landings": f"{Person.objects.filter(unit__side=Side.FRONT).count()} / "
        f"{ChangeAudience.objects.exclude(role='').count()}",
        "the check and calendar alone (no HTTP), median ms": check,
        "calendar page, median ms": page,
        "calendar API, median ms": api_ms,
        "stagings accepted / refused as stale": f"{staged} / {stale}",
        "over-limit audience-weeks before / after the stagings": f"{over_before} / {over_after_staging}",
        "accepting a staging (it recomputes the proposal), median ms": round(statistics.median(stage_ms), 1)
        if stage_ms else None,
    }


def _profile(view) -> None:  # type: ignore[no-untyped-def]
    """One page view under cProfile: the functions where its time goes."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    view()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats("tandem/", 30)
    stats.sort_stats("tottime").print_stats(25)


def _admin(me):  # type: ignore[no-untyped-def]
    from tandem.org.models import Role

    me.role = Role.ADMIN
    me.save(update_fields=["role"])
    return me


def main() -> None:
    args = parse()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    work = Path(tempfile.mkdtemp(prefix="tandem-changes-"))
    try:
        demo_dir = work / "demo"
        demo_dir.mkdir()
        if args.scale_only:
            pass
        elif args.demo_dir:
            shutil.copy(Path(args.demo_dir) / "tandem.sqlite3", demo_dir / "tandem.sqlite3")
        else:
            subprocess.run([sys.executable, str(ROOT / "bench" / "demo_build.py"), "--data-dir", str(demo_dir)],
                           check=True, stdout=subprocess.DEVNULL)
        os.environ["TANDEM_DATA_DIR"] = str(demo_dir)
        import django

        django.setup()
        from django.conf import settings
        from django.db import connections
        from django.utils import timezone

        settings.ALLOWED_HOSTS = ["*"]
        today = timezone.localdate()
        if not args.scale_only:
            print(f"The demo ({today}):")
            for key, value in demo_part(today).items():
                print(f"  {key:54} {value}")
        connections["default"].close()
        scale_db = work / "scale.sqlite3"
        ready = bool(args.keep_db) and Path(args.keep_db).exists()
        if ready:
            shutil.copy(args.keep_db, scale_db)
        settings.DATABASES["default"]["NAME"] = str(scale_db)
        connections["default"].settings_dict["NAME"] = str(scale_db)
        print(f"At scale ({args.runs} runs each; target < 300 ms):")
        for key, value in scale_part(args.changes, args.audiences, args.runs, today, profile=args.profile,
                                     ready=ready, keep="" if ready else args.keep_db).items():
            print(f"  {key:54} {value}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
