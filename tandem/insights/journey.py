"""Follow one request: its life on a time line, coloured by whose move it was, and the answer
to "why did this take so long?" in one sentence drawn from its events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from tandem.agreements.queries import calendar_for_service, service_day_seconds
from tandem.engines.evidence.phases import PHASES, STATUS_PHASE, STOPPED
from tandem.org.models import Person
from tandem.work.models import OPEN_STATUSES, ServiceRequest, Status
from tandem.work.queries import timeline_for

WORDS = {
    "queued": "queued at {unit} before anyone worked on it",
    "in_progress": "in progress at {unit}",
    "waiting_requester": "waiting on {requester} for information",
    "waiting_third_party": "waiting on a third party",
    "waiting_team": "waiting on {team}",
    "waiting_approval": "waiting on {approver} to approve it",
}


@dataclass(frozen=True)
class Segment:
    phase: str
    start: datetime
    end: datetime
    working_seconds: int
    whose: str  # "back office", "requester", "third party" or the other team's name
    x: float = 0.0  # position and width in a 100-wide bar
    width: float = 0.0


@dataclass(frozen=True)
class Journey:
    segments: list[Segment]
    total_days: float
    by_phase_days: dict[str, float]
    sentence: str
    open: bool


def journey(me: Person, sr: ServiceRequest, *, now: datetime | None = None) -> Journey:
    now = now or timezone.now()
    cal = calendar_for_service(sr.service)
    day = service_day_seconds(sr.service)
    changes = [(e.at, e.to_status, str((e.data or {}).get("team", ""))) for e in timeline_for(me, sr) if e.to_status]
    still_open = sr.status in OPEN_STATUSES
    end = now if still_open else (sr.resolved_at or sr.closed_at or sr.status_changed_at)
    raw: list[tuple[str, datetime, datetime, int, str]] = []
    for (at, status, team), following in zip(changes, [*changes[1:], (end, "", "")], strict=True):
        index = STATUS_PHASE.get(status, STOPPED)
        stop = following[0]
        if index == STOPPED or stop <= at:
            continue
        raw.append((PHASES[index], at, stop, cal.between(at, stop), team or "another team"))
    total = sum(r[3] for r in raw)
    whose = {"queued": "back office", "in_progress": "back office", "waiting_requester": "requester",
             "waiting_third_party": "third party",
             "waiting_approval": sr.approver.display_name if sr.approver else "the approver"}
    segments, x = [], 0.0
    for phase, a, b, seconds, team in raw:
        width = 100.0 * seconds / total if total else 0.0
        segments.append(Segment(phase, a, b, seconds, whose.get(phase, team), round(x, 2), round(width, 2)))
        x += width
    by_phase = {p: sum(s.working_seconds for s in segments if s.phase == p) / day for p in PHASES}
    teams = sorted({s.whose for s in segments if s.phase == "waiting_team"})
    team_words = " and ".join(teams) if teams else "another team"
    return Journey(segments, total / day, by_phase,
                   _sentence(me, sr, total / day, by_phase, still_open, team_words), still_open)


def _sentence(
    me: Person, sr: ServiceRequest, total: float, by_phase: dict[str, float], still_open: bool, teams: str
) -> str:
    requester = "you" if me.pk == sr.requester_id else sr.requester.display_name
    ended = {Status.CANCELLED: "Cancelled", Status.DECLINED: "Declined"}.get(Status(sr.status), "Resolved")
    head = f"Open for {total:.1f} working days so far" if still_open else f"{ended} after {total:.1f} working days"
    if total <= 0:
        return f"{head}."
    parts = sorted(((days, phase) for phase, days in by_phase.items() if days > 0), reverse=True)
    main_days, main = parts[0]
    approver = "you" if me.pk == sr.approver_id else sr.approver.display_name if sr.approver else "the approver"
    said = {"unit": sr.unit.name, "requester": requester, "team": teams, "approver": approver}
    words = [f"{days:.1f} {WORDS[phase].format(**said)}" for days, phase in parts]
    share = round(100 * main_days / total)
    lead = WORDS[main].format(**said)
    return f"{head}: most of it ({share} %) {lead}. In working days: {'; '.join(words)}."
