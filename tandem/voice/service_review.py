"""The client's service review (docs/organisations.md, "The service review"): what an outsourcer's
client expects to see each month — volumes, agreement attainment, promises kept, satisfaction,
the pulse about the provider's teams, and what its requests waited on — computed over the
client organisation's own requests only (those of its units, ``client_unit_ids``).

Who reads it: the client's executives and leads (their own organisation), and the provider's
administrators and executives (any client).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from tandem.agreements.models import Agreement
from tandem.agreements.queries import Terms, calendar_for_service
from tandem.catalogue.models import Contract, Service
from tandem.insights.attainment import DEFAULT_TARGET_PERCENT, FINISHED, outcomes
from tandem.org.models import Organisation, Person, Role, Unit
from tandem.org.queries import client_unit_ids, organisation_id_of, sees_everything
from tandem.promises.models import Promise
from tandem.voice.models import FRUSTRATED, PulseAnswer, RequestRating
from tandem.voice.queries import min_answers
from tandem.work.models import Event, ServiceRequest, Status

TOP_WAITS = 5
WAITING = (Status.WAITING_REQUESTER.value, Status.WAITING_THIRD_PARTY.value)


def reads_review(person: Person | None, organisation_id: int) -> bool:
    """A client's executives and leads read their own organisation's review; the provider's
    administrators and executives read any client's."""
    if person is None:
        return False
    mine = organisation_id_of(person)
    if mine is None:
        return sees_everything(person)
    return mine == organisation_id and person.role in (Role.EXECUTIVE, Role.LEAD, Role.ADMIN)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first day 00:00, next month's first day 00:00) in the site's time zone."""
    zone = timezone.get_default_timezone()
    start = month.replace(day=1)
    after = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return datetime.combine(start, time(), zone), datetime.combine(after, time(), zone)


def last_complete_month(now: datetime | None = None) -> date:
    today = (now or timezone.now()).astimezone(timezone.get_default_timezone()).date()
    first = today.replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


@dataclass(frozen=True)
class Share:
    count: int
    met: int

    @property
    def percent(self) -> float | None:
        return None if not self.count else round(100 * self.met / self.count, 1)


def review(organisation: Organisation, month: date) -> dict[str, Any]:
    """Every figure of one client's review of ``month`` (a date in it)."""
    since, until = month_bounds(month)
    units = client_unit_ids(organisation.pk)
    mine = ServiceRequest.objects.filter(requesting_unit_id__in=units)
    return {
        "organisation": organisation,
        "month": since.date(),
        "since": since,
        "until": until,
        "volumes": _volumes(mine, since, until),
        "attainment": _attainment(organisation, units, since, until),
        "promises": _promises(units, since, until),
        "satisfaction": _satisfaction(units, since, until),
        "pulse": _pulse(organisation, units, since, until),
        "waits": _waits(mine, since, until),
    }


def _volumes(mine: Any, since: datetime, until: datetime) -> dict[str, Any]:
    submitted = mine.filter(submitted_at__gte=since, submitted_at__lt=until)
    resolved = mine.filter(status__in=FINISHED, resolved_at__gte=since, resolved_at__lt=until)
    per = {r["service__name"]: {"service": r["service__name"], "submitted": r["n"], "resolved": 0}
           for r in submitted.values("service__name").annotate(n=Count("pk"))}
    for r in resolved.values("service__name").annotate(n=Count("pk")):
        per.setdefault(r["service__name"], {"service": r["service__name"], "submitted": 0, "resolved": 0})
        per[r["service__name"]]["resolved"] = r["n"]
    open_at_end = mine.filter(submitted_at__lt=until).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=until)).exclude(status=Status.CANCELLED).count()
    return {"submitted": submitted.count(), "resolved": resolved.count(), "open_at_end": open_at_end,
            "services": sorted(per.values(), key=lambda r: (-r["submitted"], r["service"]))}


def _attainment(organisation: Organisation, units: set[int], since: datetime, until: datetime) -> dict[str, Any]:
    results = outcomes(since, until, requesting_unit_ids=units)
    groups: dict[str, list[bool]] = defaultdict(list)
    for o in results:
        groups[o.group].append(o.met)
    agreements = Agreement.objects.select_related("service").in_bulk(
        [int(k.split(":")[1]) for k in groups if k.startswith("agreement:")])
    services = Service.objects.select_related("unit").in_bulk(
        [int(k.split(":")[1]) for k in groups if k.startswith("default:")])
    rows = []
    for key, met in groups.items():
        kind, pk = key.split(":")
        if kind == "agreement":
            a = agreements[int(pk)]
            name, service, target = a.name, a.service.name, float(a.target_percent)
        else:
            s = services[int(pk)]
            name, service, target = Terms.default(s, calendar_for_service(s)).name, s.name, DEFAULT_TARGET_PERCENT
        share = Share(len(met), sum(met))
        rows.append({"name": name, "service": service, "target_percent": target, "resolved": share.count,
                     "met": share.met, "percent": share.percent,
                     "meets_target": None if share.percent is None else share.percent >= target})
    total = Share(len(results), sum(o.met for o in results))
    return {"resolved": total.count, "met": total.met, "percent": total.percent,
            "agreements": sorted(rows, key=lambda r: (r["service"], r["name"]))}


def _promises(units: set[int], since: datetime, until: datetime) -> dict[str, Any]:
    """Promises quoted in the month whose outcome is known by its end: resolved (kept when by
    the promised time), or still open past the promised time (broken)."""
    quoted = Promise.objects.filter(request__requesting_unit_id__in=units, quoted_at__gte=since, quoted_at__lt=until)
    done = Q(request__resolved_at__isnull=False, request__resolved_at__lt=until)
    late_open = (Q(request__resolved_at__isnull=True) | Q(request__resolved_at__gte=until)) & Q(promised_at__lt=until)
    known = quoted.filter(done | late_open).exclude(request__status=Status.CANCELLED)
    kept = done & Q(request__resolved_at__lte=F("promised_at"))
    counts = known.aggregate(n=Count("pk"), kept=Count("pk", filter=kept))
    share = Share(counts["n"], counts["kept"])
    return {"known": share.count, "kept": share.met, "percent": share.percent}


def _satisfaction(units: set[int], since: datetime, until: datetime) -> dict[str, Any]:
    scores = list(RequestRating.objects.filter(
        request__requesting_unit_id__in=units, rated_at__gte=since, rated_at__lt=until).values_list("score", flat=True))
    return {"ratings": len(scores), "mean": round(sum(scores) / len(scores), 2) if scores else None}


def _pulse(organisation: Organisation, units: set[int], since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The frustration index (share answering Often or Always) of the client's people about each
    provider team that serves it, for the pulse periods starting in the month; a team with fewer
    answers than the threshold is withheld, so no one person's answer can be read.

    A small client rarely reaches the threshold in one month, so the review of a calendar
    quarter's last month pools the quarter for a team its month withheld. The quarter is shown
    only where the months not shown on their own add up to the threshold too: subtracting the
    months shown alone from it then gives a group no smaller than any shown cell, never one
    person's answers (docs/organisations.md, "The service review")."""
    teams = Unit.objects.filter(
        pk__in=Contract.objects.filter(organisation=organisation).values("service__unit_id")).order_by("name")
    month = since.date()
    quarter_start = month.replace(month=month.month - (month.month - 1) % 3)
    quarter_ends = month.month % 3 == 0
    answers = PulseAnswer.objects.filter(
        person__unit_id__in=units, period__gte=quarter_start if quarter_ends else month, period__lt=until.date())
    by_month: dict[tuple[int, date], tuple[int, int]] = {}
    counted = answers.values("unit_id", "period").annotate(
        n=Count("pk"), f=Count("pk", filter=Q(answer__in=FRUSTRATED)))
    for r in counted:
        key = (r["unit_id"], r["period"].replace(day=1))
        n, f = by_month.get(key, (0, 0))
        by_month[key] = (n + r["n"], f + r["f"])
    threshold = min_answers()
    rows = []
    for team in teams:
        n, frustrated = by_month.get((team.pk, month), (0, 0))
        months = 1
        if n < threshold and quarter_ends:
            cells = [by_month.get((team.pk, month.replace(month=m)), (0, 0))
                     for m in range(quarter_start.month, month.month + 1)]
            pooled = sum(c[0] for c in cells), sum(c[1] for c in cells)
            not_shown_alone = sum(c[0] for c in cells if c[0] < threshold)
            if not_shown_alone >= threshold:
                (n, frustrated), months = pooled, 3
        shown = n >= threshold
        rows.append({"team": team.name, "shown": shown, "answers": n if shown else None,
                     "frustration_percent": round(100 * frustrated / n, 1) if shown else None,
                     "months": months if shown else None})
    return rows


def _waits(mine: Any, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """What the client's requests waited on in the month: each wait that began in it, by
    reason (the requester's own people, or the third party named), with the hours it lasted
    (to the next change of status, or to the month's end if still waiting), longest first."""
    trail = list(Event.objects.filter(request__in=mine, at__lt=until).exclude(to_status="")
                 .order_by("request_id", "seq").values_list("request_id", "at", "to_status", "data"))
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for i, (rid, at, status, data) in enumerate(trail):
        if status not in WAITING or at < since:
            continue
        nxt = trail[i + 1] if i + 1 < len(trail) and trail[i + 1][0] == rid else None
        ends = min(nxt[1], until) if nxt else until
        if status == Status.WAITING_REQUESTER:
            reason = "Your people: a question to the requester"
        else:
            reason = f"Third party: {(data or {}).get('party') or 'not named'}"
        totals[reason][0] += 1
        totals[reason][1] += (ends - at).total_seconds() / 3600
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[0]))[:TOP_WAITS]
    return [{"reason": k, "waits": int(v[0]), "hours": round(v[1], 1)} for k, v in ranked]


def csv_rows(figures: dict[str, Any]) -> list[list[str]]:
    """The review as one table: section, item, figure, value."""
    month = f"{figures['month']:%Y-%m}"
    out = [["month", "section", "item", "figure", "value"]]

    def add(section: str, item: str, figure: str, value: object) -> None:
        out.append([month, section, item, figure, "" if value is None else str(value)])

    v = figures["volumes"]
    for key in ("submitted", "resolved", "open_at_end"):
        add("volumes", "all services", key, v[key])
    for row in v["services"]:
        add("volumes", row["service"], "submitted", row["submitted"])
        add("volumes", row["service"], "resolved", row["resolved"])
    a = figures["attainment"]
    add("attainment", "all agreements", "resolved", a["resolved"])
    add("attainment", "all agreements", "met", a["met"])
    add("attainment", "all agreements", "percent", a["percent"])
    for row in a["agreements"]:
        for key in ("resolved", "met", "percent", "target_percent"):
            add("attainment", row["name"], key, row[key])
    p = figures["promises"]
    for key in ("known", "kept", "percent"):
        add("promises", "all", key, p[key])
    s = figures["satisfaction"]
    add("satisfaction", "all", "ratings", s["ratings"])
    add("satisfaction", "all", "mean", s["mean"])
    for row in figures["pulse"]:
        add("pulse", row["team"], "answers", row["answers"] if row["shown"] else "withheld")
        add("pulse", row["team"], "frustration_percent", row["frustration_percent"] if row["shown"] else "withheld")
        add("pulse", row["team"], "months", row["months"] if row["shown"] else "withheld")
    for row in figures["waits"]:
        add("waits", row["reason"], "waits", row["waits"])
        add("waits", row["reason"], "hours", row["hours"])
    return out


def markdown(figures: dict[str, Any]) -> str:
    """The monthly service report as Markdown (readable as it is, or rendered)."""
    org, month = figures["organisation"], figures["month"]
    v, a, p, s = figures["volumes"], figures["attainment"], figures["promises"], figures["satisfaction"]

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f} %"

    lines = [f"# Service report: {org.name}, {month:%B %Y}", "",
             "## Volumes", "",
             f"Submitted {v['submitted']}, resolved {v['resolved']}, open at the month's end {v['open_at_end']}.", "",
             "| Service | Submitted | Resolved |", "|---|---:|---:|"]
    lines += [f"| {r['service']} | {r['submitted']} | {r['resolved']} |" for r in v["services"]]
    lines += ["", "## Agreement attainment", "",
              f"{a['met']} of {a['resolved']} resolved requests met their targets ({pct(a['percent'])}).", "",
              "| Agreement | Service | Resolved | Met | Attainment | Target |", "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r['name']} | {r['service']} | {r['resolved']} | {r['met']} | {pct(r['percent'])} | "
              f"{r['target_percent']:.0f} % |" for r in a["agreements"]]
    lines += ["", "## Promises kept", "",
              f"{p['kept']} of {p['known']} promises with a known outcome were kept ({pct(p['percent'])}).", "",
              "## Satisfaction", "",
              f"Mean rating {s['mean'] if s['mean'] is not None else '—'} out of 5 from {s['ratings']} ratings.", "",
              "## The pulse about the teams that serve you", "",
              "| Team | Answers | Frustrated (often or always) |", "|---|---:|---:|"]
    lines += [f"| {r['team']} | {r['answers']}{' (the quarter, pooled)' if r['months'] == 3 else ''} | "
              f"{pct(r['frustration_percent'])} |" if r["shown"]
              else f"| {r['team']} | withheld (fewer than {min_answers()}) | — |" for r in figures["pulse"]]
    lines += ["", "## Top reasons for waiting", "", "| Waiting on | Waits | Hours |", "|---|---:|---:|"]
    lines += [f"| {r['reason']} | {r['waits']} | {r['hours']:.1f} |" for r in figures["waits"]]
    return "\n".join(lines) + "\n"
