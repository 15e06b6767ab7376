"""The promise engine inside the product: fitted by the worker once a night on the stored history, stored
as its JSON (``EngineFit``), read by the quote.

The engine is the event-log model (``tandem.engines.promise``) queue-blind, fed what only the product knows
(``feed:*``: the queue ahead at its corrected effort, the staffing of the next days;
``tandem.promises.feed``): the configuration measured best at submission on the demo's three origins
(docs/benchmarks.md). It reads nothing of other requests but that feed, so a quote is one request's one
event, and its cost does not grow with the stored history.

With a fitted model the product's P50 is the mean of this engine's and the neighbour rule's
(``tandem.engines.quoting``), in calendar time after the quote: the measured best MAE. The promise (the upper
quote) is the engine's, moved by its unit's tracked shift (``unit_shift``: adaptive conformal inference read at
each promise's due time, capped at one fit-time spread): the calibration measured closest to its level in every
unit (docs/promises.md). While no fit has succeeded (a new install, too little history, every fit failed) the
neighbour rule answers alone.

Fitting never runs on a page view: ``fit_due`` is a worker duty; the worker that inserts the night's row
(``due_on`` is unique) fits, any other skips.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.engines.eventlog import EventLog
from tandem.engines.eventlog.model import LIFECYCLE, RESOURCE, Categorical
from tandem.engines.promise import PromiseError, PromiseModel, fit
from tandem.engines.promise.feed import FEED, event_feed
from tandem.org.models import Unit
from tandem.promises import books
from tandem.promises.feed import feed_now, unit_queue
from tandem.promises.models import Basis, EngineFit, Promise
from tandem.work.models import Event, ServiceRequest, Status

logger = logging.getLogger(__name__)

DAY_S = 86_400.0
#: Fewer resolved requests than this and the engine is not fitted (the neighbour rule answers).
MIN_CASES = 200
#: The fit runs on the worker's first round at or after this local hour (a night's quiet).
FIT_HOUR = 1
#: The back-test stored with each fit: the engine fitted on the older requests, scored on this latest share.
HOLDOUT_SHARE = 0.2
#: Boosting rounds and time budget of a fit (``bench/promise_feed.py`` measured with the same).
MAX_ROUNDS = 300
BUDGET_S = 20.0
CASE_ATTRIBUTES = ("unit", "service")
SUBMITTED = str(Event.Kind.SUBMITTED.label)

ReadLog = Callable[[], EventLog]


# --- fitting (the worker) -------------------------------------------------------------------------


def fit_due(read_log: ReadLog, now: datetime | None = None, **options: Any) -> EngineFit | None:
    """The night's fit, when it is due and this worker claims it: the row for today is inserted by one
    worker only; the others (and this one on later rounds) return ``None``. A fit that fails is kept with
    its reason, and the previous fitted model goes on answering. ``read_log``: the stored history as an
    event log (``tandem.insights.logs.database_log``)."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < FIT_HOUR or EngineFit.objects.filter(due_on=local.date()).exists():
        return None
    try:
        with transaction.atomic():
            row = EngineFit.objects.create(due_on=local.date(), claimed_at=now)
    except IntegrityError:
        return None  # another worker claimed tonight's fit
    return run_fit(row, read_log, now, **options)


def run_fit(row: EngineFit, read_log: ReadLog, now: datetime, **options: Any) -> EngineFit:
    """Fit into ``row`` (claimed): fitted with its model and figures, or failed with why."""
    began = time.perf_counter()
    try:
        enough = options.get("min_cases", MIN_CASES)
        resolved = ServiceRequest.objects.filter(status__in=(Status.RESOLVED, Status.CLOSED), resolved_at__lte=now)
        if resolved.count() < enough:  # said without reading the whole history
            raise ValueError(f"too little history to fit the promise engine: {resolved.count()} resolved requests, "
                             f"{enough} needed; the neighbour rule quotes meanwhile")
        made = fit_engine(read_log(), now, **options)
    except (PromiseError, ValueError) as error:
        row.state, row.reason = EngineFit.State.FAILED, str(error)[:300]
    except Exception as error:  # a fit must never stop the worker; the row says why
        logger.exception("The promise engine's fit failed")
        row.state, row.reason = EngineFit.State.FAILED, f"{type(error).__name__}: {error}"[:300]
    else:
        row.state, row.fitted_at, row.model_json = EngineFit.State.FITTED, now, made.model.to_json()
        row.history_from, row.history_until, row.cases, row.figures = (made.history_from, made.history_until,
                                                                       made.cases, made.figures)
    row.fit_seconds = round(time.perf_counter() - began, 1)
    row.save()
    return row


@dataclass(frozen=True)
class Fitted:
    model: PromiseModel
    history_from: datetime
    history_until: datetime
    cases: int
    figures: dict[str, Any]


def fit_engine(log: EventLog, now: datetime, *, max_rounds: int = MAX_ROUNDS, budget_s: float = BUDGET_S,
               min_cases: int = MIN_CASES) -> Fitted:
    """Fit the engine on the requests resolved by ``now`` (the log cut at each one's resolution: the promise
    is for the resolution), after measuring it on the latest ``HOLDOUT_SHARE`` of them fitted on the rest.
    ``ValueError`` (with what is missing) when the history is too short."""
    rows = {ref: (pk, unit, status, resolved) for ref, pk, unit, status, resolved in ServiceRequest.objects.filter(
        submitted_at__lte=now).values_list("reference", "pk", "unit_id", "status", "resolved_at")}
    names = log.case.names
    known = np.array([name in rows for name in names], dtype=bool)
    resolved_s = np.array([_resolved(rows.get(name), now) for name in names])
    is_resolved = known & np.isfinite(resolved_s)
    if int(is_resolved.sum()) < min_cases:
        raise ValueError(f"too little history to fit the promise engine: {int(is_resolved.sum())} resolved "
                         f"requests, {min_cases} needed; the neighbour rule quotes meanwhile")
    until_us = np.full(len(names), np.iinfo(np.int64).max, dtype=np.int64)
    until_us[is_resolved] = (resolved_s[is_resolved] * 1e6).astype(np.int64)
    log = cut_at(log, until_us)
    extra = product_feed(log, [rows.get(name) for name in names], now)
    first_us = np.full(len(names), np.inf)
    np.minimum.at(first_us, log.case.codes, log.time.astype(np.float64))
    start_s = first_us / 1e6
    order = np.flatnonzero(is_resolved)[np.argsort(start_s[is_resolved], kind="stable")]
    cut = float(start_s[order[int(len(order) * (1 - HOLDOUT_SHARE))]])
    options: dict[str, Any] = {"case_attributes": list(CASE_ATTRIBUTES), "queue_features": False,
                               "extra_features": extra, "max_rounds": max_rounds, "time_budget_s": budget_s}
    held = is_resolved & (start_s >= cut)
    trial = fit(log, cases=is_resolved & (start_s < cut), **options)
    q = trial.predict_prefixes(log, extra_features=extra)
    at = {c: i for i, c in enumerate(np.array(q.case_id)[q.k == 1])}
    err = [abs(float(q.p50[q.k == 1][at[names[c]]]) - (resolved_s[c] - start_s[c]) / DAY_S)
           for c in np.flatnonzero(held) if names[c] in at]
    model = fit(log, cases=is_resolved, **options)
    q = model.predict_prefixes(log, extra_features=extra)
    first = q.k == 1
    at = {c: i for i, c in enumerate(np.array(q.case_id)[first])}
    spread: dict[str, list[float]] = {}
    for c in np.flatnonzero(is_resolved):
        if names[c] in at:
            i = at[names[c]]
            p50, p85 = float(q.p50[first][i]), upper_at(float(q.p80[first][i]), float(q.p90[first][i]), 85)
            spread.setdefault(str(rows[names[c]][1]), []).append(float(np.log1p(p85) - np.log1p(p50)))
    figures = {"holdout_share": HOLDOUT_SHARE, "holdout_from": datetime.fromtimestamp(cut).astimezone().isoformat(),
               "holdout_cases": len(err), "holdout_mae_days": round(float(np.mean(err)), 3) if err else None,
               "fit_cases": int(is_resolved.sum()),
               "unit_spread": {u: round(float(np.median(v)), 4) for u, v in spread.items()}}
    oldest, newest = float(start_s[order[0]]), float(start_s[order[-1]])
    return Fitted(model, datetime.fromtimestamp(oldest).astimezone(), datetime.fromtimestamp(newest).astimezone(),
                  int(is_resolved.sum()), figures)


def _resolved(row: tuple[int, int, str, datetime | None] | None, now: datetime) -> float:
    if row is None or row[2] not in (Status.RESOLVED, Status.CLOSED) or row[3] is None or row[3] > now:
        return np.inf
    return row[3].timestamp()


def cut_at(log: EventLog, until_us: np.ndarray) -> EventLog:
    """The log without each case's events after ``until_us[case]`` (closing, surveys and comments after the
    resolution are not the wait)."""
    idx = np.flatnonzero(log.time <= until_us[log.case.codes])
    return EventLog(case=log.case.take(idx), activity=log.activity.take(idx), time=log.time[idx],
                    attributes={k: a.take(idx) for k, a in log.attributes.items()}, types=dict(log.types),
                    case_attributes=dict(log.case_attributes), case_types=dict(log.case_types),
                    problems=list(log.problems))


def product_feed(log: EventLog, rows: list[tuple[int, int, str, datetime | None] | None], now: datetime
                 ) -> dict[str, np.ndarray]:
    """The feed at every event of ``log`` (``rows``: each case's request, or None), each unit's queue with its
    services' efforts as known at ``now``."""
    submitted = ServiceRequest.objects.filter(submitted_at__lte=now)
    first = submitted.order_by("submitted_at").values_list("submitted_at", flat=True).first() or now
    pk_unit = np.array([(r[0], r[1]) if r else (-1, -1) for r in rows], dtype=np.int64).reshape(-1, 2)
    own = np.full(len(rows), -1, dtype=np.int64)
    queues = {}
    for unit in Unit.objects.filter(services__isnull=False).distinct():
        queue, ids = unit_queue(unit, first - timedelta(days=8), now, effort_as_of=now)
        index = {int(pk): i for i, pk in enumerate(ids)}
        for c in np.flatnonzero(pk_unit[:, 1] == unit.pk):
            own[c] = index.get(int(pk_unit[c, 0]), -1)
        queues[unit.pk] = queue
    return event_feed(log.time, log.case.codes, pk_unit[:, 1], own, queues)


# --- quoting (a page view reads the stored model) ---------------------------------------------------


_loaded: dict[str, Any] = {"pk": None, "model": None, "fit": None}


def current() -> tuple[EngineFit, PromiseModel] | None:
    """The latest fitted model (parsed once per process and fit), or ``None`` while there is none."""
    latest = (EngineFit.objects.filter(state=EngineFit.State.FITTED).order_by("-fitted_at", "-pk")
              .only("pk", "fitted_at").first())
    if latest is None:
        return None
    if _loaded["pk"] != latest.pk:
        row = EngineFit.objects.get(pk=latest.pk)
        _loaded.update(pk=row.pk, model=PromiseModel.from_json(row.model_json), fit=row)
    return _loaded["fit"], _loaded["model"]


def forget() -> None:
    """Parse the stored model and replay the shifts again on the next quote (tests)."""
    _loaded.update(pk=None, model=None, fit=None)
    _shifts.clear()


@dataclass(frozen=True)
class EngineQuote:
    p50_days: float
    upper_days: float  # at the asked confidence, the unit's tracked shift applied
    fitted_at: datetime
    shift: float  # the unit's tracked shift, log1p(days)


def engine_quote(service: Service, now: datetime, confidence: int, *, resource: str = "",
                 without: int | None = None) -> EngineQuote | None:
    """The engine's P50 and upper quote (calendar days after ``now``) for a new request to ``service``, or
    ``None`` when no model is fitted or ``confidence`` is outside its 80-90 % (the neighbour rule then
    quotes alone). The upper quote is the engine's, between its P80 and P90 in log1p(days), moved by the
    unit's tracked shift (``unit_shift``)."""
    if not 80 <= confidence <= 90:
        return None
    got = current()
    if got is None:
        return None
    row, model = got
    unit = service.unit
    feed = feed_now(unit, now, without=without, capacity=books.book_for(unit, now).capacity)
    log = one_submission(service, unit, now, resource)
    try:
        q = model.predict_prefixes(log, include_last=True,
                                   extra_features={name: np.array([feed.get(name, np.nan)]) for name in FEED})
    except PromiseError:
        logger.exception("The stored promise model could not quote; the neighbour rule answers alone")
        return None
    p50 = float(q.p50[0])
    cap = CAP_SPREADS * float(row.figures.get("unit_spread", {}).get(str(unit.pk), 0.0))
    shift = unit_shift(unit.pk, now, cap)
    upper = float(np.expm1(np.log1p(upper_at(float(q.p80[0]), float(q.p90[0]), confidence)) + shift))
    assert row.fitted_at is not None
    return EngineQuote(p50, max(upper, p50), row.fitted_at, shift)


def upper_at(p80: float, p90: float, confidence: int) -> float:
    """The engine's upper quote at ``confidence`` (80-90 %), interpolated in log1p(days)."""
    w = (confidence - 80) / 10
    return float(np.expm1((1 - w) * np.log1p(max(p80, 0.0)) + w * np.log1p(max(p90, 0.0))))


#: The tracker's step (log1p days per outcome), its cap (in fit-time spreads of the unit: its median
#: log1p(P85) − log1p(P50)) and how far back it reads: the measured choice (docs/benchmarks.md).
ETA = 0.05
CAP_SPREADS = 1.0
TRACK_DAYS = 90
_shifts: dict[tuple[int, datetime, float], float] = {}


def unit_shift(unit_id: int, now: datetime, cap: float) -> float:
    """The unit's tracked shift (``tandem.engines.promise.tracking``, read at the promised time, capped at
    ± ``cap``) as it stood at the last midnight (UTC): replayed over the engine's promises of the unit that
    fell due in the ``TRACK_DAYS`` before, in the order they fell due. A promise is missed when its request
    was not resolved by its promised time; a cancelled one gives no outcome. Once a day per unit and process."""
    midnight = datetime.fromtimestamp(np.floor(now.timestamp() / DAY_S) * DAY_S, tz=now.tzinfo)
    key = (unit_id, midnight, cap)
    if key not in _shifts:
        due = (Promise.objects.filter(unit_id=unit_id, basis=Basis.ENGINE, promised_at__lte=midnight,
                                      promised_at__gt=midnight - timedelta(days=TRACK_DAYS))
               .exclude(request__status=Status.CANCELLED).order_by("promised_at", "pk")
               .values_list("promised_at", "request__resolved_at", "confidence"))
        theta = 0.0
        for promised_at, resolved_at, confidence in due:
            missed = resolved_at is None or resolved_at > promised_at
            theta = min(max(theta + ETA * (float(missed) - (1 - confidence / 100)), -cap), cap)
        if len(_shifts) > 10_000:
            _shifts.clear()
        _shifts[key] = theta
    return _shifts[key]


def one_submission(service: Service, unit: Unit, now: datetime, resource: str) -> EventLog:
    """A request's submission as the one event of a log, with the attributes the stored history's log gives
    it (``tandem.insights.logs.database_log``)."""
    def one(value: str) -> Categorical:
        return Categorical.from_values([value])

    return EventLog(case=one("quote"), activity=one(SUBMITTED),
                    time=np.array([int(now.timestamp() * 1_000_000)], dtype=np.int64),
                    attributes={RESOURCE: one(resource or "system"), LIFECYCLE: one("complete")},
                    case_attributes={"service": one(service.slug), "unit": one(unit.slug)})


__all__ = ["EngineQuote", "Fitted", "cut_at", "engine_quote", "fit_due", "fit_engine", "forget", "run_fit"]
