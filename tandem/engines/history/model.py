"""The plain data of a simulated history: what goes in (an organisation and parameters) and
what comes out (tables of requests, events and cases as numpy arrays).

The life cycle mirrors ``tandem.work.models`` (statuses, event kinds, transitions) as plain
strings, because engines never import Django; a test checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

# --- the life cycle, mirrored from tandem.work.models -------------------------------------------

STATUSES: tuple[str, ...] = (
    "new",
    "assigned",
    "in_progress",
    "waiting_requester",
    "waiting_third_party",
    "resolved",
    "closed",
    "cancelled",
    "reopened",
    "waiting_team",
    "waiting_approval",  # never simulated: the demo's services need no approval
    "declined",  # never simulated
)
S = {name: code for code, name in enumerate(STATUSES)}
OPEN_STATUSES = frozenset(
    {"new", "assigned", "in_progress", "waiting_requester", "waiting_third_party", "waiting_team", "reopened",
     "waiting_approval"}
)
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"assigned", "in_progress", "cancelled", "waiting_approval"}),
    "waiting_approval": frozenset({"new", "declined", "cancelled"}),
    "assigned": frozenset({"assigned", "in_progress", "new", "cancelled"}),
    "in_progress": frozenset(
        {"assigned", "waiting_requester", "waiting_third_party", "waiting_team", "resolved", "cancelled"}
    ),
    "waiting_requester": frozenset({"in_progress", "cancelled"}),
    "waiting_third_party": frozenset({"in_progress", "cancelled"}),
    "waiting_team": frozenset({"in_progress", "cancelled"}),
    "resolved": frozenset({"closed", "reopened"}),
    "reopened": frozenset({"assigned", "in_progress", "cancelled"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
    "declined": frozenset(),
}
KINDS: tuple[str, ...] = (
    "submitted",
    "assigned",
    "unassigned",
    "started",
    "asked_requester",
    "information_provided",
    "waiting_third_party",
    "resumed",
    "resolved",
    "accepted",
    "reopened",
    "closed",
    "cancelled",
    "commented",
    "note_added",
    "advice_given",
    "advice_acknowledged",
    "case_linked",
    "agreement_changed",
    "sla_warning",
    "sla_breached",
    "sla_response_missed",
    "imported",  # never simulated: a foreign history's activity, written by `tandem import-log`
    "waiting_team",
    "step_done",
    "step_undone",
    "queue_jump",  # never simulated
    "advice_accepted",
    "advice_declined",
    "approval_asked",  # never simulated: the demo's services need no approval
    "approved",  # never simulated
    "declined",  # never simulated
    "approval_reminded",  # never simulated
)
K = {name: code for code, name in enumerate(KINDS)}
# Events that change no status (from/to stay empty); note_added is the internal one.
COMMENT_KINDS = frozenset({"commented", "note_added", "advice_given", "advice_acknowledged", "advice_accepted",
                           "advice_declined"})

MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)

# A weekly working pattern: for each weekday (Monday = 0 … Sunday = 6) the working intervals
# as (start, end) minutes after local midnight.
WeekPattern = tuple[tuple[tuple[int, int], ...], ...]


def pattern_from_clock(pattern: Mapping[str, list[list[str]]]) -> WeekPattern:
    """``{"0": [["09:00", "12:30"], ...]}`` (the Person.working_pattern shape) → minutes."""

    def minutes(clock: str) -> int:
        hours, mins = clock.split(":")
        return int(hours) * 60 + int(mins)

    return tuple(
        tuple((minutes(a), minutes(b)) for a, b in pattern.get(str(day), [])) for day in range(7)
    )


# --- what goes in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    key: str
    side: str  # "front" or "back"


@dataclass(frozen=True)
class PersonSpec:
    unit: int  # index into Organisation.units
    pattern: WeekPattern
    role: str = "member"  # member, lead, executive, admin
    absences: tuple[tuple[date, date], ...] = ()  # inclusive date ranges
    skills: Mapping[str, int] = field(default_factory=dict)
    # Share of a back-office person's working time spent on service requests (the rest goes on
    # routine duties: the payroll run, month-end billing, meetings).
    share: float = 0.6
    # Weekly routine duties during which a back-office person does not take queue work (the
    # pay run, the invoice run): (weekday, start minute, end minute).
    duties: tuple[tuple[int, int, int], ...] = ()
    # How often this person asks for things, relative to a full-time colleague.
    propensity: float = 1.0


@dataclass(frozen=True)
class ServiceSpec:
    unit: int
    turnaround_days: int
    daily_rate: float  # standalone requests per working day, before seasonality
    requested_by: Mapping[int, float]  # requesting unit index → weight
    touch_minutes: float  # median hands-on time, in working minutes
    touch_sigma: float = 0.6  # lognormal shape of the hands-on time
    external_share: float = 0.0  # share of requests on the external (customer) channel
    required_skills: Mapping[str, int] = field(default_factory=dict)
    ask_prob: float = 0.18  # asks the requester for missing information at least once
    third_party_prob: float = 0.0  # waits on a third party at least once
    third_party_days: float = 2.0  # median wait on the third party, working days
    month_end: float = 1.0  # arrival multiplier on the last three working days of a month
    pay_week: float = 1.0  # arrival multiplier in the seven days before each monthly pay date
    # A new client's onboarding: extra arrivals, as a share of the daily rate, while it lasts.
    onboarding: float = 0.0
    cutoff: tuple[int, int] | None = None  # (weekday, minute): requests rush in before it
    drift: float = 1.0  # hands-on time multiplier reached by the end of the history
    # Median working days a finished piece of work waits for sign-off before it is resolved
    # (an internal approval or a batch run), at the start and at the end of the history.
    hold_days: tuple[float, float] = (0.0, 0.0)
    reopen_prob: float = 0.04
    cancel_prob: float = 0.014  # cancelled by the requester before the work starts
    accept_prob: float = 0.6  # accepted explicitly (otherwise closed after the reopen window)


@dataclass(frozen=True)
class BundleSpec:
    """A kind of customer matter (case) and the services it asks for, each with a probability."""

    services: tuple[tuple[int, float], ...]
    daily_rate: float
    owner_units: Mapping[int, float]
    external_share: float = 0.3


@dataclass(frozen=True)
class Organisation:
    units: tuple[UnitSpec, ...]
    people: tuple[PersonSpec, ...]
    services: tuple[ServiceSpec, ...]
    bundles: tuple[BundleSpec, ...] = ()
    closed_days: frozenset[date] = frozenset()  # public holidays: nobody works or asks
    time_zone: str = "Europe/London"


@dataclass(frozen=True)
class Params:
    end: datetime  # "now": aware; the history ends here
    weeks: int = 26
    seed: int = 2026
    # Volume multiplier: arrivals x scale and every agent works scale x faster, so queues keep
    # the same utilisation (bench builds of a million requests use this).
    scale: float = 1.0
    reopen_window_days: int = 5
    growth: float = 0.08  # business growth across the history (arrival trend)
    day_noise_shape: float = 25.0  # gamma shape of the day-to-day demand noise per unit
    pay_day: int = 25  # the monthly pay date (the last working day before it when it is closed)
    onboarding_weeks: int = 4  # a new client's onboarding, starting on a Monday the seed picks


# --- what comes out -----------------------------------------------------------------------------

NONE = -1  # "no value" in integer columns (no case, no assignee, no time)


@dataclass
class Requests:
    """One row per service request, in submission order (row i becomes the i-th request)."""

    service: np.ndarray  # int16
    requester: np.ndarray  # int32 person index
    channel: np.ndarray  # int8: 0 internal, 1 external
    case: np.ndarray  # int32 case row or NONE
    submitted: np.ndarray  # int64 UTC epoch seconds
    due: np.ndarray  # int64 UTC epoch seconds: published turnaround in working days
    status: np.ndarray  # int8 index into STATUSES
    assignee: np.ndarray  # int32 person index or NONE
    status_changed: np.ndarray  # int64
    resolved: np.ndarray  # int64 or NONE (cleared by a reopen, as the action does)
    closed: np.ndarray  # int64 or NONE
    events: np.ndarray  # int32 number of events (= last event seq)
    variant: np.ndarray  # uint32: seeds the request's intake values and title
    waiting_on: np.ndarray  # int8: 0 nothing, 1 the requester, 2 a third party, 3 another team
    waiting_variant: np.ndarray  # int32 detail of the event that set waiting_on, or NONE
    resolution_variant: np.ndarray  # int32 detail of the last resolution, or NONE
    # float64 hands-on minutes its agents spent on it, including work after "now" (the truth
    # that the product's effort estimate is measured against; never loaded into the database).
    worked_minutes: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.service)


@dataclass
class Events:
    """Event rows grouped by request (in request order) and ordered by seq within each."""

    request: np.ndarray  # int32 request row
    seq: np.ndarray  # int32, 1..n per request
    kind: np.ndarray  # int8 index into KINDS
    actor: np.ndarray  # int32 person index or NONE (the system)
    at: np.ndarray  # int64 UTC epoch seconds, strictly increasing within a request
    from_status: np.ndarray  # int8 index into STATUSES or NONE
    to_status: np.ndarray  # int8 index into STATUSES or NONE
    detail: np.ndarray  # int32: assignee person for "assigned", else a text variant
    ref: np.ndarray  # int32: previous assignee ("assigned"), addressee (comments),
    #                  the seq of the advice (its answers: "advice_acknowledged",
    #                  "advice_accepted", "advice_declined"), 1 when the lead
    #                  cancelled for want of a reply and 0 when the requester did ("cancelled")

    def __len__(self) -> int:
        return len(self.request)


@dataclass
class Cases:
    owner: np.ndarray  # int32 person index
    created: np.ndarray  # int64
    closed: np.ndarray  # int64 or NONE
    bundle: np.ndarray  # int16 index into Organisation.bundles
    variant: np.ndarray  # uint32

    def __len__(self) -> int:
        return len(self.owner)


@dataclass
class History:
    start: datetime
    end: datetime
    requests: Requests
    events: Events
    cases: Cases
    timings: dict[str, float] = field(default_factory=dict)
