"""Time entries: a person says how long they worked on a request ("35 min", "1 h 20 min").

Where a request has entries, their sum is its hands-on effort (``tandem.work.effort``) and
replaces the estimate from its in-progress time. Only someone who may work the request logs
time on it, and only their own time.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

from django.utils import timezone

from tandem.org.models import Person
from tandem.outbox.actions import action_transaction
from tandem.refusal import Invalid
from tandem.work.actions.moves import _check_text, _locked, _require_worker
from tandem.work.models import TimeEntry

#: "35", "35 min", "1 h", "1h20", "1 h 20 min", "1.5 h", "1:20" (hours and minutes).
_DURATION = re.compile(
    r"^\s*(?:(?P<clock_h>\d{1,2}):(?P<clock_m>[0-5]\d)"
    r"|(?:(?P<hours>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hours?)\s*)?(?:(?P<minutes>\d+)\s*(?:m|min|mins|minutes?)?)?)\s*$",
    re.IGNORECASE,
)
#: How far back time can be logged: the work of the last few weeks, not history.
OLDEST = timedelta(days=31)
NOTE_LIMIT = 200


def parse_duration(text: str | int | float) -> int:
    """Seconds in a duration as people write it; ``Invalid`` (naming the field) otherwise."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        # A number is minutes. Compared before any arithmetic: a huge or infinite one is simply too
        # long (refused below), never an overflow.
        if isinstance(text, float) and math.isnan(text):
            raise Invalid("Time spent: not a number; write minutes (35) or hours and minutes (1 h 20 min).",
                          errors={"duration": ["Write minutes (35) or hours and minutes (1 h 20 min)."]})
        if text <= 0:
            seconds = 0
        elif text > TimeEntry.MAX_SECONDS:
            seconds = TimeEntry.MAX_SECONDS + 1
        else:
            seconds = round(float(text) * 60)
    else:
        match = _DURATION.match(str(text))
        if not match or not any(match.groupdict().values()):
            raise Invalid(
                f"Time spent: {str(text)[:40]!r} is not a duration; "
                "write minutes (35) or hours and minutes (1 h 20 min).",
                errors={"duration": ["Write minutes (35) or hours and minutes (1 h 20 min)."]},
            )
        parts = match.groupdict()
        if parts["clock_h"] is not None:
            seconds = int(parts["clock_h"]) * 3600 + int(parts["clock_m"]) * 60
        else:
            hours = float((parts["hours"] or "0").replace(",", "."))
            seconds = round(hours * 3600) + int(parts["minutes"] or 0) * 60
    if seconds < 60:
        raise Invalid("Time spent must be at least 1 minute.", errors={"duration": ["At least 1 minute."]})
    if seconds > TimeEntry.MAX_SECONDS:
        raise Invalid(
            "Time spent: one entry covers at most 12 hours; log longer work day by day.",
            errors={"duration": ["At most 12 hours per entry."]},
        )
    return seconds


def log_time(
    actor: Person,
    request_id: int,
    duration: str | int | float,
    *,
    worked_on: date | None = None,
    note: str = "",
    now: datetime | None = None,
) -> TimeEntry:
    """Record ``actor``'s own hands-on time on a request they may work."""
    seconds = parse_duration(duration)
    note = _check_text(note, "Note", required=False, limit=NOTE_LIMIT)
    now = now or timezone.now()
    today = timezone.localdate(now)
    day = worked_on or today
    if day > today:
        raise Invalid("Day worked: time can't be logged for a day that has not come yet.",
                      errors={"worked_on": ["Not after today."]})
    if day < today - OLDEST:
        raise Invalid(f"Day worked: time can be logged for the last {OLDEST.days} days only.",
                      errors={"worked_on": [f"Within the last {OLDEST.days} days."]})
    with action_transaction():
        sr = _locked(actor, request_id)
        _require_worker(actor, sr)
        if day < timezone.localdate(sr.submitted_at):
            raise Invalid(f"Day worked: {sr.reference} was submitted on {sr.submitted_at:%d %b %Y}, after that day.",
                          errors={"worked_on": ["Not before the request was submitted."]})
        return TimeEntry.objects.create(request=sr, person=actor, seconds=seconds, worked_on=day, note=note,
                                        created_at=now)
