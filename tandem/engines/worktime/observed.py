"""The public holidays a calendar will observe: the next ones from a date, with their names.

Pure (no Django): a ``CalendarSpec`` and a date in, ``(date, name)`` pairs out. A holiday is
observed unless the calendar has an opening on that date (an opening overrides a holiday).
"""

from __future__ import annotations

from datetime import date

from tandem.engines.worktime.spec import CalendarSpec


def upcoming_holidays(spec: CalendarSpec, start: date, count: int = 10) -> list[tuple[date, str]]:
    """The first ``count`` public holidays on or after ``start`` (observed days included),
    looking up to three years ahead; none when the calendar has no country."""
    if spec.country is None or count <= 0:
        return []
    import holidays

    found = holidays.country_holidays(spec.country, subdiv=spec.subdivision, years=range(start.year, start.year + 3))
    opened = {d for d, _ in spec.openings}
    days = sorted(d for d in found if d >= start and d not in opened)
    return [(d, str(found.get(d))) for d in days[:count]]
