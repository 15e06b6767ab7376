"""Local wall-clock times of a date → UTC epoch seconds, with one rule for DST edges.

The rule (documented in docs/working-time.md):

- an **ambiguous** wall time (it happens twice when clocks go back) means its **first**
  occurrence, the earlier instant (``fold=0``);
- a **nonexistent** wall time (skipped when clocks go forward) means the **moment of the
  transition**, i.e. the first wall time after the gap (02:00 BST for 01:30 on the London
  spring-forward day).

Both choices keep the map from wall time to instant non-decreasing, so the intervals of a
date never invert and the dates of a calendar never overlap: an interval wholly inside a gap
simply becomes empty, and a shift across the gap is shorter by the gap (01:00-03:00 London on
the last Sunday of March is one hour of working time; on the last Sunday of October, three).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _offset(zone: ZoneInfo, naive: datetime) -> int:
    off = zone.utcoffset(naive)
    assert off is not None  # a ZoneInfo always knows its offset
    return off.days * 86_400 + off.seconds


def local_to_utc(zone: ZoneInfo, day: date, seconds: int) -> int:
    """UTC epoch seconds of ``seconds`` after local midnight of ``day`` (86400 = next midnight)."""
    naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    wall = (day.toordinal() - _EPOCH_ORDINAL) * 86_400 + seconds  # the wall time read as UTC
    before = _offset(zone, naive)
    after = _offset(zone, naive.replace(fold=1))
    if before == after:
        return wall - before
    if before > after:  # clocks went back: ambiguous, take the first occurrence
        return wall - before
    # Clocks went forward: the wall time does not exist. The transition T lies in
    # (wall - after, wall - before]; find it to the second (a gap is hours, so ~15 steps).
    lo, hi = wall - after, wall - before
    while hi - lo > 1:
        mid = (lo + hi) // 2
        off = datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset()
        assert off is not None
        if off.days * 86_400 + off.seconds == after:
            hi = mid
        else:
            lo = mid
    return hi


def local_midnight(zone: ZoneInfo, day: date) -> int:
    return local_to_utc(zone, day, 0)
