"""``WorkingCalendar``: a ``CalendarSpec`` compiled into sorted UTC arrays, queried by bisection.

For a window of whole local years the calendar holds its working intervals as UTC epoch
seconds, ``starts[i] < ends[i] <= starts[i+1]`` (touching intervals merged, so a gap between
two intervals is real closed time), and ``cum[i]``, the working seconds before interval ``i``
(``cum[n]`` is the window's total). A zero-length interval at the window's first instant
(``lo``) heads the arrays, so every instant ``t >= lo`` has an interval at or before it.

With ``W(t)`` = working seconds in ``[lo, t)`` (one bisection), every query is O(log n):

- ``between(a, b) = W(b) - W(a)``;
- ``add(t, d)`` = the earliest ``e >= t`` with ``W(e) = W(t) + d`` (``t`` itself for ``d == 0``);
- ``subtract(t, d)`` = the latest ``e <= t`` with ``W(e) = W(t) - d``.

The window starts at about three years around the first instant asked for and grows (at least
doubling) when an instant or a result falls outside it; years already built are kept, so
growing costs only the new years. Readers take one reference to the immutable table, so
concurrent queries are safe while another thread grows it.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from tandem.engines.worktime.localtime import local_to_utc
from tandem.engines.worktime.spec import CalendarSpec, holiday_dates

MIN_YEAR, MAX_YEAR = 1900, 2400  # supported local years: [MIN_YEAR, MAX_YEAR)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)

Epochs = npt.NDArray[np.int64]
Instant = int | datetime | np.integer
Duration = int | timedelta | np.integer


# --- inputs ----------------------------------------------------------------------------------


def to_epoch(t: Instant) -> int:
    """An aware datetime (any zone) or integer epoch seconds → epoch seconds (floored)."""
    if isinstance(t, datetime):
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(
                f"naive datetime {t.isoformat()}: "
                "give an aware datetime (with tzinfo) or epoch seconds"
            )
        if t.microsecond:
            return (t - _EPOCH) // _SECOND
        return int(t.timestamp())
    if isinstance(t, int | np.integer) and not isinstance(t, bool):
        return int(t)
    raise TypeError(f"{t!r}: an instant is an aware datetime or integer epoch seconds")


def to_seconds(d: Duration) -> int:
    if isinstance(d, timedelta):
        if d.microseconds:
            raise ValueError(f"{d!r}: working durations are whole seconds")
        return d.days * 86_400 + d.seconds
    if isinstance(d, int | np.integer) and not isinstance(d, bool):
        return int(d)
    raise TypeError(f"{d!r}: a working duration is whole seconds (int) or a timedelta")


def epoch_array(x: npt.ArrayLike) -> tuple[Epochs, bool]:
    """An array of epoch seconds (integers) or of ``datetime64`` → int64 seconds, and whether
    it was ``datetime64`` (results then come back as ``datetime64[s]``)."""
    arr = np.asarray(x)
    if arr.dtype.kind == "M":
        if np.isnat(arr).any():
            raise ValueError("NaT among the instants")
        return arr.astype("datetime64[s]").astype(np.int64), True
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False), False
    raise TypeError(f"instants must be integer epoch seconds or datetime64, not {arr.dtype}")


def seconds_array(x: npt.ArrayLike) -> Epochs:
    arr = np.asarray(x)
    if arr.dtype.kind == "m":
        return arr.astype("timedelta64[s]").astype(np.int64)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    raise TypeError(f"durations must be integer seconds or timedelta64, not {arr.dtype}")


# --- the compiled table ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    first: int  # local years [first, end)
    end: int
    lo: int  # instants covered: [lo, hi]
    hi: int
    starts: list[int]
    ends: list[int]
    cum: list[int]  # len(starts) + 1 entries
    total: int
    s: Epochs
    e: Epochs
    c: Epochs
    base: Epochs  # cum[i] - starts[i]: W(t) = base[i] + min(t, ends[i])

    def covers(self, lo: int, hi: int) -> bool:
        return self.lo <= lo and hi <= self.hi


def _assemble(
    first: int, end: int, lo: int, hi: int, chunks: list[tuple[list[int], list[int]]]
) -> _Table:
    starts, ends = [lo], [lo]
    for chunk_starts, chunk_ends in chunks:
        for a, b in zip(chunk_starts, chunk_ends, strict=True):
            if a == ends[-1]:
                ends[-1] = b  # a shift over midnight or a new year: one interval
            else:
                starts.append(a)
                ends.append(b)
    cum = [0] * (len(starts) + 1)
    running = 0
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        running += b - a
        cum[i + 1] = running
    s = np.array(starts, dtype=np.int64)
    e = np.array(ends, dtype=np.int64)
    c = np.array(cum, dtype=np.int64)
    return _Table(first, end, lo, hi, starts, ends, cum, running, s, e, c, c[:-1] - s)


# --- the calendar ----------------------------------------------------------------------------


class WorkingCalendar:
    """Working-time arithmetic on one calendar. Instants are aware datetimes (results come
    back as aware UTC datetimes) or integer epoch seconds (results are integers); naive
    datetimes are refused. Durations are whole seconds (int, or timedelta).

    Intervals are half-open: an instant at an interval's start is open, at its end closed.
    """

    def __init__(self, spec: CalendarSpec, years: tuple[int, int] | None = None) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.tz)
        self._lock = threading.Lock()
        self._chunks: dict[int, tuple[list[int], list[int]]] = {}
        self._table: _Table | None = None
        if years is not None:
            self._grow(*years)

    @staticmethod
    def of(spec: CalendarSpec) -> WorkingCalendar:
        """A shared, compiled calendar per spec (specs are hashable): build each once."""
        return _cached(spec)

    def __repr__(self) -> str:
        t = self._table
        built = f"{t.first}-{t.end - 1}, {len(t.starts) - 1} intervals" if t else "not built yet"
        return f"<WorkingCalendar {self.spec.tz} {built}>"

    @property
    def years(self) -> tuple[int, int] | None:
        """The local years ``[first, end)`` compiled so far."""
        t = self._table
        return (t.first, t.end) if t else None

    @property
    def interval_count(self) -> int:
        """Working intervals compiled so far (touching ones merged)."""
        t = self._table
        return len(t.starts) - 1 if t else 0

    # --- building -------------------------------------------------------------------------

    def _year_of(self, t: int) -> int:
        try:
            year = datetime.fromtimestamp(t, self.zone).year
        except (OverflowError, OSError, ValueError):
            year = -1
        if not MIN_YEAR <= year < MAX_YEAR:
            raise ValueError(f"instant {t} is outside the years {MIN_YEAR} to {MAX_YEAR - 1}")
        return year

    def _year_chunk(self, year: int, holidays: frozenset[date]) -> tuple[list[int], list[int]]:
        hours = self.spec.day_hours(holidays)
        zone = self.zone
        starts: list[int] = []
        ends: list[int] = []
        day, one = date(year, 1, 1), timedelta(days=1)
        while day.year == year:
            for a, b in hours(day):
                start, end = local_to_utc(zone, day, a), local_to_utc(zone, day, b)
                if start >= end:
                    continue  # wholly inside a spring-forward gap
                if ends and ends[-1] == start:
                    ends[-1] = end
                else:
                    starts.append(start)
                    ends.append(end)
            day += one
        return starts, ends

    def _grow(self, first: int, end: int) -> _Table:
        """Make the table cover at least the local years ``[first, end)``."""
        with self._lock:
            old = self._table
            if old is not None:
                first, end = min(first, old.first), max(end, old.end)
                if (first, end) == (old.first, old.end):
                    return old
            if first < MIN_YEAR or end > MAX_YEAR:
                raise ValueError(
                    f"working time beyond the years {MIN_YEAR} to {MAX_YEAR - 1} is not supported "
                    f"(asked for {first} to {end - 1})"
                )
            missing = [y for y in range(first, end) if y not in self._chunks]
            if missing:
                spec = self.spec
                holidays: frozenset[date] = frozenset()
                if spec.country is not None:
                    holidays = holiday_dates(
                        spec.country, spec.subdivision, missing[0], missing[-1] + 1
                    )
                for year in missing:
                    self._chunks[year] = self._year_chunk(year, holidays)
            lo = local_to_utc(self.zone, date(first, 1, 1), 0)
            hi = (
                local_to_utc(self.zone, date(end, 1, 1), 0)
                if end < MAX_YEAR
                else local_to_utc(self.zone, date(end - 1, 12, 31), 86_400)
            )
            table = _assemble(first, end, lo, hi, [self._chunks[y] for y in range(first, end)])
            self._table = table
            return table

    def _cover(self, lo: int, hi: int) -> _Table:
        """The table, grown so that ``[lo, hi]`` lies inside it."""
        t = self._table
        if t is not None and t.covers(lo, hi):
            return t
        y_lo, y_hi = self._year_of(lo), self._year_of(hi)
        if t is None:
            return self._grow(max(MIN_YEAR, y_lo - 1), min(MAX_YEAR, y_hi + 2))
        span = t.end - t.first
        first = min(t.first, max(MIN_YEAR, min(y_lo - 1, t.first - span))) if lo < t.lo else t.first
        end = max(t.end, min(MAX_YEAR, max(y_hi + 2, t.end + span))) if hi > t.hi else t.end
        return self._grow(first, end)

    def _grow_forward(self, t: _Table, short: int) -> _Table:
        """Grow so that ``short`` more working seconds lie after the table's end."""
        span = t.end - t.first
        per_year = max(1, t.total // span)
        if t.end >= MAX_YEAR:
            raise ValueError(
                f"working time beyond the years {MIN_YEAR} to {MAX_YEAR - 1} is not supported"
            )
        return self._grow(t.first, min(MAX_YEAR, t.end + max(span, -(-short // per_year) + 1)))

    def _grow_backward(self, t: _Table, short: int) -> _Table:
        span = t.end - t.first
        per_year = max(1, t.total // span)
        if t.first <= MIN_YEAR:
            raise ValueError(
                f"working time beyond the years {MIN_YEAR} to {MAX_YEAR - 1} is not supported"
            )
        return self._grow(max(MIN_YEAR, t.first - max(span, -(-short // per_year) + 1)), t.end)

    # --- scalar queries -------------------------------------------------------------------

    def between(self, a: Instant, b: Instant) -> int:
        """Working seconds in ``[a, b)``; negative when ``b < a``:
        ``between(b, a) == -between(a, b)``."""
        a = a if type(a) is int else to_epoch(a)
        b = b if type(b) is int else to_epoch(b)
        t = self._table
        if t is None or not (t.lo <= a <= t.hi and t.lo <= b <= t.hi):
            t = self._cover(min(a, b), max(a, b))
        starts, ends, cum = t.starts, t.ends, t.cum
        i = bisect_right(starts, a) - 1
        j = bisect_right(starts, b) - 1
        return (cum[j] + min(b, ends[j]) - starts[j]) - (cum[i] + min(a, ends[i]) - starts[i])

    @overload
    def add(self, t: datetime, seconds: Duration) -> datetime: ...
    @overload
    def add(self, t: int | np.integer, seconds: Duration) -> int: ...
    def add(self, t: Instant, seconds: Duration) -> int | datetime:
        """The earliest instant ``e >= t`` with ``between(t, e) == seconds`` (``seconds >= 0``).

        ``add(t, 0) == t``. From outside working hours the clock starts at the next opening.
        When the budget runs out exactly at a closing time, the result is that closing time
        (not the next opening): it is the earliest instant with the required working time.
        """
        x = t if type(t) is int else to_epoch(t)
        d = seconds if type(seconds) is int else to_seconds(seconds)
        if d < 0:
            raise ValueError(f"seconds={d}: add a non-negative duration (use subtract to go back)")
        if d == 0:
            return t if type(t) is int else _result(x, t)
        tab = self._table
        if tab is None or not tab.lo <= x <= tab.hi:
            tab = self._cover(x, x)
        while True:
            starts, cum = tab.starts, tab.cum
            i = bisect_right(starts, x) - 1
            w = cum[i] + min(x, tab.ends[i]) - starts[i] + d
            if w <= tab.total:
                break
            tab = self._grow_forward(tab, w - tab.total)
        j = bisect_left(cum, w) - 1
        e = starts[j] + w - cum[j]
        return e if type(t) is int else _result(e, t)

    @overload
    def subtract(self, t: datetime, seconds: Duration) -> datetime: ...
    @overload
    def subtract(self, t: int | np.integer, seconds: Duration) -> int: ...
    def subtract(self, t: Instant, seconds: Duration) -> int | datetime:
        """The latest instant ``e <= t`` with ``between(e, t) == seconds`` (``seconds >= 0``):
        "two working hours before the deadline". ``subtract(t, 0) == t``; when the budget
        runs out exactly at an opening time, the result is that opening time."""
        x = t if type(t) is int else to_epoch(t)
        d = seconds if type(seconds) is int else to_seconds(seconds)
        if d < 0:
            raise ValueError(
                f"seconds={d}: subtract a non-negative duration (use add to go forward)"
            )
        if d == 0:
            return t if type(t) is int else _result(x, t)
        tab = self._cover(x, x)
        while True:
            starts, cum = tab.starts, tab.cum
            i = bisect_right(starts, x) - 1
            w = cum[i] + min(x, tab.ends[i]) - starts[i] - d
            if w >= 0:
                break
            tab = self._grow_backward(tab, -w)
        j = bisect_right(cum, w) - 1
        e = starts[j] + w - cum[j]
        return e if type(t) is int else _result(e, t)

    def is_open(self, t: Instant) -> bool:
        """Whether ``t`` is working time (interval starts are open, ends closed)."""
        x = t if type(t) is int else to_epoch(t)
        tab = self._cover(x, x)
        i = bisect_right(tab.starts, x) - 1
        return x < tab.ends[i]

    @overload
    def next_open(self, t: datetime) -> datetime: ...
    @overload
    def next_open(self, t: int | np.integer) -> int: ...
    def next_open(self, t: Instant) -> int | datetime:
        """``t`` when it is working time, else the start of the next working interval."""
        x = t if type(t) is int else to_epoch(t)
        tab = self._cover(x, x)
        while True:
            i = bisect_right(tab.starts, x) - 1
            if x < tab.ends[i]:
                return t if type(t) is int else _result(x, t)
            if i + 1 < len(tab.starts):
                e = tab.starts[i + 1]
                return e if type(t) is int else _result(e, t)
            tab = self._grow_forward(tab, 1)

    def working_intervals(self, a: Instant, b: Instant) -> list[tuple[int, int]]:
        """The working intervals inside ``[a, b)``, clipped, as epoch-second pairs: what
        ``between(a, b)`` adds up (for explaining a clock)."""
        x, y = to_epoch(a), to_epoch(b)
        if y <= x:
            return []
        tab = self._cover(x, y)
        i = bisect_right(tab.starts, x) - 1
        out = []
        while i < len(tab.starts) and tab.starts[i] < y:
            start, end = max(x, tab.starts[i]), min(y, tab.ends[i])
            if start < end:
                out.append((start, end))
            i += 1
        return out

    # --- vectorised queries ---------------------------------------------------------------

    def _cover_many(self, *arrays: Epochs) -> _Table:
        lo = min(int(a.min()) for a in arrays)
        hi = max(int(a.max()) for a in arrays)
        return self._cover(lo, hi)

    @staticmethod
    def _w(tab: _Table, t: Epochs) -> Epochs:
        i = np.searchsorted(tab.s, t, side="right") - 1
        return tab.base[i] + np.minimum(t, tab.e[i])

    def between_many(self, a: npt.ArrayLike, b: npt.ArrayLike) -> Epochs:
        """``between`` element-wise over arrays (broadcast) of epoch seconds or datetime64."""
        x, _ = epoch_array(a)
        y, _ = epoch_array(b)
        if x.size == 0 or y.size == 0:
            return np.zeros(np.broadcast_shapes(x.shape, y.shape), dtype=np.int64)
        tab = self._cover_many(x, y)
        return self._w(tab, y) - self._w(tab, x)

    def add_many(
        self, t: npt.ArrayLike, seconds: npt.ArrayLike
    ) -> npt.NDArray[np.int64] | npt.NDArray[np.datetime64]:
        """``add`` element-wise (broadcast). Returns int64 epoch seconds, or datetime64[s]
        when ``t`` is datetime64."""
        x, is_datetime = epoch_array(t)
        d = seconds_array(seconds)
        x, d = np.broadcast_arrays(x, d)
        if x.size == 0:
            out = np.zeros(x.shape, dtype=np.int64)
        else:
            if d.min() < 0:
                raise ValueError("seconds: add non-negative durations (use subtract to go back)")
            tab = self._cover_many(x)
            while True:
                w = self._w(tab, x) + d
                top = int(w.max())
                if top <= tab.total:
                    break
                tab = self._grow_forward(tab, top - tab.total)
            j = np.searchsorted(tab.c, w, side="left") - 1
            out = np.where(d == 0, x, tab.s[j] + (w - tab.c[j]))
        return out.astype("datetime64[s]") if is_datetime else out

    def is_open_many(self, t: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        x, _ = epoch_array(t)
        if x.size == 0:
            return np.zeros(x.shape, dtype=bool)
        tab = self._cover_many(x)
        i = np.searchsorted(tab.s, x, side="right") - 1
        return x < tab.e[i]


def _result(e: int, like: Instant) -> datetime:
    """The answer for a datetime question: an aware UTC datetime."""
    return datetime.fromtimestamp(e, UTC)


@lru_cache(maxsize=512)
def _cached(spec: CalendarSpec) -> WorkingCalendar:
    return WorkingCalendar(spec)
