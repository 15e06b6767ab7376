"""Internal legs (OLAs): does the back office's time fit inside what the customer is promised?

Pure (no Django). A front-office unit promises a customer a resolution target in working time
of its own calendar. Meeting it needs back-office services, each with its own agreed resolution
target (a "leg"). Legs run one after the other, so the promise is covered when

    sum of the legs' targets + margin <= the customer target.

Every duration is in **working seconds**. A leg's working time is counted as the same working
time of the front unit (a working hour of Payroll counts as a working hour of the branch); days
in the words are the front unit's working day. docs/agreements.md explains the simplification.

Durations as people type them are parsed here too: ``"4h"``, ``"3d"``, ``"1d 4h"``,
``"2 h 30 m"``, ``"90"`` (minutes) or ``"90m"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tandem.engines.agreements.slaclock import target_words, words

MAX_MINUTES = 1_000_000  # about 2,000 working days: more is a typing mistake
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m)?", re.IGNORECASE)


def parse_duration(text: str, day_seconds: int, field: str = "duration") -> int:
    """Working minutes in ``text``: ``"1d 4h"``, ``"4h"``, ``"3d"``, ``"45m"`` or ``"90"``
    (bare numbers are minutes). ``d`` is a working day of ``day_seconds``. ``ValueError``
    names ``field`` for zero, negative, fractional minutes or anything else."""
    raw = (text or "").strip().lower().replace(",", " ")
    example = 'e.g. "4h", "3d", "1d 4h" or "90" (minutes)'
    if not raw:
        raise ValueError(f"{field}: give a duration in working time ({example}).")
    if raw.startswith("-"):
        raise ValueError(f"{field}: {text!r} is negative; give a duration more than zero.")
    pos, seconds, units = 0, 0.0, set()
    while pos < len(raw):
        if raw[pos].isspace():
            pos += 1
            continue
        found = _PART.match(raw, pos)
        if found is None:
            raise ValueError(f"{field}: {text!r} is not a duration ({example}).")
        number, unit = float(found.group(1)), (found.group(2) or "m")
        if unit in units:
            raise ValueError(f"{field}: {text!r} gives {unit} twice ({example}).")
        units.add(unit)
        if unit == "d" and day_seconds <= 0:
            raise ValueError(f"{field}: the calendar has no working day to count days in.")
        seconds += number * {"d": day_seconds, "h": 3600, "m": 60}[unit]
        pos = found.end()
    minutes = seconds / 60
    if minutes != int(minutes):
        raise ValueError(f"{field}: {text!r} is not a whole number of minutes.")
    if minutes <= 0:
        raise ValueError(f"{field}: {text!r} is zero; give a duration more than zero.")
    if minutes > MAX_MINUTES:
        raise ValueError(f"{field}: {text!r} is too long (at most {MAX_MINUTES:,} working minutes).")
    return int(minutes)


def minutes_words(minutes: int, day_seconds: int) -> str:
    """Working minutes as the forms show them back: ``1d 4h``, ``4h 30m``, ``45m``."""
    days, rest = divmod(minutes * 60, day_seconds) if day_seconds > 0 else (0, minutes * 60)
    hours, rest = divmod(rest, 3600)
    mins = rest // 60
    return " ".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (mins, "m")) if n) or "0m"


@dataclass(frozen=True)
class Leg:
    service: str
    target: int  # working seconds


@dataclass(frozen=True)
class Coverage:
    customer_target: int  # working seconds promised to the customer
    legs: tuple[Leg, ...]
    margin: int  # working seconds kept in hand
    total: int  # legs + margin
    shortfall: int  # total - customer_target when positive, else 0
    day: int  # the front unit's working day, in seconds, for the words

    @property
    def ok(self) -> bool:
        return self.shortfall == 0

    @property
    def spare(self) -> int:
        return max(0, self.customer_target - self.total)

    def sum_words(self) -> str:
        parts = [f"{leg.service} {words(leg.target, self.day)}" for leg in self.legs]
        parts.append(f"margin {words(self.margin, self.day)}")
        return " + ".join(parts)

    @property
    def message(self) -> str:
        """One sentence with the numbers, e.g. "The customer is promised 3 working days, but
        Payroll 2 d + Timesheets 1 d 4 h + margin 2 h = 3 d 6 h: 6 h short."."""
        promised = target_words(self.customer_target, self.day)
        total = words(self.total, self.day)
        if not self.ok:
            return (
                f"The customer is promised {promised}, but {self.sum_words()} = {total}: "
                f"{words(self.shortfall, self.day)} short."
            )
        spare = f" ({words(self.spare, self.day)} to spare)" if self.spare else ""
        return f"Covered: {self.sum_words()} = {total}, within the {promised} promised{spare}."


def check_coverage(customer_target: int, legs: Sequence[tuple[str, int]], margin: int, day: int) -> Coverage:
    """Sequential legs: the customer target must hold every leg's target plus the margin."""
    if customer_target <= 0 or margin < 0 or any(t <= 0 for _, t in legs):
        raise ValueError("targets must be more than zero and the margin not negative")
    total = sum(t for _, t in legs) + margin
    return Coverage(
        customer_target=customer_target,
        legs=tuple(Leg(name, t) for name, t in legs),
        margin=margin,
        total=total,
        shortfall=max(0, total - customer_target),
        day=day,
    )
