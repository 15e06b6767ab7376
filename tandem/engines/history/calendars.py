"""The minute grid of a history and the working calendars of the people in it.

Time inside the simulation is a whole number of *local* minutes since local midnight of the
first day (the organisation's time zone, Europe/London in the demo). ``Clock`` turns grid
minutes into UTC epoch seconds with each day's own offset, so summer time is right.

A ``Calendar`` is one person's working time on that grid (weekly pattern, minus weekends,
public holidays and absences) as two tables: how many working minutes lie before each grid
minute, and the grid minute of each working minute. Both lookups are O(1), so the queue
simulation can say "the first moment she is free after 14:10" or "20 working minutes later"
without stepping through the day.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import math
from array import array
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from tandem.engines.history.model import WeekPattern

DAY = 1440
INF = 1 << 40  # "never" on the grid: beyond the simulated horizon


class Clock:
    def __init__(self, start: date, days: int, tz: str) -> None:
        self.start = start
        self.days = days
        self.minutes = days * DAY
        self.zone = ZoneInfo(tz)
        self.tz = tz
        # Local midnight of day 0 read as if it were UTC; the day's offset is subtracted.
        self.base = stdlib_calendar.timegm(start.timetuple())
        extra = 60  # offsets also for due dates and closes beyond the horizon
        noon = [
            datetime.combine(start + timedelta(days=d), time(12), tzinfo=self.zone)
            for d in range(days + extra)
        ]
        self.offset = np.array(
            [int(n.utcoffset().total_seconds()) // 60 for n in noon],  # type: ignore[union-attr]
            dtype=np.int64,
        )
        self.weekday = (np.arange(days + extra) + start.weekday()) % 7
        self.dates = [start + timedelta(days=d) for d in range(days + extra)]

    def day_index(self, day: date) -> int:
        return (day - self.start).days

    def utc(self, minutes: np.ndarray) -> np.ndarray:
        """Grid minutes → UTC epoch seconds (vectorised)."""
        minutes = np.asarray(minutes, dtype=np.int64)
        days = np.clip(minutes // DAY, 0, len(self.offset) - 1)
        return self.base + minutes * 60 - self.offset[days] * 60

    def minute_of(self, moment: datetime) -> int:
        """An aware instant → its grid minute (floor)."""
        local = moment.astimezone(self.zone)
        day = (local.date() - self.start).days
        return day * DAY + local.hour * 60 + local.minute


def day_template(intervals: tuple[tuple[int, int], ...]) -> np.ndarray:
    template = np.zeros(DAY, dtype=bool)
    for start, end in intervals:
        template[max(start, 0) : min(end, DAY)] = True
    return template


def working_mask(clock: Clock, pattern: WeekPattern, off_days: np.ndarray) -> np.ndarray:
    """Boolean per grid minute: working by the weekly pattern and not on an off day."""
    templates = np.stack([day_template(pattern[d] if d < len(pattern) else ()) for d in range(7)])
    per_day = templates[clock.weekday[: clock.days]]
    per_day[off_days[: clock.days]] = False
    return per_day.ravel()


class Calendar:
    """One person's working minutes on the grid, with O(1) lookups both ways."""

    def __init__(self, mask: np.ndarray) -> None:
        cum = np.zeros(len(mask) + 1, dtype=np.int32)
        np.cumsum(mask, out=cum[1:])
        self.cum = array("i")
        self.cum.frombytes(cum.tobytes())
        walls = np.flatnonzero(mask).astype(np.int32)
        self.wall = array("i")
        self.wall.frombytes(walls.tobytes())
        self.n = len(self.wall)  # working minutes in the horizon
        self.horizon = len(mask)

    def worked_before(self, t: int) -> int:
        """Working minutes strictly before grid minute ``t``."""
        if t >= self.horizon:
            return self.n
        return self.cum[t] if t > 0 else 0

    def at(self, w: float) -> int:
        """The grid minute at which working minute ``w`` starts (INF past the horizon)."""
        i = int(w)
        return self.wall[i] if i < self.n else INF

    def end_of(self, w: float) -> int:
        """The grid minute at which the work that ends at working minute ``w`` is done."""
        i = math.ceil(w) - 1
        if i < 0:
            return self.wall[0] if self.n else INF
        return self.wall[i] + 1 if i < self.n else INF

    def next_work(self, t: int) -> int:
        """The first working grid minute at or after ``t``."""
        return self.at(self.worked_before(t))

    def after(self, t: int, minutes: float) -> int:
        """The grid minute when ``minutes`` of working time have passed after ``t``."""
        return self.end_of(self.worked_before(t) + max(minutes, 1.0))
