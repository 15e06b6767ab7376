"""A slow, obviously-correct working-time reference: one boolean per UTC minute.

It shares no code with the engine. A date's hours come from ``hours_of`` (written out again
here from the documented precedence), each wall time becomes an instant by the documented DST
rule, found by trial (fold=0 for an ambiguous time; for a skipped one, step the wall clock a
minute at a time until it exists), every UTC minute of ``[start, end)`` is marked, and the
questions are answered by walking the minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays as holidays_package

Hours = list[tuple[str, str]]


def minutes_of(clock: str) -> int:
    h, m = clock.split(":")
    return int(h) * 60 + int(m)


def wall_to_epoch(zone: ZoneInfo, day: date, minute: int) -> int:
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    while True:
        aware = naive.replace(tzinfo=zone, fold=0)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
            return int(aware.timestamp())
        naive += timedelta(minutes=1)  # inside a spring-forward gap


@cache
def public_holidays(country: str, subdivision: str | None) -> frozenset[date]:
    return frozenset(
        holidays_package.country_holidays(country, subdiv=subdivision, years=range(2019, 2032))
    )


def hours_function(
    weekly: dict[int, Hours],
    country: str | None = None,
    subdivision: str | None = None,
    closures: dict[date, Hours] | None = None,  # [] = closed all day; else hours left open
    openings: dict[date, Hours] | None = None,
    person: dict[int, Hours] | None = None,
    absences: set[date] | None = None,
) -> Callable[[date], list[tuple[int, int]]]:
    """A date → its working minutes [(start, end)], by the documented precedence."""
    closures, openings, absences = closures or {}, openings or {}, absences or set()
    found = public_holidays(country, subdivision) if country else frozenset()

    def minute_set(hours: Hours) -> set[int]:
        return {m for a, b in hours for m in range(minutes_of(a), minutes_of(b))}

    def hours_of(day: date) -> list[tuple[int, int]]:
        if day in absences:
            return []
        if day in openings:
            minutes = minute_set(openings[day])
        elif day in found or (day in closures and not closures[day]):
            return []
        else:
            minutes = minute_set(weekly.get(day.weekday(), []))
            if day in closures:
                minutes &= minute_set(closures[day])
        if person is not None:
            minutes &= minute_set(person.get(day.weekday(), []))
        runs, start = [], None
        for m in range(1441):
            if m in minutes and start is None:
                start = m
            if m not in minutes and start is not None:
                runs.append((start, m))
                start = None
        return runs

    return hours_of


class MinuteReference:
    """Working minutes of the local dates ``[first, last]``; answers for instants inside."""

    def __init__(
        self, tz: str, hours_of: Callable[[date], list[tuple[int, int]]], first: date, last: date
    ):
        zone = ZoneInfo(tz)
        self.lo = wall_to_epoch(zone, first, 0)
        self.hi = wall_to_epoch(zone, last + timedelta(days=1), 0)
        self.open = [False] * ((self.hi - self.lo) // 60)
        day = first
        while day <= last:
            for a, b in hours_of(day):
                start, end = wall_to_epoch(zone, day, a), wall_to_epoch(zone, day, b)
                for m in range((start - self.lo) // 60, (end - self.lo) // 60):
                    self.open[m] = True
            day += timedelta(days=1)

    def index(self, t: int) -> int:
        assert t % 60 == 0 and self.lo <= t <= self.hi, t
        return (t - self.lo) // 60

    def is_open(self, t: int) -> bool:
        return self.open[self.index(t)]

    def between(self, a: int, b: int) -> int:
        if b < a:
            return -self.between(b, a)
        return 60 * sum(self.open[self.index(a) : self.index(b)])

    def add(self, t: int, seconds: int) -> int | None:
        """Walk the minutes; None when the answer lies beyond the reference's dates."""
        assert seconds % 60 == 0
        m, left = self.index(t), seconds
        while left > 0:
            if m >= len(self.open):
                return None
            if self.open[m]:
                left -= 60
            m += 1
        return self.lo + 60 * m

    def next_open(self, t: int) -> int | None:
        m = self.index(t)
        while m < len(self.open) and not self.open[m]:
            m += 1
        return None if m >= len(self.open) else self.lo + 60 * m
