"""Working-day arithmetic for published turnarounds.

A turnaround of N working days from an instant lands on the same local time of day N working
days later; an instant outside working days first rolls to the start of the next working day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONDAY_TO_FRIDAY = frozenset({0, 1, 2, 3, 4})


def add_working_days(
    start: datetime,
    days: int,
    tz: str = "Europe/London",
    working_weekdays: frozenset[int] = MONDAY_TO_FRIDAY,
    day_starts: time = time(9, 0),
    closed: frozenset[date] = frozenset(),
) -> datetime:
    """Return the aware instant ``days`` working days after ``start`` (aware, any zone)."""
    if start.tzinfo is None:
        raise ValueError("start must be time-zone aware")
    if not working_weekdays:
        raise ValueError("a calendar needs at least one working weekday")
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)

    def is_working(d: date) -> bool:
        return d.weekday() in working_weekdays and d not in closed

    day = local.date()
    clock = local.timetz().replace(tzinfo=None)
    if not is_working(day):
        while not is_working(day):
            day += timedelta(days=1)
        clock = day_starts
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working(day):
            remaining -= 1
    return datetime.combine(day, clock, tzinfo=zone)


def working_days_between(
    a: date, b: date, working_weekdays: frozenset[int] = MONDAY_TO_FRIDAY
) -> int:
    """Whole working days after ``a`` up to and including ``b`` (0 when b <= a)."""
    if b <= a:
        return 0
    weeks, extra = divmod((b - a).days, 7)
    count = weeks * len(working_weekdays)
    for offset in range(1, extra + 1):
        if (a + timedelta(days=offset)).weekday() in working_weekdays:
            count += 1
    return count
