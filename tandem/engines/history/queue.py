"""The back office at work: one queue per back-office unit, worked by its people in their hours.

A discrete-event simulation per unit. Work items wait in a heap ordered by the moment they are
ready (submitted, information provided, third party replied, reopened); each is taken by the
eligible agent (skills) who can start it first, ties going to whoever has been idle longest.
An agent is busy only while working a request, for its hands-on time divided by the share of
their time they give to requests; waits on the requester or a third party do not hold them.

Every move appends an event exactly as ``tandem.work.actions`` would write it (kind, actor,
from and to status, and the detail the loader turns into text). Events are recorded on the
local minute grid; ``tandem.engines.history.simulate`` turns them into UTC seconds, orders
them, and cuts everything after "now".
"""

from __future__ import annotations

import heapq
from array import array
from dataclasses import dataclass, field

import numpy as np

from tandem.engines.history.calendars import DAY, INF, Calendar
from tandem.engines.history.model import NONE, K, Organisation, S

# Phases of a work item in the heap.
ARRIVE, INFO, THIRD_PARTY, REOPEN, CHASE, SIGN_OFF = range(6)
NO_REPLY_REMINDER = 3 * 510  # office minutes after the question: the agent sends a reminder
NO_REPLY_CANCEL = 10 * 510  # office minutes after the question: the lead cancels
REOPEN_MARGIN = 120  # minutes kept clear before the end of the reopen window


@dataclass
class EventLog:
    """Append-only columns of events, in generation order."""

    request: array = field(default_factory=lambda: array("i"))
    minute: array = field(default_factory=lambda: array("q"))
    kind: array = field(default_factory=lambda: array("b"))
    actor: array = field(default_factory=lambda: array("i"))
    from_status: array = field(default_factory=lambda: array("b"))
    to_status: array = field(default_factory=lambda: array("b"))
    detail: array = field(default_factory=lambda: array("i"))
    ref: array = field(default_factory=lambda: array("q"))
    # (close event, resolved event): auto-closes are timed from the resolution in UTC later.
    auto_close: list[tuple[int, int]] = field(default_factory=list)
    # Request → hands-on minutes its agents really spent on it (the truth effort estimates are
    # measured against: bench/effort.py).
    worked: dict[int, float] = field(default_factory=dict)

    def add(
        self,
        r: int,
        minute: int,
        kind: int,
        actor: int,
        frm: int = NONE,
        to: int = NONE,
        detail: int = 0,
        ref: int = NONE,
    ) -> int:
        self.request.append(r)
        self.minute.append(minute)
        self.kind.append(kind)
        self.actor.append(actor)
        self.from_status.append(frm)
        self.to_status.append(to)
        self.detail.append(detail)
        self.ref.append(ref)
        return len(self.request) - 1


@dataclass
class Draws:
    """Per-request random draws, made up front (vectorised) and read in the loop."""

    touch: array  # hands-on working minutes (drift applied)
    pattern: array  # 0 lead assigns, 1 agent assigns themself, 2 agent starts straight away
    asks: array  # 0, 1 or 2 questions to the requester
    no_reply: array
    reply: array  # office minutes until the requester answers (2 per request)
    third_party: array
    third_party_wait: array  # office minutes
    reopen: array
    reopen_after: array
    rework: array  # share of the first hands-on time needed after a reopen
    accept: array
    accept_after: array
    cancel: array
    cancel_after: array
    chase: array
    chase_after: array
    note: array
    advice: array
    acknowledge: array
    hold: array  # office minutes a finished piece of work waits for sign-off (0: none)
    triage: array  # lead's working minutes before assigning
    cuts: array  # 3 per request: where in the work the waits happen
    variant: array  # 4 per request: question, party, resolution, other text
    decide: array  # what the requester does with advice they answer: see ADVICE_ANSWERS


# A requester who answers advice accepts it (most), declines it with a reason, or only
# acknowledges it; cumulative shares of the first two.
ADVICE_ANSWERS = ("advice_accepted", "advice_declined", "advice_acknowledged")
ADVICE_ANSWER_SHARES = (0.7, 0.85)


def _col(values: np.ndarray, code: str) -> array:
    out = array(code)
    dtype = {"f": np.float32, "b": np.int8, "i": np.int32}[code]
    out.frombytes(np.ascontiguousarray(values, dtype=dtype).tobytes())
    return out


def draw(
    org: Organisation, service: np.ndarray, progress: np.ndarray, rng: np.random.Generator
) -> Draws:
    """``progress`` is each request's submission time as a fraction of the history (for drift)."""
    n = len(service)

    def per_service(name: str) -> np.ndarray:
        return np.array([getattr(spec, name) for spec in org.services], dtype=float)[service]

    def lognormal(
        median: np.ndarray | float, sigma: float, size: int | tuple[int, int] = n
    ) -> np.ndarray:
        return np.exp(np.log(median) + sigma * rng.standard_normal(size))

    median = per_service("touch_minutes")
    touch = np.exp(np.log(median) + per_service("touch_sigma") * rng.standard_normal(n))
    touch = np.clip(touch, 2.0, median * 8) * (1.0 + (per_service("drift") - 1.0) * progress)
    first_ask = rng.random(n) < per_service("ask_prob")
    asks = first_ask.astype(np.int8) + (first_ask & (rng.random(n) < 0.12))
    return Draws(
        touch=_col(touch, "f"),
        pattern=_col(np.searchsorted([0.35, 0.88], rng.random(n), side="right"), "b"),
        asks=_col(asks, "b"),
        no_reply=_col(rng.random(n) < 0.06, "b"),
        reply=_col(np.clip(lognormal(150.0, 1.1, (n, 2)), 5, 4000).ravel(), "f"),
        third_party=_col(rng.random(n) < per_service("third_party_prob"), "b"),
        third_party_wait=_col(lognormal(per_service("third_party_days") * 510, 0.55), "f"),
        reopen=_col(rng.random(n) < per_service("reopen_prob"), "b"),
        reopen_after=_col(lognormal(240.0, 0.9), "f"),
        rework=_col(rng.uniform(0.25, 0.7, n), "f"),
        accept=_col(rng.random(n) < per_service("accept_prob"), "b"),
        accept_after=_col(lognormal(200.0, 1.0), "f"),
        cancel=_col(rng.random(n) < per_service("cancel_prob"), "b"),
        cancel_after=_col(lognormal(60.0, 1.0), "f"),
        chase=_col(rng.random(n) < 0.12, "b"),
        chase_after=_col(lognormal(900.0, 0.5), "f"),
        note=_col(rng.random(n) < 0.08, "b"),
        advice=_col(rng.random(n) < 0.025, "b"),
        acknowledge=_col(rng.random(n) < 0.8, "b"),
        hold=_col(_hold(org, service, progress, rng), "f"),
        triage=_col(lognormal(20.0, 0.8), "f"),
        cuts=_col(np.sort(rng.uniform(0.1, 0.9, (n, 3)), axis=1).ravel(), "f"),
        variant=_col(rng.integers(0, 1 << 30, (n, 4)).ravel(), "i"),
        # Drawn last, so the draws before it (and every figure they make) stay as they were.
        decide=_col(np.searchsorted(ADVICE_ANSWER_SHARES, rng.random(n), side="right"), "b"),
    )


def _hold(
    org: Organisation, service: np.ndarray, progress: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    first = np.array([spec.hold_days[0] for spec in org.services])[service]
    last = np.array([spec.hold_days[1] for spec in org.services])[service]
    median = (first + (last - first) * progress) * 510
    hold = np.exp(np.log(np.maximum(median, 1e-9)) + 0.5 * rng.standard_normal(len(service)))
    return np.where(median > 0, hold, 0.0)


@dataclass
class Unit:
    """The agents of one back-office unit and who may take which service."""

    agents: list[int]  # person indices
    calendars: list[Calendar]
    speed: list[float]  # share of time on requests x scale
    eligible: dict[int, list[int]]  # service → agent slots
    lead: int | None  # slot of the unit's lead


class Requesters:
    """When requesters answer: office hours, and not while they are away."""

    def __init__(self, office: Calendar, available: np.ndarray) -> None:
        self.office = office
        self.available = [row.tobytes() for row in available.astype(np.uint8)]
        days = available.shape[1]
        # next_day[p][d]: the first day ≥ d on which person p is at work (days when never).
        nxt = np.full(available.shape, days, dtype=np.int32)
        later = np.full(available.shape[0], days, dtype=np.int32)
        for d in range(days - 1, -1, -1):
            later = np.where(available[:, d], d, later)
            nxt[:, d] = later
        self.next_day = nxt

    def answer(self, person: int, t: int, minutes: float) -> int:
        x = self.office.after(t, minutes)
        if x >= INF:
            return INF
        day = x // DAY
        if day < len(self.available[person]) and not self.available[person][day]:
            back = int(self.next_day[person, day])
            if back >= len(self.available[person]):
                return INF
            x = back * DAY + 9 * 60 + int(minutes) % 90
        return x


def run_unit(
    unit: Unit,
    rows: np.ndarray,
    arrival: array,
    service: array,
    requester: array,
    d: Draws,
    requesters: Requesters,
    log: EventLog,
    window_minutes: int,
) -> None:
    """Simulate one unit's queue for the request ``rows`` (in arrival order)."""
    cals, speed, agents = unit.calendars, unit.speed, unit.agents
    free = [0.0] * len(agents)  # per slot: working minute at which the agent is next free
    office = requesters.office
    answer = requesters.answer
    add = log.add
    slot_of: dict[int, int] = {}
    progress: dict[int, int] = {}  # request → waits done so far
    first_touch: dict[int, float] = {}
    resolved_at: dict[int, int] = {}
    assigned_at: dict[int, int] = {}
    asked: dict[int, tuple[int, int]] = {}  # request → (asked at, answered at)
    finished: set[int] = set()
    heap = [(arrival[r], r, ARRIVE) for r in rows.tolist()]
    heapq.heapify(heap)

    def work(r: int, a: int, t: int, minutes: float) -> tuple[int, int]:
        """Occupy slot ``a`` with request ``r`` for ``minutes`` of hands-on time from its first
        free moment ≥ t."""
        cal = cals[a]
        w0 = max(free[a], float(cal.worked_before(t)))
        start = cal.at(w0)
        if start >= INF:
            free[a] = float(cal.n)
            return INF, INF
        w1 = w0 + minutes / speed[a]  # hands-on minutes are at least 2, so never zero
        free[a] = w1
        log.worked[r] = log.worked.get(r, 0.0) + minutes
        return start, cal.end_of(w1)

    def stops_of(r: int) -> list[int]:
        return [INFO] * d.asks[r] + [THIRD_PARTY] * d.third_party[r]

    def segment(r: int, index: int) -> float:
        """Hands-on minutes of the index-th piece of work (split at the waits)."""
        n = len(stops_of(r))
        cuts = [0.0, *(d.cuts[3 * r + i] for i in range(n)), 1.0]
        return d.touch[r] * (cuts[index + 1] - cuts[index])

    def after_work(r: int, a: int, start: int, end: int) -> None:
        """A piece of work ended at ``end``: ask, wait on a third party, or resolve."""
        if end >= INF:
            return
        agent = agents[a]
        person = requester[r]
        done = progress.get(r, 0)
        stops = stops_of(r)
        if d.note[r] and done == 0:
            add(
                r,
                max(start, end - 1 - (d.variant[4 * r + 3] % 20)),
                K["note_added"],
                agent,
                detail=d.variant[4 * r + 3],
            )
        if done < len(stops):
            progress[r] = done + 1
            if stops[done] == INFO:
                add(
                    r,
                    end,
                    K["asked_requester"],
                    agent,
                    S["in_progress"],
                    S["waiting_requester"],
                    detail=d.variant[4 * r] + done,
                )
                if d.no_reply[r] and done == d.asks[r] - 1:
                    remind = office.after(end, NO_REPLY_REMINDER)
                    if remind < INF:
                        add(
                            r,
                            remind,
                            K["commented"],
                            agent,
                            detail=d.variant[4 * r + 3],
                            ref=person,
                        )
                    give_up = office.after(end, NO_REPLY_CANCEL)
                    if give_up < INF:
                        boss = agents[unit.lead] if unit.lead is not None else person
                        add(
                            r,
                            give_up,
                            K["cancelled"],
                            boss,
                            S["waiting_requester"],
                            S["cancelled"],
                            detail=d.variant[4 * r + 3],
                            ref=1,
                        )
                        finished.add(r)
                    return
                replied = answer(person, end, d.reply[2 * r + done])
                asked[r] = (end, replied)
                heapq.heappush(heap, (replied, r, INFO))
            else:
                add(
                    r,
                    end,
                    K["waiting_third_party"],
                    agent,
                    S["in_progress"],
                    S["waiting_third_party"],
                    detail=d.variant[4 * r + 1],
                )
                heapq.heappush(heap, (office.after(end, d.third_party_wait[r]), r, THIRD_PARTY))
            return
        reopened = r in resolved_at
        if d.hold[r] > 0 and not reopened:
            heapq.heappush(heap, (office.after(end, d.hold[r]), r, SIGN_OFF))
            return
        resolve(r, a, start, end)

    def resolve(r: int, a: int, start: int, end: int) -> None:
        agent = agents[a]
        person = requester[r]
        reopened = r in resolved_at
        if d.advice[r] and not reopened:
            given = add(
                r,
                max(start, end - 2),
                K["advice_given"],
                agent,
                detail=d.variant[4 * r + 3],
                ref=person,
            )
            thanks = answer(person, end, d.accept_after[r] / 2)
            if d.acknowledge[r] and thanks < INF:
                add(r, thanks, K[ADVICE_ANSWERS[d.decide[r]]], person, ref=given)
        resolved = add(
            r,
            end,
            K["resolved"],
            agent,
            S["in_progress"],
            S["resolved"],
            detail=d.variant[4 * r + 2] + (1 if reopened else 0),
        )
        resolved_at.setdefault(r, end)
        window_end = end + window_minutes - REOPEN_MARGIN
        if d.reopen[r] and not reopened:
            when = min(answer(person, end, d.reopen_after[r]), window_end)
            heapq.heappush(heap, (when, r, REOPEN))
            return
        finished.add(r)
        accepted = answer(person, end, d.accept_after[r]) if d.accept[r] else INF
        if accepted < window_end:
            add(r, accepted, K["accepted"], person, S["resolved"], S["closed"])
        else:
            # Closed by the worker when the reopen window has passed; timed later, in UTC.
            close = add(r, end + window_minutes, K["closed"], NONE, S["resolved"], S["closed"])
            log.auto_close.append((close, resolved))

    while heap:
        t, r, phase = heapq.heappop(heap)
        if t >= INF or r in finished:
            continue
        s = service[r]
        person = requester[r]
        if phase == ARRIVE:
            add(r, t, K["submitted"], person, NONE, S["new"])
            best, best_key = -1, (INF, 0.0)
            for a in unit.eligible[s]:
                w = max(free[a], float(cals[a].worked_before(t)))
                key = (cals[a].at(w), free[a])
                if key < best_key:
                    best, best_key = a, key
            pick = best_key[0]
            cancel_at = answer(person, t, d.cancel_after[r]) if d.cancel[r] else INF
            if cancel_at < pick:
                add(
                    r,
                    cancel_at,
                    K["cancelled"],
                    person,
                    S["new"],
                    S["cancelled"],
                    detail=d.variant[4 * r + 3],
                    ref=0,
                )
                finished.add(r)
                continue
            if d.chase[r]:
                heapq.heappush(heap, (office.after(t, d.chase_after[r]), r, CHASE))
            if pick >= INF:
                continue
            a = best
            slot_of[r] = a
            agent = agents[a]
            lead = unit.lead
            status = S["new"]
            if d.pattern[r] == 0 and lead is not None and lead != a:
                lead_cal = cals[lead]
                triaged = lead_cal.after(t, d.triage[r])
                if triaged < pick:
                    add(
                        r, triaged, K["assigned"], agents[lead], status, S["assigned"], detail=agent
                    )
                    assigned_at[r] = triaged
                    status = S["assigned"]
            start, end = work(r, a, t, segment(r, 0))
            if status == S["new"] and d.pattern[r] != 2:
                add(r, start, K["assigned"], agent, status, S["assigned"], detail=agent)
                status = S["assigned"]
            assigned_at.setdefault(r, start)
            first_touch[r] = start
            begun = min(start + 1 + d.variant[4 * r + 3] % 10, max(start, end - 1))
            add(r, begun, K["started"], agent, status, S["in_progress"])
            after_work(r, a, start, end)
        elif phase == INFO:
            add(r, t, K["information_provided"], person, S["waiting_requester"], S["in_progress"])
            a = slot_of[r]
            start, end = work(r, a, t, segment(r, progress[r]))
            after_work(r, a, start, end)
        elif phase == THIRD_PARTY:
            a = slot_of[r]
            start, end = work(r, a, t, segment(r, progress[r]))
            if start < INF:
                add(r, start, K["resumed"], agents[a], S["waiting_third_party"], S["in_progress"])
            after_work(r, a, start, end)
        elif phase == REOPEN:
            add(
                r,
                t,
                K["reopened"],
                person,
                S["resolved"],
                S["reopened"],
                detail=d.variant[4 * r + 3],
            )
            a = slot_of[r]
            progress[r] = len(stops_of(r))
            start, end = work(r, a, t, d.touch[r] * d.rework[r])
            if start < INF:
                add(r, start, K["started"], agents[a], S["reopened"], S["in_progress"])
            after_work(r, a, start, end)
        elif phase == SIGN_OFF:
            a = slot_of[r]
            signed = cals[a].next_work(t)
            if signed < INF:
                resolve(r, a, signed, signed)
        elif phase == CHASE:
            if r in resolved_at or (r in asked and asked[r][0] <= t < asked[r][1]):
                continue  # nothing to chase, or the requester owes an answer themself
            # Addressed to whoever holds it by now, if anyone.
            holder = agents[slot_of[r]] if r in slot_of and assigned_at.get(r, INF) <= t else NONE
            add(r, t, K["commented"], person, detail=d.variant[4 * r + 3], ref=holder)
