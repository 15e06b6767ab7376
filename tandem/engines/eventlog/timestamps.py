"""Timestamps from text to int64 microseconds since the epoch, UTC, vectorised.

The common shapes (``YYYY-MM-DD[T ]HH:MM:SS[.fff...][Z|±HH:MM|±HHMM]``, also with ``/`` as the
date separator) are decoded with numpy on a byte matrix, with no Python loop per value. Anything
else (epoch numbers, dates without a time, odd spacing) goes through a per-value fallback, which
only ever sees the odd ones out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

MISSING = np.iinfo(np.int64).min  # the "no timestamp" marker in a parsed array
_WIDTH = 40
_US_PER_S = 1_000_000


@dataclass
class ParsedTimes:
    """Microseconds since 1970-01-01 UTC (``MISSING`` where unparseable or empty)."""

    micros: np.ndarray  # int64
    unparseable: int  # non-empty values that could not be read
    naive: int  # values without an offset, taken as UTC
    offsets: int  # number of distinct UTC offsets seen (minutes)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 for proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _fallback(text: str) -> tuple[int, int | None] | None:
    """One value the vectorised path could not read: (micros, offset minutes or None if naive)."""
    s = text.strip()
    if not s:
        return None
    try:
        number = float(s)
    except ValueError:
        number = None
    if number is not None:
        if not np.isfinite(number):
            return None
        # Epoch numbers: seconds, or milliseconds / microseconds when too big to be seconds.
        scale = 1 if abs(number) >= 1e14 else 1000 if abs(number) >= 1e11 else _US_PER_S
        return round(number * scale), 0
    candidate = s.replace("/", "-").replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        for fmt in ("%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S"):
            try:
                parsed = datetime.strptime(candidate, fmt)
                break
            except ValueError:
                continue
        else:
            return None
    offset = parsed.utcoffset()
    naive = offset is None
    if naive:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86400 + delta.seconds) * _US_PER_S + delta.microseconds
    return micros, None if naive else int(offset.total_seconds() // 60)  # type: ignore[union-attr]


def parse_timestamps(values: Sequence[str | None] | Sequence[bytes]) -> ParsedTimes:
    """Parse many timestamp strings (or UTF-8 bytes, as the XES reader hands them over) at once."""
    n = len(values)
    if n == 0:
        return ParsedTimes(np.full(0, MISSING, dtype=np.int64), 0, 0, 0)
    if isinstance(values[0], bytes):
        clean: list = list(values)
        raw = np.array(values, dtype=f"S{_WIDTH}")
        too_long = np.fromiter(map(len, clean), dtype=np.int64, count=n) > _WIDTH
    else:
        clean = ["" if v is None else v for v in values]
        # Non-ASCII or over-long values fail the fast path's checks and reach the fallback.
        too_long = np.fromiter(map(len, clean), dtype=np.int64, count=n) > _WIDTH
        try:
            raw = np.array(clean, dtype=f"U{_WIDTH}").astype(f"S{_WIDTH}")
        except UnicodeEncodeError:
            raw = np.array([v.encode("ascii", "replace")[:_WIDTH] for v in clean], dtype=f"S{_WIDTH}")

    def text_of(i: int) -> str:
        text = clean[i]
        return text.decode("utf-8", "replace") if isinstance(text, bytes) else text

    return parse_fixed_width(raw, too_long, text_of)


def parse_fixed_width(raw: np.ndarray, too_long: np.ndarray, text_of: Callable[[int], str]) -> ParsedTimes:
    """The vectorised core: ``raw`` is an ``S40`` array (NUL-padded), ``text_of(i)`` the full text of row i.

    Works on the transposed byte matrix (one contiguous row per character position) in int32,
    and reads the characters after the seconds per distinct position of the fraction's end
    rather than with a gather per row: 1M timestamps in 0.16 s of CPU, against 0.40–0.60 s for
    the row-major int64 version before it (same values, measured in one process). Dates become
    days through a table per (year, month) when the years span less than 8,000 months.
    """
    n = len(raw)
    out = np.full(n, MISSING, dtype=np.int64)
    offsets_seen: set[int] = set()
    t = np.ascontiguousarray(raw.view(np.uint8).reshape(n, _WIDTH).T)  # t[c]: character c of every value
    d = t - np.uint8(48)  # digits are 0..9, everything else wraps to >= 10

    def isdig(c: int) -> np.ndarray:
        return d[c] < 10

    def val(c: int) -> np.ndarray:
        return d[c].astype(np.int32)

    def num(a: int, b: int) -> np.ndarray:
        acc = val(a)
        for c in range(a + 1, b):
            acc = acc * 10 + val(c)
        return acc

    ok = np.ones(n, dtype=bool)
    for c in (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18):
        ok &= isdig(c)
    ok &= ((t[4] == 45) & (t[7] == 45)) | ((t[4] == 47) & (t[7] == 47))
    ok &= (t[10] == 84) | (t[10] == 32) | (t[10] == 116)
    ok &= (t[13] == 58) & (t[16] == 58)
    year, month, day = num(0, 4), num(5, 7), num(8, 10)
    hour, minute, sec = num(11, 13), num(14, 16), num(17, 19)
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (hour <= 24) & (minute < 60) & (sec <= 60)
    # Fraction: a '.' (or ',') at 19 followed by a run of digits.
    has_frac = (t[19] == 46) | (t[19] == 44)
    run = np.zeros(n, dtype=np.int32)
    going = has_frac.copy()
    for c in range(20, _WIDTH):
        going &= isdig(c)
        if not going.any():
            break
        run += going
    frac_us = np.zeros(n, dtype=np.int32)
    for k in range(6):  # first six fraction digits; more are truncated
        frac_us += np.where(run > k, val(20 + k), 0) * np.int32(10 ** (5 - k))
    pos = np.where(has_frac, 20 + run, 19)
    ok &= ~has_frac | (run > 0)
    # The characters after the seconds, per distinct position where they start.
    places = [(p, pos == p) for p in np.flatnonzero(np.bincount(pos, minlength=_WIDTH + 1)).tolist()]

    def at(offset: int) -> np.ndarray:
        if len(places) == 1:
            p = places[0][0] + offset
            return t[p] if p < _WIDTH else np.zeros(n, dtype=np.uint8)
        got = np.zeros(n, dtype=np.uint8)
        for p, where in places:
            if p + offset < _WIDTH:
                got[where] = t[p + offset][where]
        return got

    def digit(c: np.ndarray) -> np.ndarray:
        return (c - np.uint8(48)) < 10

    ch, c1, c2, c3, c4, c5, c6 = (at(k) for k in range(7))
    is_end = ch == 0
    is_z = (ch == 90) | (ch == 122)
    is_sign = (ch == 43) | (ch == 45)
    colon = c3 == 58
    # Offsets "+HH:MM" (6 chars) or "+HHMM" (5 chars).
    mm_a = np.where(colon, c4, c3).astype(np.int32) - 48
    mm_b = np.where(colon, c5, c4).astype(np.int32) - 48
    mm_ok = np.where(colon, digit(c4) & digit(c5) & (c6 == 0), digit(c3) & digit(c4) & (c5 == 0))
    off_ok = is_sign & digit(c1) & digit(c2) & mm_ok
    z_ok = is_z & (c1 == 0)
    ok &= is_end | z_ok | off_ok
    ok &= ~too_long
    hh = (c1.astype(np.int32) - 48) * 10 + (c2.astype(np.int32) - 48)
    off_min = np.where(off_ok, np.where(ch == 45, -1, 1) * (hh * 60 + mm_a * 10 + mm_b), 0)
    days = _days(year, month, day, ok)
    seconds = days * 86400 + (hour * 3600 + minute * 60 + sec - off_min * 60)
    micros = seconds * _US_PER_S + frac_us
    out[ok] = micros[ok]
    naive = int((ok & is_end).sum())
    zoned = off_min[ok & ~is_end]
    if len(zoned):
        lo, hi = int(zoned.min()), int(zoned.max())
        offsets_seen.update([lo] if lo == hi else np.unique(zoned).tolist())
    unparseable = 0
    for i in np.flatnonzero(~ok).tolist():
        text = text_of(i)
        if not text.strip():
            continue
        got = _fallback(text)
        if got is None:
            unparseable += 1
            continue
        out[i] = got[0]
        if got[1] is None:
            naive += 1
        else:
            offsets_seen.add(got[1])
    return ParsedTimes(out, unparseable, naive, len(offsets_seen))


def _days(year: np.ndarray, month: np.ndarray, day: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 as int64; rows outside ``ok`` get a value that is never used."""
    ym = year * 12 + (month - 1)
    good = ym[ok]
    if not len(good):
        return np.zeros(len(year), dtype=np.int64)
    lo, hi = int(good.min()), int(good.max())
    if hi - lo >= 8000:
        return _days_from_civil(year.astype(np.int64), month.astype(np.int64), day.astype(np.int64))
    span = np.arange(lo, hi + 1, dtype=np.int64)
    table = _days_from_civil(span // 12, span % 12 + 1, np.ones(len(span), dtype=np.int64))
    return table[np.clip(ym - lo, 0, hi - lo)] + (day.astype(np.int64) - 1)


def format_timestamps(micros: np.ndarray) -> list[str]:
    """ISO 8601 / xs:dateTime in UTC with an explicit ``+00:00`` offset.

    Milliseconds when every value is a whole millisecond (what ProM and Disco write), otherwise
    microseconds, so that nothing is lost.
    """
    if len(micros) == 0:
        return []
    unit = "ms" if not np.any(micros % 1000) else "us"
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit=unit)  # type: ignore[call-overload]
    return [t + "+00:00" for t in text.tolist()]
