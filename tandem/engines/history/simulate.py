"""Put together a history: arrivals, queues, then event trails cut at "now" and the state of
every request derived from its own trail (so the two can never disagree)."""

from __future__ import annotations

import time
from array import array
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from tandem.engines.history.arrivals import Arrivals, draw_arrivals
from tandem.engines.history.calendars import DAY, Calendar, Clock, working_mask
from tandem.engines.history.model import (
    NONE,
    Cases,
    Events,
    History,
    K,
    Organisation,
    Params,
    Requests,
    WeekPattern,
)
from tandem.engines.history.queue import Draws, EventLog, Requesters, Unit, draw, run_unit

OFFICE_HOURS: WeekPattern = tuple(((8 * 60 + 30, 18 * 60),) if d < 5 else () for d in range(7))
LEAD_SHARE = 0.5  # a lead gives half as much of their time to the queue as their share says
BIG = np.int64(1) << 40


def absent_days(clock: Clock, absences: tuple[tuple[date, date], ...]) -> np.ndarray:
    off = np.zeros(len(clock.dates), dtype=bool)
    for first, last in absences:
        a = max(clock.day_index(first), 0)
        b = min(clock.day_index(last), len(off) - 1)
        if a <= b:
            off[a : b + 1] = True
    return off


def queue_mask(
    clock: Clock, pattern: WeekPattern, duties: tuple[tuple[int, int, int], ...], off: np.ndarray
) -> np.ndarray:
    """When a person works the queue: their working time minus their routine duties."""
    mask = working_mask(clock, pattern, off)
    if duties:
        busy: WeekPattern = tuple(
            tuple((a, b) for w, a, b in duties if w == day) for day in range(7)
        )
        mask &= ~working_mask(clock, busy, np.zeros(len(off), dtype=bool))
    return mask


def eligible(org: Organisation, service: int, agents: list[int]) -> list[int]:
    needs = org.services[service].required_skills
    return [
        slot
        for slot, p in enumerate(agents)
        if all(org.people[p].skills.get(skill, 0) >= level for skill, level in needs.items())
    ]


def simulate(org: Organisation, params: Params) -> History:
    """The seeded history of ``org`` over ``params.weeks`` weeks ending at ``params.end``."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    rng = np.random.default_rng(params.seed)
    today = params.end.astimezone(ZoneInfo(org.time_zone)).date()
    start = today - timedelta(weeks=params.weeks)
    days = params.weeks * 7 + 1  # the last day is today, up to "now"
    clock = Clock(start, days, org.time_zone)
    now_minute = clock.minute_of(params.end)
    closed = np.array([d in org.closed_days for d in clock.dates])

    # Who is at work on which day (requesters answer only then), and agents' calendars.
    off = [absent_days(clock, p.absences) | closed for p in org.people]
    works_weekday = np.array(
        [
            [bool(p.pattern[w]) if w < len(p.pattern) else False for w in range(7)]
            for p in org.people
        ]
    )
    available = works_weekday[:, clock.weekday[:days]] & ~np.stack(off)[:, :days]
    office = Calendar(working_mask(clock, OFFICE_HOURS, closed))
    requesters = Requesters(office, available)

    arrivals = draw_arrivals(org, params, clock, days, now_minute, available, rng)
    n = len(arrivals.minute)
    timings["arrivals"] = time.perf_counter() - began

    began = time.perf_counter()
    progress = arrivals.minute / float(days * DAY)
    draws = draw(org, arrivals.service, progress, rng)
    log = EventLog()
    arrival = array("q", arrivals.minute.tobytes())
    service = array("h", arrivals.service.tobytes())
    requester = array("i", arrivals.requester.tobytes())
    unit_of_service = np.array([spec.unit for spec in org.services])
    request_unit = unit_of_service[arrivals.service]
    window = params.reopen_window_days * DAY
    for u, spec in enumerate(org.units):
        if spec.side != "back":
            continue
        agents = [
            i for i, p in enumerate(org.people) if p.unit == u and p.role in ("member", "lead")
        ]
        unit = Unit(
            agents=agents,
            calendars=[
                Calendar(queue_mask(clock, org.people[p].pattern, org.people[p].duties, off[p]))
                for p in agents
            ],
            speed=[
                org.people[p].share
                * (LEAD_SHARE if org.people[p].role == "lead" else 1.0)
                * params.scale
                for p in agents
            ],
            eligible={
                s: eligible(org, s, agents) for s, sv in enumerate(org.services) if sv.unit == u
            },
            lead=next(
                (slot for slot, p in enumerate(agents) if org.people[p].role == "lead"), None
            ),
        )
        rows = np.flatnonzero(request_unit == u)
        run_unit(unit, rows, arrival, service, requester, draws, requesters, log, window)
    timings["queues"] = time.perf_counter() - began

    began = time.perf_counter()
    events, requests = _trails(log, arrivals, draws, clock, params, rng, n, org)
    # Agents work params.scale times faster, so a minute of drawn work is 1/scale minutes of theirs.
    requests.worked_minutes = np.zeros(n)
    requests.worked_minutes[list(log.worked)] = np.array(list(log.worked.values())) / params.scale
    cases = _cases(arrivals, requests, clock, params, rng)
    timings["trails"] = time.perf_counter() - began
    return History(
        start=datetime.combine(clock.start, datetime.min.time(), tzinfo=clock.zone),
        end=params.end,
        requests=requests,
        events=events,
        cases=cases,
        timings=timings,
    )


def _np(column: array, dtype: type) -> np.ndarray:
    return np.frombuffer(column, dtype=dtype).copy() if len(column) else np.zeros(0, dtype=dtype)


def _trails(
    log: EventLog,
    a: Arrivals,
    draws: Draws,
    clock: Clock,
    params: Params,
    rng: np.random.Generator,
    n: int,
    org: Organisation,
) -> tuple[Events, Requests]:
    request = _np(log.request, np.int32)
    minute = _np(log.minute, np.int64)
    kind = _np(log.kind, np.int8)
    actor = _np(log.actor, np.int32)
    frm = _np(log.from_status, np.int8)
    to = _np(log.to_status, np.int8)
    detail = _np(log.detail, np.int32)
    ref = _np(log.ref, np.int64)

    # Seconds: people act within the minute; the worker closes at its next poll after the window.
    at = clock.utc(minute) + rng.integers(0, 60, len(minute))
    if log.auto_close:
        close, resolved = np.array(log.auto_close).T
        at[close] = (
            at[resolved] + params.reopen_window_days * 86400 + 60 + rng.integers(0, 300, len(close))
        )
        minute[close] = minute[resolved] + params.reopen_window_days * DAY + 1

    # Order by request, then time on the grid, then generation order (which keeps the life
    # cycle's order for moves in the same minute); then make times strictly increasing.
    order = np.lexsort((np.arange(len(request)), minute, request))
    request, minute, kind, actor, frm, to, detail, ref, at = (
        x[order] for x in (request, minute, kind, actor, frm, to, detail, ref, at)
    )
    position = np.arange(len(request), dtype=np.int64)
    key = at - position + request.astype(np.int64) * BIG
    at = np.maximum.accumulate(key) - request.astype(np.int64) * BIG + position
    new_index = np.empty(len(order), dtype=np.int64)
    new_index[order] = position

    now = int(params.end.timestamp())
    keep = at <= now
    starts = np.r_[0, np.flatnonzero(np.diff(request)) + 1]
    seq_all = position - np.repeat(starts, np.diff(np.r_[starts, len(request)])) + 1
    # Answers to advice (acknowledged, accepted, declined) point at their advice by its seq.
    ack = np.isin(kind, [K["advice_acknowledged"], K["advice_accepted"], K["advice_declined"]])
    ref[ack] = seq_all[new_index[ref[ack]]]
    request, kind, actor, frm, to, detail, ref, at, seq = (
        x[keep] for x in (request, kind, actor, frm, to, detail, ref, at, seq_all)
    )

    events = Events(
        request=request,
        seq=seq.astype(np.int32),
        kind=kind,
        actor=actor,
        at=at,
        from_status=frm,
        to_status=to,
        detail=detail,
        ref=ref.astype(np.int32),
    )
    requests = _requests(events, a, draws, clock, n, org)
    return events, requests


def _last(mask: np.ndarray, request: np.ndarray, n: int) -> np.ndarray:
    """Per request, the index of its last event matching ``mask`` (or -1)."""
    out = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(mask)
    np.maximum.at(out, request[idx], idx)
    return out


def _requests(
    ev: Events, a: Arrivals, draws: Draws, clock: Clock, n: int, org: Organisation
) -> Requests:
    """Every request's fields, derived from its own (cut) trail as the actions would leave them."""
    req = ev.request
    count = np.bincount(req, minlength=n).astype(np.int32)
    moves = ev.to_status >= 0
    last_move = _last(moves, req, n)
    status = ev.to_status[last_move]
    status_changed = ev.at[last_move]
    submitted = ev.at[_last(ev.kind == K["submitted"], req, n)]

    holder = _last((ev.kind == K["assigned"]) | (ev.kind == K["started"]), req, n)
    assignee = np.where(
        holder >= 0,
        np.where(ev.kind[holder] == K["assigned"], ev.detail[holder], ev.actor[holder]),
        NONE,
    )
    last_resolved = _last(ev.kind == K["resolved"], req, n)
    last_reopened = _last(ev.kind == K["reopened"], req, n)
    resolved = np.where(last_resolved > last_reopened, ev.at[last_resolved], NONE)
    final = _last(np.isin(ev.kind, [K["accepted"], K["closed"], K["cancelled"]]), req, n)
    closed = np.where(final >= 0, ev.at[final], NONE)
    # waiting_on: set by asking or waiting on a third party; cleared by the moves that clear it
    # (a cancel does not, exactly like the actions).
    waits = _last(np.isin(ev.kind, [K["asked_requester"], K["waiting_third_party"]]), req, n)
    clears = _last(
        np.isin(ev.kind, [K["started"], K["information_provided"], K["resumed"], K["resolved"]]),
        req,
        n,
    )
    waiting = np.where(waits > clears, waits, -1)
    waiting_on = np.where(waiting >= 0, np.where(ev.kind[waiting] == K["asked_requester"], 1, 2), 0)
    turnaround = np.array([spec.turnaround_days for spec in org.services])[a.service]
    return Requests(
        service=a.service,
        requester=a.requester,
        channel=a.channel,
        case=a.case,
        submitted=submitted,
        due=due_dates(a.minute, submitted, turnaround, clock),
        status=status.astype(np.int8),
        assignee=assignee.astype(np.int32),
        status_changed=status_changed,
        resolved=resolved,
        closed=closed,
        events=count,
        variant=np.frombuffer(draws.variant, dtype=np.int32)[0::4].astype(np.uint32),
        waiting_on=waiting_on.astype(np.int8),
        waiting_variant=np.where(waiting >= 0, ev.detail[waiting], NONE).astype(np.int32),
        resolution_variant=np.where(last_resolved >= 0, ev.detail[last_resolved], NONE).astype(
            np.int32
        ),
    )


def due_dates(
    minute: np.ndarray, submitted: np.ndarray, turnaround: np.ndarray, clock: Clock
) -> np.ndarray:
    """``add_working_days(submitted_at, turnaround)`` for every request at once: the same local
    time of day N weekdays later; a submission on a weekend counts from 09:00 on Monday."""
    day = minute // DAY
    seconds = (minute % DAY) * 60 + (submitted - clock.utc(minute))
    weekend = clock.weekday[day] >= 5
    dates = np.datetime64(clock.start, "D") + day
    rolled = np.busday_offset(dates, 0, roll="forward")
    seconds = np.where(weekend, 9 * 3600, seconds)
    due_day = (
        np.busday_offset(rolled, turnaround, roll="forward") - np.datetime64(clock.start, "D")
    ).astype(np.int64)
    return clock.base + due_day * 86400 + seconds - clock.offset[due_day] * 60


def _cases(
    a: Arrivals, requests: Requests, clock: Clock, params: Params, rng: np.random.Generator
) -> Cases:
    """A case is closed by its owner a while after its last request finished (if by now)."""
    m = len(a.case_owner)
    created = clock.utc(a.case_minute) + rng.integers(0, 60, m)
    linked = requests.case >= 0
    open_requests = np.bincount(
        requests.case[linked], weights=(requests.closed[linked] == NONE), minlength=m
    )
    last_closed = np.full(m, NONE, dtype=np.int64)
    np.maximum.at(last_closed, requests.case[linked], requests.closed[linked])
    delay = (3600 + 86400 * np.exp(0.8 * rng.standard_normal(m))).astype(np.int64)
    now = int(params.end.timestamp())
    closed = np.where(
        (open_requests == 0) & (last_closed > 0) & (last_closed + delay <= now),
        last_closed + delay,
        NONE,
    )
    return Cases(
        owner=a.case_owner,
        created=created,
        closed=closed,
        bundle=a.case_bundle,
        variant=rng.integers(0, 1 << 30, m).astype(np.uint32),
    )
