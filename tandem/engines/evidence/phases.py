"""Where a request's time went: working time queued, in progress, waiting on the requester,
waiting on a third party, waiting on another back-office team and waiting on its approver
before work started, from its status changes.

    seconds = phase_seconds(request, at, phase, until, calendars, calendar_of_request)

Each status change opens a phase that lasts until the request's next status change (or
``until`` for its last one: the resolution, or now for open work). Time after a resolution
belongs to no phase (the clock of the back office stopped); a reopen starts a new queued phase.
Durations are working seconds of each request's own calendar, so a Friday-evening request
waiting over the weekend has waited no working time. Pure: numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tandem.engines.worktime import WorkingCalendar

PHASES = ("queued", "in_progress", "waiting_requester", "waiting_third_party", "waiting_team", "waiting_approval")
#: Status → phase index; statuses not listed (resolved, closed, cancelled) stop the clock.
STATUS_PHASE = {
    "new": 0, "assigned": 0, "reopened": 0,
    "in_progress": 1,
    "waiting_requester": 2,
    "waiting_third_party": 3,
    "waiting_team": 4,
    "waiting_approval": 5,
}
STOPPED = -1


def phase_of(statuses: Sequence[str]) -> npt.NDArray[np.int8]:
    return np.array([STATUS_PHASE.get(s, STOPPED) for s in statuses], dtype=np.int8)


def phase_seconds(
    request: npt.ArrayLike,
    at: npt.ArrayLike,
    phase: npt.ArrayLike,
    until: npt.ArrayLike,
    calendars: Sequence[WorkingCalendar],
    calendar_of: npt.ArrayLike,
) -> npt.NDArray[np.int64]:
    """Working seconds per request (rows, ``len(until)``) and phase (columns, ``PHASES``).

    ``request``, ``at`` (epoch seconds) and ``phase`` describe the status changes, grouped by
    request and in time order within each; ``until[r]`` ends request r's last phase;
    ``calendar_of[r]`` indexes ``calendars``."""
    seconds = segment_seconds(request, at, phase, until, calendars, calendar_of)
    return by_phase(request, phase, seconds, len(np.asarray(until)))


def by_phase(request: npt.ArrayLike, phase: npt.ArrayLike, seconds: npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    """The seconds of each status change (``segment_seconds``) summed per request (rows, ``n``)
    and phase (columns, ``PHASES``)."""
    req = np.asarray(request, dtype=np.int64)
    ph = np.asarray(phase, dtype=np.int8)
    out = np.zeros((n, len(PHASES)), dtype=np.int64)
    keep = ph != STOPPED
    np.add.at(out, (req[keep], ph[keep].astype(np.int64)), np.asarray(seconds, dtype=np.int64)[keep])
    return out


def segment_seconds(
    request: npt.ArrayLike,
    at: npt.ArrayLike,
    phase: npt.ArrayLike,
    until: npt.ArrayLike,
    calendars: Sequence[WorkingCalendar],
    calendar_of: npt.ArrayLike,
) -> npt.NDArray[np.int64]:
    """Working seconds each status change lasted (same arguments as ``phase_seconds``; 0 for
    the changes that stop the clock): what attributes a wait to whom it was on."""
    req = np.asarray(request, dtype=np.int64)
    t = np.asarray(at, dtype=np.int64)
    ph = np.asarray(phase, dtype=np.int8)
    end = np.asarray(until, dtype=np.int64)
    cal_of = np.asarray(calendar_of, dtype=np.int64)
    seconds = np.zeros(len(req), dtype=np.int64)
    if len(req) == 0:
        return seconds
    same_next = np.zeros(len(req), dtype=bool)
    same_next[:-1] = req[1:] == req[:-1]
    stop = np.where(same_next, np.roll(t, -1), end[req])
    keep = np.flatnonzero((ph != STOPPED) & (stop > t))
    cal = cal_of[req[keep]]
    for c in np.unique(cal):
        pick = keep[cal == c]
        seconds[pick] = calendars[int(c)].between_many(t[pick], stop[pick])
    return seconds


BAND_EDGES = (3, 6, 15, 30)
BAND_LABELS = ("≤ 3", "4–6", "7–15", "16–30", "> 30")


def band_index(days: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The turnaround band of each duration in working days: 0 for ≤ 3, 1 for 4–6, 2 for 7–15,
    3 for 16–30, 4 for > 30. A working day that has started counts: 3.2 days is in 4–6."""
    d = np.ceil(np.asarray(days, dtype=np.float64) - 1e-9)
    return np.searchsorted(np.asarray(BAND_EDGES, dtype=np.float64), d, side="left").astype(np.int64)


def bands(days: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """How many durations fall in each band (see ``band_index``)."""
    return np.bincount(band_index(days), minlength=len(BAND_EDGES) + 1)
