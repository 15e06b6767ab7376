"""When service requests arrive, who asks, on which channel, and for which customer matter.

Everything here is vectorised: daily expected counts per service (weekday, month end, the
week before pay day, a new client's onboarding, cut-off, growth, day-to-day noise) become
Poisson counts, then times of day drawn from hourly profiles, requesters drawn among the
requesting units' people who are at work that day, and channels. Customer matters (cases)
arrive as bundles of requests made by one front-office owner within minutes of each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from tandem.engines.history.calendars import DAY, Clock
from tandem.engines.history.model import Organisation, Params

# Relative demand by weekday (Monday peak, quiet Friday, nothing at weekends).
WEEKDAY_FACTOR = np.array([1.30, 1.10, 1.00, 0.95, 0.72, 0.0, 0.0])
# Arrivals by quarter hour from 07:30 to 19:00: a morning peak, a lunch dip, a tail after 17:30.
PROFILE_START = 7 * 60 + 30
BIN = 15
_HOURLY = {  # weight per hour of the day (applied to its four quarter hours)
    7: 0.15,
    8: 0.55,
    9: 1.35,
    10: 1.45,
    11: 1.2,
    12: 0.65,
    13: 0.85,
    14: 1.0,
    15: 0.95,
    16: 0.75,
    17: 0.35,
    18: 0.1,
}
BASE_PROFILE = np.array([_HOURLY[(PROFILE_START + BIN * i) // 60] for i in range(46)])
FRIDAY_AFTERNOON = 0.45  # Friday after 14:00 is quieter still
CUTOFF_BEFORE, CUTOFF_AFTER = 2.5, 0.35  # on the cut-off day, before and after the cut-off time
CUTOFF_DAY = {0: 1.5, -1: 1.2, 1: 0.75}  # day factor relative to the cut-off weekday
MONTH_END_LAST, MONTH_START_FIRST = 3, 2  # working days at the end and start of a month


def pay_weeks(clock: Clock, working: np.ndarray, pay_day: int) -> np.ndarray:
    """Per day: within the seven days before a monthly pay date? The pay date is ``pay_day``
    of each month, moved to the last working day before it when it falls on a closed day
    (payroll inputs, changes and queries come in the week before the run)."""
    days = len(working)
    out = np.zeros(days, dtype=bool)
    dates = clock.dates[:days]
    index = {d: k for k, d in enumerate(dates)}
    for year, month in sorted({(d.year, d.month) for d in dates}):
        nominal = date(year, month, min(pay_day, 28))
        k = index.get(nominal)
        if k is None:
            continue  # outside the horizon
        while k > 0 and not working[k]:
            k -= 1
        out[max(k - 7, 0):k] = True
    return out


def _rest_of_month(factor: float, pay_week: np.ndarray, working: np.ndarray) -> float:
    """The factor on working days outside the pay weeks that keeps the service's demand over the
    history what it was: the surge moves work into the week before pay day (inputs and queries
    gather before the run), it does not add work."""
    inside, total = int((pay_week & working).sum()), int(working.sum())
    if factor == 1.0 or inside == 0 or inside >= total:
        return 1.0
    return max((total - inside * factor) / (total - inside), 0.0)


def onboarding_days(params: Params, clock: Clock, days: int) -> np.ndarray:
    """Per day: the strength of a new client's onboarding, 0 outside it. It starts on a Monday
    the seed picks between a quarter and three quarters of the way through the history, at full
    strength for the first half of ``onboarding_weeks`` and at half for the rest (the bulk of
    the new starters comes first). The start is drawn from a generator of its own, so choosing
    it takes no draw from the history's stream."""
    out = np.zeros(days)
    length = 7 * params.onboarding_weeks
    if days < length or length == 0:
        return out
    pick = np.random.default_rng([params.seed, ONBOARDING_STREAM])
    start = int(pick.integers(days // 4, max(days * 3 // 4 - length, days // 4) + 1))
    start = max(start - int(clock.weekday[start]), 0)  # back to its Monday
    out[start:start + length] = 1.0
    out[start + length // 2:start + length] *= 0.5
    return out


ONBOARDING_STREAM = 0x0B0A


@dataclass
class Arrivals:
    minute: np.ndarray  # int64 grid minute of submission, sorted
    service: np.ndarray
    requester: np.ndarray
    channel: np.ndarray
    case: np.ndarray  # case row or -1
    case_owner: np.ndarray  # per case
    case_minute: np.ndarray  # per case: when the matter was opened
    case_bundle: np.ndarray  # per case


def working_days(clock: Clock, org: Organisation, days: int) -> np.ndarray:
    closed = np.array([d in org.closed_days for d in clock.dates[:days]])
    return (clock.weekday[:days] < 5) & ~closed


def month_edges(clock: Clock, working: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per day: among the last three working days of its month? Among the first two?"""
    days = len(working)
    last = np.zeros(days, dtype=bool)
    first = np.zeros(days, dtype=bool)
    months = np.array([d.year * 12 + d.month for d in clock.dates[:days]])
    for month in np.unique(months):
        idx = np.flatnonzero((months == month) & working)
        # Only mark month ends that are inside the horizon: a cut month would mislabel days.
        last_day = clock.dates[int(np.flatnonzero(months == month)[-1])]
        if (last_day + timedelta(days=1)).month != last_day.month:
            last[idx[-MONTH_END_LAST:]] = True
        first_day = clock.dates[int(np.flatnonzero(months == month)[0])]
        if first_day.day == 1:
            first[idx[:MONTH_START_FIRST]] = True
    return last, first


def profile(weekday: int, cutoff: tuple[int, int] | None) -> np.ndarray:
    weights = BASE_PROFILE.copy()
    starts = PROFILE_START + BIN * np.arange(len(weights))
    if weekday == 4:
        weights[starts >= 14 * 60] *= FRIDAY_AFTERNOON
    if cutoff is not None and cutoff[0] == weekday:
        weights[starts < cutoff[1]] *= CUTOFF_BEFORE
        weights[starts >= cutoff[1]] *= CUTOFF_AFTER
    return weights / weights.sum()


def times_of_day(
    rng: np.random.Generator, weekdays: np.ndarray, cutoff: tuple[int, int] | None
) -> np.ndarray:
    """A minute of the day for each arrival, drawn from its weekday's profile."""
    out = np.empty(len(weekdays), dtype=np.int64)
    for weekday in np.unique(weekdays):
        sel = weekdays == weekday
        cdf = np.cumsum(profile(int(weekday), cutoff))
        bins = np.minimum(
            np.searchsorted(cdf, rng.random(int(sel.sum())), side="right"), len(cdf) - 1
        )
        out[sel] = PROFILE_START + BIN * bins + rng.integers(0, BIN, int(sel.sum()))
    return out


class RequesterPicker:
    """Draws requesters among a unit's people, weighted by propensity, present on the day."""

    def __init__(self, org: Organisation, available: np.ndarray) -> None:
        self.available = available  # people x days
        self.members: dict[int, np.ndarray] = {}
        self.cdf: dict[int, np.ndarray] = {}
        for unit in range(len(org.units)):
            people = np.array(
                [
                    i
                    for i, p in enumerate(org.people)
                    if p.unit == unit and p.role != "admin" and p.propensity > 0
                ],
                dtype=np.int32,
            )
            if len(people):
                weights = np.array([org.people[i].propensity for i in people])
                self.members[unit] = people
                self.cdf[unit] = np.cumsum(weights) / weights.sum()

    def pick(self, rng: np.random.Generator, units: np.ndarray, days: np.ndarray) -> np.ndarray:
        out = np.empty(len(units), dtype=np.int32)
        for unit in np.unique(units):
            sel = np.flatnonzero(units == unit)
            members, cdf = self.members[int(unit)], self.cdf[int(unit)]
            chosen = members[
                np.searchsorted(cdf, rng.random(len(sel)), side="right").clip(0, len(members) - 1)
            ]
            for _ in range(8):  # redraw those who are away that day
                away = ~self.available[chosen, days[sel]]
                if not away.any():
                    break
                redraw = np.searchsorted(cdf, rng.random(int(away.sum())), side="right").clip(
                    0, len(members) - 1
                )
                chosen[away] = members[redraw]
            out[sel] = chosen
        return out


def draw_arrivals(
    org: Organisation,
    params: Params,
    clock: Clock,
    days: int,
    now_minute: int,
    available: np.ndarray,
    rng: np.random.Generator,
) -> Arrivals:
    working = working_days(clock, org, days)
    month_last, month_first = month_edges(clock, working)
    pay_week = pay_weeks(clock, working, params.pay_day)
    onboarding = onboarding_days(params, clock, days)
    weekday = clock.weekday[:days]
    trend = 1.0 + params.growth * np.arange(days) / max(days - 1, 1)
    base = WEEKDAY_FACTOR[weekday] * working * trend * params.scale
    noise = rng.gamma(
        params.day_noise_shape, 1.0 / params.day_noise_shape, size=(len(org.units), days)
    )
    picker = RequesterPicker(org, available)

    minutes, services, units = [], [], []
    for s, spec in enumerate(org.services):
        lam = spec.daily_rate * base * noise[spec.unit]
        lam = lam * np.where(month_last, spec.month_end, 1.0)
        lam = lam * np.where(month_first, 1.0 + (spec.month_end - 1.0) * 0.4, 1.0)
        lam = lam * np.where(pay_week, spec.pay_week, _rest_of_month(spec.pay_week, pay_week, working))
        lam = lam * (1.0 + spec.onboarding * onboarding)
        if spec.cutoff is not None:
            relative = (weekday - spec.cutoff[0] + 3) % 7 - 3
            for rel, factor in CUTOFF_DAY.items():
                lam = lam * np.where(relative == rel, factor, 1.0)
        counts = rng.poisson(lam)
        day_of = np.repeat(np.arange(days), counts)
        minute = day_of * DAY + times_of_day(rng, weekday[day_of], spec.cutoff)
        weights = np.array(list(spec.requested_by.values()), dtype=float)
        unit_of = np.array(list(spec.requested_by.keys()))[
            np.searchsorted(
                np.cumsum(weights) / weights.sum(), rng.random(len(minute)), side="right"
            ).clip(0, len(weights) - 1)
        ]
        minutes.append(minute)
        services.append(np.full(len(minute), s, dtype=np.int16))
        units.append(unit_of)
    minute = np.concatenate(minutes)
    service = np.concatenate(services)
    requester = picker.pick(rng, np.concatenate(units), minute // DAY)
    external_share = np.array([spec.external_share for spec in org.services])
    channel = (rng.random(len(minute)) < external_share[service]).astype(np.int8)
    case = np.full(len(minute), -1, dtype=np.int32)

    # Customer matters: a bundle of requests from one owner within minutes.
    c_minute, c_owner, c_bundle = [], [], []
    b_minute, b_service, b_requester, b_channel, b_case = [], [], [], [], []
    n_cases = 0
    for b, bundle in enumerate(org.bundles):
        counts = rng.poisson(bundle.daily_rate * base * noise.mean(axis=0))
        day_of = np.repeat(np.arange(days), counts)
        opened = day_of * DAY + times_of_day(rng, weekday[day_of], None)
        keep = opened <= now_minute - 60
        opened, day_of = opened[keep], day_of[keep]
        weights = np.array(list(bundle.owner_units.values()), dtype=float)
        owner_units = np.array(list(bundle.owner_units.keys()))[
            np.searchsorted(
                np.cumsum(weights) / weights.sum(), rng.random(len(opened)), side="right"
            ).clip(0, len(weights) - 1)
        ]
        owners = picker.pick(rng, owner_units, day_of)
        rows = n_cases + np.arange(len(opened), dtype=np.int32)
        n_cases += len(opened)
        c_minute.append(opened)
        c_owner.append(owners)
        c_bundle.append(np.full(len(opened), b, dtype=np.int16))
        clock_at = opened + rng.integers(1, 12, len(opened))
        external = rng.random(len(opened)) < bundle.external_share
        for position, (s, probability) in enumerate(bundle.services):
            wanted = (rng.random(len(opened)) < probability) | (position == 0)
            gap = rng.integers(2, 20, len(opened))
            b_minute.append((clock_at + gap)[wanted])
            clock_at = np.where(wanted, clock_at + gap, clock_at)
            b_service.append(np.full(int(wanted.sum()), s, dtype=np.int16))
            b_requester.append(owners[wanted])
            allowed = org.services[s].external_share > 0
            b_channel.append((external[wanted] & allowed).astype(np.int8))
            b_case.append(rows[wanted])
    if n_cases:
        minute = np.concatenate([minute, *b_minute])
        service = np.concatenate([service, *b_service])
        requester = np.concatenate([requester, *b_requester])
        channel = np.concatenate([channel, *b_channel])
        case = np.concatenate([case, *b_case])

    keep = minute <= now_minute - 1
    order = np.lexsort((service[keep], minute[keep]))
    idx = np.flatnonzero(keep)[order]
    return Arrivals(
        minute=minute[idx].astype(np.int64),
        service=service[idx].astype(np.int16),
        requester=requester[idx].astype(np.int32),
        channel=channel[idx].astype(np.int8),
        case=case[idx].astype(np.int32),
        case_owner=np.concatenate(c_owner).astype(np.int32) if n_cases else np.zeros(0, np.int32),
        case_minute=np.concatenate(c_minute).astype(np.int64) if n_cases else np.zeros(0, np.int64),
        case_bundle=np.concatenate(c_bundle).astype(np.int16) if n_cases else np.zeros(0, np.int16),
    )
