"""The promise engine in the product: fitted by the worker on the stored history, stored, read by the quote,
the stored promise and the live forecast; the neighbour rule alone while no fit has succeeded."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone

from tandem.engines.promise import PromiseModel
from tandem.engines.promise.feed import FEED
from tandem.insights.logs import database_log
from tandem.promises import books, engine
from tandem.promises.actions import refresh_forecasts
from tandem.promises.feed import feed_now
from tandem.promises.models import Basis, EngineFit, Promise
from tandem.promises.queries import quote
from tandem.promises.tests.test_promises import history, submit
from tandem.work.models import ServiceRequest, Status
from tests.cast import Cast
from tests.race import twice_at_once

pytestmark = pytest.mark.django_db(transaction=True)

SMALL = {"max_rounds": 20, "budget_s": 5.0, "min_cases": 20}


@pytest.fixture(autouse=True)
def _fresh() -> None:
    books.forget_books()
    engine.forget()


def night_after(now: datetime) -> datetime:
    """02:00 local on the day after ``now``: when the night's fit is due."""
    local = timezone.localtime(now) + timedelta(days=1)
    return local.replace(hour=2, minute=0, second=0, microsecond=0)


def fitted(cast: Cast, count: int = 40) -> tuple[datetime, EngineFit]:
    """``count`` requests, each resolved two hours after submission, and the night's fit on them."""
    end = history(cast, count, hours=2)
    row = engine.fit_due(database_log, night_after(end), **SMALL)
    assert row is not None and row.state == EngineFit.State.FITTED, row and row.reason
    return end, row


def engine_days(row: EngineFit, cast: Cast, now: datetime) -> tuple[float, float, float]:
    """The stored model's P50 / P80 / P90 (days) for a timesheet request at ``now``, from the JSON itself."""
    model = PromiseModel.from_json(row.model_json)
    feed = feed_now(cast.timesheet.unit, now)
    log = engine.one_submission(cast.timesheet, cast.timesheet.unit, now, cast.consultant.user.username)
    q = model.predict_prefixes(log, include_last=True, extra_features={n: np.array([feed[n]]) for n in FEED})
    return float(q.p50[0]), float(q.p80[0]), float(q.p90[0])


def test_without_a_fitted_model_the_neighbour_rule_quotes_and_says_so(cast: Cast) -> None:
    now = history(cast, 30, hours=2)
    q = quote(cast.timesheet, cast.consultant, now=now)
    assert q.basis == Basis.HISTORY and "Quoted from similar past requests." in q.explanation


def test_the_fit_stores_the_model_its_history_and_its_backtest(cast: Cast) -> None:
    end, row = fitted(cast)
    assert row.cases == 40 and row.history_from is not None and row.history_until is not None
    assert row.history_until <= end and row.fitted_at == night_after(end)
    assert row.figures["holdout_cases"] == 8 and row.figures["fit_cases"] == 40
    # Every request took two hours: the engine has learnt it, on held-out requests and from the stored JSON.
    assert row.figures["holdout_mae_days"] < 0.05
    p50, _p80, _p90 = engine_days(row, cast, end)
    assert abs(p50 - 2 / 24) < 0.02


def test_with_a_fitted_model_the_p50_is_the_mean_of_both_and_the_promise_the_engines(cast: Cast) -> None:
    end, row = fitted(cast)
    now = end + timedelta(hours=1)
    EngineFit.objects.update(state=EngineFit.State.FAILED)  # the model set aside
    engine.forget()
    neighbour = quote(cast.timesheet, cast.consultant, now=now)
    assert neighbour.basis == Basis.HISTORY
    EngineFit.objects.filter(pk=row.pk).update(state=EngineFit.State.FITTED)
    engine.forget()
    q = quote(cast.timesheet, cast.consultant, now=now)
    p50, p80, p90 = engine_days(row, cast, now)
    upper = float(np.expm1((np.log1p(p80) + np.log1p(p90)) / 2))  # 85 %: halfway between P80 and P90
    n50 = (neighbour.p50_at - now).total_seconds()
    assert q.basis == Basis.ENGINE
    # The P50: the mean of both; the promise: the engine's own (no promise of the engine has fallen due: no shift).
    assert abs((q.p50_at - now).total_seconds() - (n50 + p50 * 86_400) / 2) < 1
    assert abs((q.promised_at - now).total_seconds() - max(upper * 86_400, (n50 + p50 * 86_400) / 2)) < 1
    local = timezone.localtime(row.fitted_at)
    assert f"Quoted from the queue model fitted {local.day} {local:%b} and similar past requests." in q.explanation


def test_the_stored_promise_and_the_live_forecast_come_from_the_engine(cast: Cast) -> None:
    end, _row = fitted(cast)
    now = end + timedelta(hours=1)
    expected = quote(cast.timesheet, cast.consultant, now=now)
    pk = submit(cast, now)
    promise = Promise.objects.get(request_id=pk)
    assert promise.basis == Basis.ENGINE and promise.explanation.endswith("similar past requests.")
    assert abs((promise.promised_at - expected.promised_at).total_seconds()) < 60  # itself is not ahead of itself
    later = now + timedelta(minutes=30)
    Promise.objects.filter(pk=pk).update(refresh_due_at=later)
    refreshed, _slips = refresh_forecasts(now=later)
    promise.refresh_from_db()
    again = quote(cast.timesheet, cast.consultant, now=later)  # still queued: as if it arrived now
    assert refreshed == 1 and promise.forecast_at is not None
    assert abs((promise.forecast_at - again.promised_at).total_seconds()) < 60


def test_two_workers_never_fit_the_same_night(cast: Cast) -> None:
    end = history(cast, 30, hours=2)
    night = night_after(end)
    rows = twice_at_once(lambda: engine.fit_due(database_log, night, **SMALL))
    assert sorted(r is None for r in rows) == [False, True]
    assert EngineFit.objects.filter(due_on=timezone.localtime(night).date()).count() == 1
    assert engine.fit_due(database_log, night + timedelta(hours=3), **SMALL) is None  # done for tonight
    before = night.replace(hour=0, minute=30) + timedelta(days=1)
    assert engine.fit_due(database_log, before, **SMALL) is None  # not before the night's hour
    assert not EngineFit.objects.filter(due_on=timezone.localtime(before).date()).exists()


def test_a_failed_fit_keeps_the_previous_model_and_says_why(cast: Cast) -> None:
    end, row = fitted(cast)

    def broken() -> object:
        raise RuntimeError("the history could not be read")

    failed = engine.fit_due(broken, night_after(end) + timedelta(days=1), **SMALL)  # type: ignore[arg-type]
    assert failed is not None and failed.state == EngineFit.State.FAILED
    assert failed.reason == "RuntimeError: the history could not be read" and failed.model_json == ""
    q = quote(cast.timesheet, cast.consultant, now=end + timedelta(hours=1))
    answering = engine.current()
    assert q.basis == Basis.ENGINE and answering is not None and answering[0].pk == row.pk


def test_too_little_history_is_no_fit_and_the_neighbour_rule_answers(cast: Cast) -> None:
    end = history(cast, 10, hours=2)
    row = engine.fit_due(database_log, night_after(end), **SMALL)
    assert row is not None and row.state == EngineFit.State.FAILED
    assert row.reason.startswith("too little history to fit the promise engine: 10 resolved requests, 20 needed")
    assert quote(cast.timesheet, cast.consultant, now=end).basis != Basis.ENGINE


def test_the_units_shift_follows_the_engines_kept_and_missed_promises_within_its_cap(cast: Cast) -> None:
    end, row = fitted(cast)
    now = end + timedelta(hours=1)
    before = engine.engine_quote(cast.timesheet, now, 85)
    assert before is not None and before.shift == 0.0
    # Four of the engine's promises fell due before the next midnight: three missed (one still open, two
    # resolved late), one kept; a cancelled one and one quoted by the neighbour rule give nothing.
    promises = list(Promise.objects.filter(unit=cast.timesheet.unit).select_related("request")[:6])
    due = now - timedelta(days=1)
    for n, p in enumerate(promises):
        late = n in (1, 2)
        Promise.objects.filter(pk=p.pk).update(
            basis=Basis.HISTORY if n == 5 else Basis.ENGINE, promised_at=due + timedelta(minutes=n),
            confidence=85)
        resolved = None if n == 0 else due + timedelta(minutes=n) + timedelta(hours=1 if late else -1)
        ServiceRequest.objects.filter(pk=p.request_id).update(
            resolved_at=resolved, status=Status.CANCELLED if n == 4 else p.request.status)
    engine.forget()
    cap = float(row.figures["unit_spread"][str(cast.timesheet.unit.pk)])
    expected = 0.0
    for missed in (True, True, True, False):  # in the order they fell due
        expected = min(max(expected + 0.05 * (float(missed) - 0.15), -cap), cap)
    after = engine.engine_quote(cast.timesheet, now, 85)
    assert after is not None and cap > 0
    assert after.shift == pytest.approx(expected)
    assert after.upper_days == pytest.approx(float(np.expm1(np.log1p(before.upper_days) + expected)))
