"""SLA clocks in working time: how much of a target is used, paused and left, and when it is due.

Pure: plain numbers and a ``WorkingCalendar`` in, plain numbers out (no Django). Instants are
aware datetimes or epoch seconds (results are epoch seconds); durations are working seconds.

A clock starts at ``submitted`` with a ``target`` of working seconds. ``paused`` is the
working time already taken off the clock by pauses that have ended; ``paused_since`` is when
the current pause began (``None`` while the clock runs). Then:

- **elapsed** at ``t`` = working time in ``[submitted, t)`` minus ``paused``, counted up to
  the start of the current pause when paused;
- **deadline** = ``calendar.add(submitted, target + paused)``: the earliest instant at which
  elapsed reaches the target, because every ended pause lies before it;
- the clock is **breached** at ``t`` when its deadline is before ``t`` (resolving exactly at
  the deadline meets it);
- a pause that begins after the deadline has passed takes nothing off the clock
  (``resume_credit`` returns 0): a late request stays late, and its deadline stays put.

``replay`` rebuilds a clock from a list of pause intervals (what the event log holds); it
agrees with the step-by-step ``resume_credit`` / ``read`` the actions use, which the tests check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from tandem.engines.worktime import CalendarSpec, WorkingCalendar, to_epoch
from tandem.engines.worktime.engine import Instant

WARN_FRACTION = 0.8  # a warning when 80 % of the target is used


@dataclass(frozen=True)
class Clock:
    target: int  # working seconds agreed
    elapsed: int  # working seconds used (pauses excluded)
    paused: int  # working seconds paused, the current pause included
    remaining: int  # target - elapsed; negative once breached
    deadline: int  # epoch seconds at which elapsed reaches the target (assuming no more pauses)
    running: bool  # False while paused
    breached: bool

    @property
    def due(self) -> int | None:
        """The deadline while it can still fire: ``None`` while paused before a breach."""
        return self.deadline if self.running or self.breached else None


def check_target(seconds: int, field: str) -> int:
    """A target must be a positive whole number of working seconds; ``ValueError`` names the field."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        raise ValueError(f"{field}: a target must be more than zero working time, not {seconds!r}")
    return seconds


def deadline(cal: WorkingCalendar, submitted: Instant, target: int, paused: int) -> int:
    """When elapsed working time reaches ``target``, given ``paused`` working seconds of ended pauses."""
    return cal.add(to_epoch(submitted), target + paused)


def warning(
    cal: WorkingCalendar, submitted: Instant, target: int, paused: int, fraction: float = WARN_FRACTION
) -> int:
    """When ``fraction`` of the target is used (rounded up to the second)."""
    return cal.add(to_epoch(submitted), math.ceil(target * fraction) + paused)


def resume_credit(
    cal: WorkingCalendar, submitted: Instant, target: int, paused: int, paused_since: Instant, resumed: Instant
) -> int:
    """Working seconds a pause ``[paused_since, resumed)`` takes off the clock: all of its working
    time, or 0 when the deadline had already passed when it began."""
    start = to_epoch(paused_since)
    if deadline(cal, submitted, target, paused) < start:
        return 0
    return max(0, cal.between(start, to_epoch(resumed)))


def read(
    cal: WorkingCalendar,
    submitted: Instant,
    target: int,
    paused: int,
    paused_since: Instant | None,
    now: Instant,
) -> Clock:
    """The clock at ``now``."""
    sub, t = to_epoch(submitted), to_epoch(now)
    end = t if paused_since is None else min(t, to_epoch(paused_since))
    due = deadline(cal, sub, target, paused)
    pending = 0 if paused_since is None else resume_credit(cal, sub, target, paused, paused_since, t)
    elapsed = max(0, cal.between(sub, max(sub, end)) - paused)
    return Clock(
        target=target,
        elapsed=elapsed,
        paused=paused + pending,
        remaining=target - elapsed,
        deadline=due,
        running=paused_since is None,
        breached=due < end,
    )


def replay(
    cal: WorkingCalendar,
    submitted: Instant,
    target: int,
    pauses: Iterable[tuple[Instant, Instant | None]],
    now: Instant,
) -> Clock:
    """The clock at ``now`` from its pause intervals ``(start, end)`` (``end`` ``None``: still
    paused), in any order; parts after ``now`` are ignored."""
    t = to_epoch(now)
    paused = 0
    since: int | None = None
    for start, end in sorted((to_epoch(s), None if e is None else to_epoch(e)) for s, e in pauses):
        if start >= t:
            break
        if end is None or end > t:
            since = start
            break
        paused += resume_credit(cal, submitted, target, paused, start, end)
    return read(cal, submitted, target, paused, since, t)


# --- in words --------------------------------------------------------------------------------


def day_length(spec: CalendarSpec) -> int:
    """A calendar's working day: the mean working seconds of its weekdays that have hours."""
    days = [sum(b - a for a, b in hours) for hours in spec.effective_weekly() if hours]
    return round(sum(days) / len(days)) if days else 0


def words(seconds: int, day: int) -> str:
    """Working seconds as ``1 d 2 h``, ``3 h 10 m`` or ``5 m`` (``d`` is a working day of ``day``
    seconds). Negative durations get a minus sign."""
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    days, rest = divmod(rest, day) if day > 0 else (0, rest)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{n} {u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return sign + (" ".join(parts[:2]) if parts else "0 m")


def target_words(seconds: int, day: int) -> str:
    """A target as people state it: ``3 working days`` when whole days, else ``4 h 30 m``."""
    if day > 0 and seconds % day == 0:
        n = seconds // day
        return f"{n} working day{'s' if n != 1 else ''}"
    return f"{words(seconds, 0)} of working time"
