"""A business calendar as plain, validated, hashable data: ``CalendarSpec``.

A spec says which local hours of which dates are working time. It knows nothing about
instants or arrays (``engine.WorkingCalendar`` compiles it into those), so it can be stored
as JSON (``to_data`` / ``from_data``), compared, and used as a cache key.

The hours of one local date, in order of precedence:

1. a date in ``absences`` (personal calendars) has no hours;
2. a date in ``openings`` has exactly the opening's hours, even on a weekend or a public holiday;
3. a public holiday (``country`` / ``subdivision``, observed days included) or an all-day
   closure has no hours;
4. otherwise the weekday's hours from ``weekly``, cut down to a partial closure's hours when
   the date has one (a closure only ever removes time: ``{24 Dec: 09:00-13:00}`` on a day
   worked 09:00-12:30 and 13:30-17:30 leaves 09:00-12:30);
5. finally, on a personal calendar, intersected with the person's own weekly pattern.

Hours are half-open intervals ``[start, end)`` of the local wall clock, in seconds after local
midnight, ``0 <= start < end <= 86400`` ("24:00" ends a day). Intervals of a day are sorted,
disjoint, and touching ones are merged. A shift over midnight is written as two intervals,
one on each date (``("22:00", "24:00")`` and ``("00:00", "06:00")``); the engine joins them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_SECONDS = 86_400
DASH = "\u2013"  # en dash, for time ranges in messages

Interval = tuple[int, int]
DayHours = tuple[Interval, ...]
Weekly = tuple[DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours]
DatedHours = tuple[tuple[date, DayHours], ...]

# What callers may pass for one day's hours: [("09:00", "12:30"), ("13:30", "17:30")];
# datetime.time objects work too, and whole seconds after midnight.
TimeInput = str | time | int
HoursInput = Iterable[Sequence[TimeInput]]
WeeklyInput = Mapping[int, HoursInput] | Mapping[str, HoursInput] | Sequence[HoursInput]
DatedInput = (
    Mapping[date, HoursInput | None] | Mapping[str, HoursInput | None] | Iterable[date | str]
)

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarError(ValueError):
    """A calendar that cannot be used; the message starts with the field at fault."""


# --- clock times -----------------------------------------------------------------------------


def format_clock(seconds: int) -> str:
    """Seconds after midnight as ``HH:MM`` (``HH:MM:SS`` when not on a whole minute)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if secs else f"{hours:02d}:{minutes:02d}"


def format_hours(hours: DayHours) -> str:
    return ", ".join(f"{format_clock(a)}{DASH}{format_clock(b)}" for a, b in hours) or "closed"


def parse_clock(value: TimeInput, where: str) -> int:
    """``"09:30"``, ``"09:30:15"``, ``"24:00"``, a ``datetime.time`` or seconds → seconds."""
    if isinstance(value, bool):
        raise CalendarError(f"{where}: {value!r} is not a time of day")
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise CalendarError(f"{where}: {value} carries a time zone; the calendar's tz applies")
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, int):
        if not 0 <= value <= DAY_SECONDS:
            raise CalendarError(f"{where}: {value} is not a time of day (0 to 86400 seconds)")
        return value
    if isinstance(value, str):
        parts = value.strip().split(":")
        if len(parts) in (2, 3) and all(len(p) == 2 and p.isdigit() for p in parts):
            h, m, s = (int(p) for p in (*parts, "00")[:3])
            if m < 60 and s < 60 and (h < 24 or (h, m, s) == (24, 0, 0)):
                return h * 3600 + m * 60 + s
    raise CalendarError(f"{where}: {value!r} is not a time of day (HH:MM, 00:00 to 24:00)")


def parse_hours(value: HoursInput | None, where: str) -> DayHours:
    """One day's intervals: sorted, checked (inverted, empty, overlapping), touching merged."""
    if value is None:
        return ()
    if isinstance(value, str | bytes):
        raise CalendarError(f"{where}: give a list of (start, end) pairs, not {value!r}")
    pairs: list[Interval] = []
    for item in value:
        if isinstance(item, str | bytes) or len(item) != 2:
            raise CalendarError(f"{where}: {item!r} is not a (start, end) pair")
        start, end = parse_clock(item[0], where), parse_clock(item[1], where)
        if end < start:
            raise CalendarError(
                f"{where}: {format_clock(start)}{DASH}{format_clock(end)} ends before it starts"
            )
        if end == start:
            raise CalendarError(f"{where}: {format_clock(start)}{DASH}{format_clock(end)} is empty")
        pairs.append((start, end))
    return check_hours(tuple(pairs), where)


def check_hours(pairs: Iterable[Interval], where: str) -> DayHours:
    merged: list[Interval] = []
    for start, end in sorted(pairs):
        if not 0 <= start < end <= DAY_SECONDS:
            raise CalendarError(
                f"{where}: {start}{DASH}{end} is not within one day (0 to 86400 seconds)"
            )
        if merged and start < merged[-1][1]:
            raise CalendarError(
                f"{where}: {format_clock(start)}{DASH}{format_clock(end)} overlaps "
                f"{format_clock(merged[-1][0])}{DASH}{format_clock(merged[-1][1])}"
            )
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def intersect(a: DayHours, b: DayHours) -> DayHours:
    """The time in both of two sorted, disjoint interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def parse_weekly(value: WeeklyInput, where: str) -> Weekly:
    """``{0: [...], ..., 6: [...]}`` (0 = Monday; missing days are closed; keys may be "0"…"6"
    as in JSON), or a sequence of seven days."""
    items: Iterable[tuple[Any, HoursInput]]
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, str | bytes):
        raise CalendarError(f"{where}: give a mapping weekday → hours, not {value!r}")
    else:
        days = list(value)
        if len(days) != 7:
            raise CalendarError(f"{where}: a list of days needs 7 entries (Monday … Sunday)")
        items = enumerate(days)
    week: list[DayHours] = [()] * 7
    for key, hours in items:
        day = key
        if isinstance(key, str) and key.strip().isdigit():
            day = int(key)
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise CalendarError(f"{where}: {key!r} is not a weekday (0 = Monday … 6 = Sunday)")
        week[day] = parse_hours(hours, f"{where}[{day}]")
    return (week[0], week[1], week[2], week[3], week[4], week[5], week[6])


def parse_date(value: date | str, where: str) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")


def parse_dated(value: DatedInput, where: str, default: DayHours | None) -> DatedHours:
    """Dates with their own hours. A bare date (or a mapping to None) gets ``default``."""
    out: dict[date, DayHours] = {}
    if isinstance(value, Mapping):
        for key, hours in value.items():
            day = parse_date(key, where)
            label = f"{where}[{day.isoformat()}]"
            if hours is None:
                if default is None:
                    raise CalendarError(f"{label}: give the hours (a list of (start, end) pairs)")
                out[day] = default
            else:
                out[day] = parse_hours(hours, label)
    elif isinstance(value, str | bytes):
        raise CalendarError(f"{where}: give a list of dates or a mapping date → hours")
    else:
        for key in value:
            if default is None:
                raise CalendarError(f"{where}: give a mapping date → hours, not bare dates")
            out[parse_date(key, where)] = default
    return tuple(sorted(out.items()))


# --- holidays --------------------------------------------------------------------------------


@cache
def _holiday_codes() -> dict[str, list[str]]:
    import holidays

    return {
        country: list(subdivs) for country, subdivs in holidays.list_supported_countries().items()
    }


def canonical_region(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """Codes as the ``holidays`` package spells them: "gb"/"sct" → "GB"/"SCT", and a
    subdivision's alias ("Scotland") → its code. Unknown codes are left for the check."""
    if not isinstance(country, str):
        return country, subdivision
    country = country.strip().upper()
    codes = _holiday_codes()
    if not isinstance(subdivision, str) or country not in codes:
        return country, subdivision
    wanted = subdivision.strip().casefold()
    for code in codes[country]:
        if code.casefold() == wanted:
            return country, code
    for alias, code in _subdivision_aliases(country).items():
        if alias.casefold() == wanted:
            return country, code
    return country, subdivision


@cache
def _subdivision_aliases(country: str) -> dict[str, str]:
    import holidays

    found = holidays.country_holidays(country, years=[])
    return dict(getattr(found, "subdivisions_aliases", {}) or {})


def check_holiday_region(country: str | None, subdivision: str | None) -> None:
    if country is None:
        if subdivision is not None:
            raise CalendarError("subdivision: a subdivision needs a country")
        return
    codes = _holiday_codes()
    if country not in codes:
        raise CalendarError(
            f"country: unknown country code {country!r} (ISO 3166-1 alpha-2, e.g. 'GB')"
        )
    if subdivision is not None and subdivision not in codes[country]:
        known = ", ".join(codes[country]) or "none"
        raise CalendarError(
            f"subdivision: {subdivision!r} is not a subdivision of {country} (known: {known})"
        )


@cache
def _holiday_dates(country: str, subdivision: str | None, first: int, end: int) -> frozenset[date]:
    import holidays

    found = holidays.country_holidays(country, subdiv=subdivision, years=range(first, end))
    return frozenset(found.keys())


def holiday_dates(country: str, subdivision: str | None, first: int, end: int) -> frozenset[date]:
    """Public holidays (observed days included) on local dates of the years ``[first, end)``.

    Asks the ``holidays`` package for a year either side as well: a holiday of one year can be
    observed in the next (the US observe 1 January 2022 on 31 December 2021)."""
    found = _holiday_dates(country, subdivision, first - 1, end + 1)
    return frozenset(d for d in found if first <= d.year < end)


# --- the spec --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarSpec:
    """Working hours in one time zone, as plain validated data; build one with ``create``.

    Fields hold the normalised form (seconds after local midnight, sorted tuples), so specs
    compare by meaning and can be dictionary keys. ``__post_init__`` checks them again, so a
    spec built directly from fields is held to the same rules.
    """

    tz: str
    weekly: Weekly
    country: str | None = None
    subdivision: str | None = None
    closures: DatedHours = ()  # (date, hours left open); () closes the whole day
    openings: DatedHours = ()  # (date, hours); overrides weekends, holidays and closures
    person_weekly: Weekly | None = None  # a person's own pattern, intersected (personal calendars)
    absences: tuple[date, ...] = ()  # a person's days off (personal calendars)
    _closure_map: dict[date, DayHours] = field(init=False, repr=False, compare=False, hash=False)
    _opening_map: dict[date, DayHours] = field(init=False, repr=False, compare=False, hash=False)

    @classmethod
    def create(
        cls,
        tz: str,
        weekly: WeeklyInput,
        country: str | None = None,
        subdivision: str | None = None,
        closures: DatedInput = (),
        openings: DatedInput = (),
        person_weekly: WeeklyInput | None = None,
        absences: Iterable[date | str] = (),
    ) -> CalendarSpec:
        """Parse friendly input: ``"HH:MM"`` strings, weekday keys ``0`` (Monday) … ``6``,
        dates or ISO strings. ``closures`` is a list of dates closed all day, or a mapping
        ``date → hours left open`` (``[]`` or ``None``: all day). ``openings`` maps a date to
        its hours. Raises ``CalendarError`` naming the field at fault."""
        if not isinstance(tz, str):
            raise CalendarError(f"tz: {tz!r} is not an IANA time zone name")
        country, subdivision = canonical_region(country, subdivision)
        return cls(
            tz=tz,
            weekly=parse_weekly(weekly, "weekly"),
            country=country,
            subdivision=subdivision,
            closures=parse_dated(closures, "closures", default=()),
            openings=parse_dated(openings, "openings", default=None),
            person_weekly=None
            if person_weekly is None
            else parse_weekly(person_weekly, "person_weekly"),
            absences=tuple(sorted({parse_date(d, "absences") for d in absences})),
        )

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CalendarSpec:
        """The inverse of ``to_data`` (what a JSON column holds)."""
        unknown = set(data) - {
            "tz",
            "weekly",
            "country",
            "subdivision",
            "closures",
            "openings",
            "person_weekly",
            "absences",
        }
        if unknown:
            raise CalendarError(f"{sorted(unknown)[0]}: not a calendar field")
        if "tz" not in data or "weekly" not in data:
            raise CalendarError(f"{'tz' if 'tz' not in data else 'weekly'}: required")
        return cls.create(**data)

    def to_data(self) -> dict[str, Any]:
        """JSON-ready: ``{"tz": ..., "weekly": {"0": [["09:00", "12:30"], ...]}, ...}``."""

        def hours(h: DayHours) -> list[list[str]]:
            return [[format_clock(a), format_clock(b)] for a, b in h]

        def week(w: Weekly) -> dict[str, list[list[str]]]:
            return {str(i): hours(h) for i, h in enumerate(w) if h}

        return {
            "tz": self.tz,
            "weekly": week(self.weekly),
            "country": self.country,
            "subdivision": self.subdivision,
            "closures": {d.isoformat(): hours(h) for d, h in self.closures},
            "openings": {d.isoformat(): hours(h) for d, h in self.openings},
            "person_weekly": None if self.person_weekly is None else week(self.person_weekly),
            "absences": [d.isoformat() for d in self.absences],
        }

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise CalendarError(
                f"tz: unknown time zone {self.tz!r} (IANA name, e.g. 'Europe/London')"
            ) from None
        check_holiday_region(self.country, self.subdivision)
        _check_weekly(self.weekly, "weekly")
        if self.person_weekly is not None:
            _check_weekly(self.person_weekly, "person_weekly")
        for name in ("closures", "openings"):
            dated: DatedHours = getattr(self, name)
            days = [d for d, _ in dated]
            if days != sorted(set(days)):
                raise CalendarError(f"{name}: dates must be sorted and unique")
            for d, h in dated:
                if check_hours(h, f"{name}[{d.isoformat()}]") != h:
                    raise CalendarError(f"{name}[{d.isoformat()}]: hours not in normal form")
        for d, h in self.openings:
            if not h:
                raise CalendarError(f"openings[{d.isoformat()}]: an opening needs hours")
        both = {d for d, _ in self.closures} & {d for d, _ in self.openings}
        if both:
            raise CalendarError(f"closures[{min(both).isoformat()}]: the same date is an opening")
        if list(self.absences) != sorted(set(self.absences)):
            raise CalendarError("absences: dates must be sorted and unique")
        if not any(self.weekly):
            raise CalendarError("weekly: no working time on any day of the week")
        if self.person_weekly is not None and not any(self.effective_weekly()):
            raise CalendarError(
                "person_weekly: the person's hours never meet the calendar's weekly hours"
            )
        object.__setattr__(self, "_closure_map", dict(self.closures))
        object.__setattr__(self, "_opening_map", dict(self.openings))

    # --- derived ---------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def effective_weekly(self) -> Weekly:
        """The weekly hours after the person's pattern (the unit's hours on a unit calendar)."""
        if self.person_weekly is None:
            return self.weekly
        w = [intersect(a, b) for a, b in zip(self.weekly, self.person_weekly, strict=True)]
        return (w[0], w[1], w[2], w[3], w[4], w[5], w[6])

    def for_person(
        self, weekly: WeeklyInput | None = None, absences: Iterable[date | str] = ()
    ) -> CalendarSpec:
        """A personal calendar: this calendar's hours intersected with a person's weekly
        pattern (``None``: the calendar's own), minus their absence dates. Applying it to a
        personal calendar intersects again and adds the absences."""
        person = self.person_weekly
        if weekly is not None:
            own = parse_weekly(weekly, "person_weekly")
            if person is not None:
                both = [intersect(a, b) for a, b in zip(person, own, strict=True)]
                own = (both[0], both[1], both[2], both[3], both[4], both[5], both[6])
            person = own
        days = set(self.absences) | {parse_date(d, "absences") for d in absences}
        return replace(self, person_weekly=person, absences=tuple(sorted(days)))

    def day_hours(
        self, holidays: frozenset[date] | Callable[[date], bool]
    ) -> Callable[[date], DayHours]:
        """A function ``date → hours`` given the public holidays of the dates it will see."""
        is_holiday = holidays.__contains__ if isinstance(holidays, frozenset) else holidays
        weekly, person = self.weekly, self.person_weekly
        closures, openings, absences = (
            self._closure_map,
            self._opening_map,
            frozenset(self.absences),
        )

        def hours(day: date) -> DayHours:
            if day in absences:
                return ()
            weekday = day.weekday()
            if day in openings:
                h = openings[day]
            else:
                partial = closures.get(day)
                if (partial is not None and not partial) or is_holiday(day):
                    return ()
                h = weekly[weekday]
                if partial:
                    h = intersect(h, partial)
            return intersect(h, person[weekday]) if person is not None else h

        return hours

    def describe(self) -> str:
        """A line per weekday, for pages and error reports."""
        return "\n".join(
            f"{name}: {format_hours(h)}"
            for name, h in zip(WEEKDAY_NAMES, self.effective_weekly(), strict=True)
        )


def _check_weekly(week: Weekly, name: str) -> None:
    if not isinstance(week, tuple) or len(week) != 7:
        raise CalendarError(f"{name}: seven days (Monday … Sunday) of hours are needed")
    for i, h in enumerate(week):
        if check_hours(h, f"{name}[{i}]") != h:
            raise CalendarError(f"{name}[{i}]: hours not in normal form (use CalendarSpec.create)")
