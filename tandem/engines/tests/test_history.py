"""The history engine, on the demo organisation, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tandem.demo.organisation import demo_organisation
from tandem.engines.agreements.workdays import add_working_days
from tandem.engines.history import (
    KINDS,
    NONE,
    OPEN_STATUSES,
    STATUSES,
    TRANSITIONS,
    History,
    Params,
    simulate,
)
from tandem.engines.history.model import K, S

END = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
# The status each moving event leads to (comment-like events move nothing).
LEADS_TO = {
    "submitted": "new",
    "assigned": "assigned",
    "unassigned": "new",
    "started": "in_progress",
    "asked_requester": "waiting_requester",
    "information_provided": "in_progress",
    "waiting_third_party": "waiting_third_party",
    "resumed": "in_progress",
    "resolved": "resolved",
    "accepted": "closed",
    "reopened": "reopened",
    "closed": "closed",
    "cancelled": "cancelled",
}


def build(
    weeks: int = 26, seed: int = 2026, end: datetime = END, scale: float = 1.0
) -> tuple[object, History]:
    org = demo_organisation(end.date(), weeks, seed).engine()
    return org, simulate(org, Params(end=end, weeks=weeks, seed=seed, scale=scale))


@pytest.fixture(scope="module")
def half_year() -> tuple[object, History]:
    return build()


def starts_of(history: History) -> np.ndarray:
    return np.r_[0, np.cumsum(history.requests.events)[:-1]]


def test_it_mirrors_the_life_cycle_of_the_work_models() -> None:
    from tandem.work.models import OPEN_STATUSES as MODEL_OPEN_STATUSES
    from tandem.work.models import TRANSITIONS as MODEL_TRANSITIONS
    from tandem.work.models import Event, Status

    assert set(STATUSES) == set(Status.values)
    assert {str(k): {str(v) for v in vs} for k, vs in MODEL_TRANSITIONS.items()} == {
        k: set(vs) for k, vs in TRANSITIONS.items()
    }
    assert set(KINDS) == set(Event.Kind.values)
    assert {str(s) for s in MODEL_OPEN_STATUSES} == OPEN_STATUSES


def test_it_is_deterministic_for_a_seed() -> None:
    _, first = build(weeks=3, seed=7)
    _, again = build(weeks=3, seed=7)
    _, other = build(weeks=3, seed=8)
    for table in ("requests", "events", "cases"):
        a, b = getattr(first, table), getattr(again, table)
        for name in a.__dataclass_fields__:
            assert np.array_equal(getattr(a, name), getattr(b, name)), (table, name)
    assert len(other.requests) != len(first.requests) or not np.array_equal(
        other.requests.submitted, first.requests.submitted
    )


def test_it_makes_more_than_20000_requests_in_26_weeks(half_year) -> None:
    _, history = half_year
    assert len(history.requests) >= 20_000
    assert len(history.events) >= 6 * len(history.requests) * 0.9
    assert history.requests.submitted.min() >= int((END - timedelta(weeks=26, days=1)).timestamp())
    assert history.requests.submitted.max() <= int(END.timestamp())


def test_every_trail_follows_the_life_cycle(half_year) -> None:
    _, history = half_year
    req, ev = history.requests, history.events
    starts = starts_of(history)
    assert len(ev) == int(req.events.sum())
    # seq 1..n per request, the request's rows contiguous, times strictly increasing.
    assert np.array_equal(ev.request, np.repeat(np.arange(len(req)), req.events))
    assert np.array_equal(ev.seq, np.arange(len(ev)) - np.repeat(starts, req.events) + 1)
    same = ev.request[1:] == ev.request[:-1]
    assert (ev.at[1:][same] > ev.at[:-1][same]).all()
    # Every request starts with its submission, into "new".
    assert (ev.kind[starts] == K["submitted"]).all() and (ev.to_status[starts] == S["new"]).all()
    assert (ev.at[starts] == req.submitted).all()
    # Moves go from the status the request was in, along an allowed transition, as each kind says.
    moves = np.flatnonzero(ev.to_status >= 0)
    allowed = np.zeros((len(STATUSES), len(STATUSES)), dtype=bool)
    for frm, tos in TRANSITIONS.items():
        for to in tos:
            allowed[S[frm], S[to]] = True
    later = moves[ev.kind[moves] != K["submitted"]]
    previous = moves[np.searchsorted(moves, later) - 1]
    assert (ev.request[previous] == ev.request[later]).all()
    assert (ev.from_status[later] == ev.to_status[previous]).all()
    assert allowed[ev.from_status[later], ev.to_status[later]].all()
    for kind, status in LEADS_TO.items():
        assert (ev.to_status[ev.kind == K[kind]] == S[status]).all(), kind
    quiet = ~np.isin(ev.kind, [K[k] for k in LEADS_TO])
    assert (ev.to_status[quiet] == NONE).all() and (ev.from_status[quiet] == NONE).all()
    # The request's status is where its trail ends.
    last_move = np.zeros(len(req), dtype=np.int64)
    np.maximum.at(last_move, ev.request[moves], moves)
    assert np.array_equal(req.status, ev.to_status[last_move])
    assert np.array_equal(req.status_changed, ev.at[last_move])


def test_the_requester_and_the_system_act_where_the_actions_let_them(half_year) -> None:
    _, history = half_year
    req, ev = history.requests, history.events
    by_requester = np.isin(
        ev.kind, [K["submitted"], K["information_provided"], K["accepted"], K["reopened"]]
    )
    assert (ev.actor[by_requester] == req.requester[ev.request[by_requester]]).all()
    closes = ev.kind == K["closed"]
    assert (ev.actor[closes] == NONE).all() and (ev.actor[~closes] != NONE).all()
    # Closing waits for the reopen window; accepting and reopening happen inside it.
    moves = np.flatnonzero(ev.to_status >= 0)
    ends = np.flatnonzero(closes | (ev.kind == K["accepted"]) | (ev.kind == K["reopened"]))
    resolved_before = moves[np.searchsorted(moves, ends) - 1]
    assert (ev.kind[resolved_before] == K["resolved"]).all()
    assert (ev.request[resolved_before] == ev.request[ends]).all()
    gap = ev.at[ends] - ev.at[resolved_before]
    window = 5 * 86400
    assert (gap[closes[ends]] > window).all()
    assert (gap[~closes[ends]] < window).all()


def test_request_fields_agree_with_their_trails(half_year) -> None:
    _, history = half_year
    req = history.requests
    final = np.isin(req.status, [S["closed"], S["cancelled"]])
    assert ((req.closed != NONE) == final).all()
    assert np.array_equal(req.resolved != NONE, np.isin(req.status, [S["resolved"], S["closed"]]))
    assert (req.resolved[req.status == S["reopened"]] == NONE).all()
    worked = np.isin(
        req.status,
        [S["in_progress"], S["waiting_requester"], S["waiting_third_party"], S["resolved"]],
    )
    assert (req.assignee[worked] != NONE).all()
    assert (req.waiting_on[req.status == S["waiting_requester"]] == 1).all()
    assert (req.waiting_on[req.status == S["waiting_third_party"]] == 2).all()


def test_due_dates_are_the_published_turnaround_in_working_days(half_year) -> None:
    org, history = half_year
    req = history.requests
    for i in np.random.default_rng(1).choice(len(req), 300, replace=False):
        submitted = datetime.fromtimestamp(int(req.submitted[i]), tz=UTC)
        days = org.services[int(req.service[i])].turnaround_days
        assert int(req.due[i]) == int(
            add_working_days(submitted, days, tz="Europe/London").timestamp()
        )


def test_people_work_in_working_hours(half_year) -> None:
    _, history = half_year
    ev = history.events
    people = ev.actor != NONE
    london = ZoneInfo("Europe/London")
    local = [datetime.fromtimestamp(int(t), tz=UTC).astimezone(london) for t in ev.at[people][::37]]
    in_hours = [d.weekday() < 5 and 7 * 60 + 30 <= d.hour * 60 + d.minute <= 19 * 60 for d in local]
    assert np.mean(in_hours) > 0.97


def test_mondays_are_busy_fridays_quiet_and_weekends_empty(half_year) -> None:
    _, history = half_year
    local = history.requests.submitted + 3600  # near enough for the weekday in London
    weekday = ((local // 86400) + 3) % 7  # 1 January 1970 was a Thursday
    counts = np.bincount(weekday, minlength=7)
    assert counts[5] == counts[6] == 0
    assert counts[0] > 1.5 * counts[4]
    assert counts[0] > counts[2] > counts[4]


def test_invoicing_slows_down_over_the_half_year(half_year) -> None:
    org, history = half_year
    req = history.requests
    invoicing = next(i for i, u in enumerate(org.units) if u.key == "invoicing")
    unit = np.array([s.unit for s in org.services])[req.service]
    done = (unit == invoicing) & (req.resolved != NONE)
    took = (req.resolved - req.submitted)[done]
    resolved = req.resolved[done]
    first = took[resolved < req.submitted.min() + 30 * 86400]
    last = took[resolved > int(END.timestamp()) - 30 * 86400]
    assert len(first) > 100 and len(last) > 100
    assert np.median(last) >= 3 * np.median(first)
    # No other unit slows down like that. Compared by when requests were submitted, in two months
    # whose requests have all had time to finish (the second, and the last but one; any still open
    # counted to the end): those resolved in the history's first month are only the quick ones,
    # and Payroll, near its capacity, swings its last month's median with each toss of the arrivals.
    payroll = next(i for i, u in enumerate(org.units) if u.key == "payroll")
    start, end = int(req.submitted.min()), int(END.timestamp())
    took = np.where(req.resolved != NONE, req.resolved - req.submitted, end - req.submitted)
    mine = unit == payroll
    early = mine & (req.submitted >= start + 30 * 86400) & (req.submitted < start + 60 * 86400)
    late = mine & (req.submitted >= end - 60 * 86400) & (req.submitted < end - 30 * 86400)
    assert early.sum() > 100 and late.sum() > 100
    assert np.median(took[late]) < 2 * np.median(took[early])


def test_queues_hold_work_in_every_open_status_at_the_end(half_year) -> None:
    org, history = half_year
    req = history.requests
    # Waiting on another team is the demo's choice, not the simulation's (tandem.demo.trails);
    # waiting on an approver is never simulated (no demo service needs approval).
    for status in (OPEN_STATUSES - {"waiting_team", "waiting_approval"}) | {"resolved"}:
        assert (req.status == S[status]).sum() > 0, status
    unit = np.array([s.unit for s in org.services])[req.service]
    open_ = np.isin(req.status, [S[s] for s in OPEN_STATUSES])
    # Every back-office queue holds work at the end. How much is the draw's: IT's requests are
    # mostly minutes of work (passwords, access), and seed 2026 ends with five of them open.
    for u, spec in enumerate(org.units):
        if spec.side == "back":
            assert (open_ & (unit == u)).sum() >= 3, spec.key


def test_rates_of_waiting_rework_and_cancelling_are_realistic(half_year) -> None:
    org, history = half_year
    req, ev = history.requests, history.events
    n = len(req)
    asked = np.unique(ev.request[ev.kind == K["asked_requester"]]).size / n
    reopened = np.unique(ev.request[ev.kind == K["reopened"]]).size / n
    cancelled = (req.status == S["cancelled"]).sum() / n
    assert 0.15 <= asked <= 0.25
    assert 0.025 <= reopened <= 0.06
    assert 0.01 <= cancelled <= 0.035
    customer_facing = np.array([s.external_share > 0 for s in org.services])[req.service]
    assert 0.22 <= req.channel[customer_facing].mean() <= 0.38
    assert req.channel[~customer_facing].sum() == 0
    assert (req.case != NONE).mean() > 0.1
    assert np.unique(ev.request[ev.kind == K["waiting_third_party"]]).size / n > 0.1


def test_volume_scales_linearly() -> None:
    _, one = build(weeks=2, seed=3)
    _, three = build(weeks=2, seed=3, scale=3.0)
    assert 2.6 < len(three.requests) / len(one.requests) < 3.4


def _local_days(history: History) -> np.ndarray:
    """Each request's local date in London, as a numpy day number."""
    zone = ZoneInfo("Europe/London")
    return np.array([datetime.fromtimestamp(int(t), zone).date().toordinal() for t in history.requests.submitted])


def _working(org, first: int, last: int) -> list[int]:
    days = [d for d in range(first, last + 1) if datetime.fromordinal(d).weekday() < 5]
    return [d for d in days if datetime.fromordinal(d).date() not in org.closed_days]


def test_payroll_surges_in_the_week_before_each_pay_date(half_year) -> None:
    org, history = half_year
    days = _local_days(history)
    first, last = int(days.min()), int(days.max())
    # Pay dates recomputed: the 25th, or the last working day before it.
    working = set(_working(org, first, last))
    pay_week: set[int] = set()
    start = datetime.fromordinal(first).date()
    for k in range(8):
        month = (start.month - 1 + k) % 12 + 1
        year = start.year + (start.month - 1 + k) // 12
        pay = datetime(year, month, 25).toordinal()
        while pay not in working and pay > first:
            pay -= 1
        if first <= pay - 7 and pay <= last:
            pay_week |= set(range(pay - 7, pay))
    # Month ends and starts have their own surge: compare days that are neither.
    plain = {d for d in working if 5 <= datetime.fromordinal(d).day <= 24}
    in_week, out_week = sorted(plain & pay_week), sorted(plain - pay_week)
    assert len(in_week) >= 15 and len(out_week) >= 30
    for s, spec in enumerate(org.services):
        mine = days[history.requests.service == s]
        per_day = np.bincount(mine - first, minlength=last - first + 1)
        ratio = per_day[np.array(in_week) - first].mean() / per_day[np.array(out_week) - first].mean()
        if spec.pay_week > 1.0 and spec.daily_rate >= 5:  # enough a day to see it
            inside = len(working & pay_week)  # the rest of the month gives the surge back:
            rest = (len(working) - inside * spec.pay_week) / (len(working) - inside)
            assert ratio > 1 + (spec.pay_week / rest - 1) / 2, (s, ratio)
        elif spec.pay_week == 1.0 and spec.daily_rate >= 5:
            assert 0.8 < ratio < 1.2, (s, ratio)


def test_a_new_clients_onboarding_brings_a_burst_of_starts_chosen_by_the_seed(half_year) -> None:
    from tandem.engines.history.arrivals import onboarding_days
    from tandem.engines.history.calendars import Clock

    org, history = half_year
    params = Params(end=END, weeks=26, seed=2026)
    days = _local_days(history)
    start = END.astimezone(ZoneInfo("Europe/London")).date() - timedelta(weeks=26)  # as simulate() counts
    first, horizon = start.toordinal(), 26 * 7 + 1
    clock = Clock(start, horizon, "Europe/London")
    strength = onboarding_days(params, clock, horizon)
    burst = np.flatnonzero(strength == 1.0)
    assert len(burst) == 14 and clock.weekday[burst[0]] == 0  # two weeks at full strength, from a Monday
    assert horizon // 4 - 7 <= burst[0] <= horizon * 3 // 4
    # The same seed picks the same start; other seeds pick others.
    again = onboarding_days(Params(end=END, weeks=26, seed=2026), clock, horizon)
    assert (again == strength).all()
    starts = {int(np.flatnonzero(onboarding_days(Params(end=END, weeks=26, seed=s), clock, horizon))[0])
              for s in range(6)}
    assert len(starts) > 1
    # The starts' services see more in the burst than in the four weeks before it, by about what
    # the multipliers say (noise and growth blur it); the others do not.
    before = _working(org, first + int(burst[0]) - 28, first + int(burst[0]) - 1)
    during = _working(org, first + int(burst[0]), first + int(burst[-1]) + 14)
    mean_strength = float(strength[np.array(during) - first].mean())

    def ratio(services: list[int]) -> float:
        standalone = history.requests.case == NONE  # a customer matter's requests come with its bundle
        mine = days[np.isin(history.requests.service, services) & standalone]
        return (np.isin(mine, during).sum() / len(during)) / (np.isin(mine, before).sum() / len(before))

    boosted = [s for s, spec in enumerate(org.services) if spec.onboarding > 0]
    others = [s for s, spec in enumerate(org.services) if spec.onboarding == 0 and spec.pay_week == 1.0]
    rate = sum(org.services[s].daily_rate for s in boosted)
    expected = sum(org.services[s].daily_rate * (1 + org.services[s].onboarding * mean_strength) for s in boosted) / rate
    assert ratio(boosted) > 1 + (expected - 1) / 2, (ratio(boosted), expected)
    assert 0.85 < ratio(others) < 1.15
