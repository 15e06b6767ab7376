"""Working-time arithmetic: business calendars and exact, fast clocks over them.

    from tandem.engines.worktime import CalendarSpec, WorkingCalendar

    spec = CalendarSpec.create(
        tz="Europe/London",
        weekly={d: [("09:00", "12:30"), ("13:30", "17:30")] for d in range(5)},
        country="GB", subdivision="ENG",
    )
    cal = WorkingCalendar.of(spec)
    cal.add(submitted_at, 3 * 7.5 * 3600)   # three working days later
    cal.between(a, b)                       # working seconds in [a, b)

``spec`` is plain validated data (``spec.py``); ``localtime.py`` holds the DST rule;
``engine.py`` compiles a spec into sorted UTC arrays and answers by bisection, one instant at
a time or over numpy arrays. docs/working-time.md has the exact definitions.
"""

from tandem.engines.worktime.engine import WorkingCalendar, to_epoch
from tandem.engines.worktime.localtime import local_to_utc
from tandem.engines.worktime.spec import CalendarError, CalendarSpec

__all__ = ["CalendarError", "CalendarSpec", "WorkingCalendar", "local_to_utc", "to_epoch"]
