"""The product's feed read from the database, on a small history with known answers: the queue ahead
at the services' hands-on effort and the staffing of the next week (three Payroll people, the default
calendar: Mon–Fri 09:00–12:30 and 13:30–17:30, 7.5 hours a day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tandem.engines.promise.feed import queue_feed
from tandem.engines.worktime import to_epoch
from tandem.promises.feed import feed_now, unit_queue
from tandem.work import actions
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)  # 09:30 in London (GMT), a working Monday


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def submit(cast: Cast, when: datetime) -> int:
    return actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=when).request.pk


def small_history(cast: Cast) -> dict[str, int]:
    """A: 09:30, worked 09:40–11:40 (two hands-on hours), resolved; B: 09:45, open; C: 10:00,
    cancelled at 10:30; D: 12:00, open."""
    a = submit(cast, at(0))
    actions.assign_request(cast.payroll_lead, a, cast.payroll_agent.pk, now=at(0.1))
    actions.start_request(cast.payroll_agent, a, now=at(1 / 6))
    actions.resolve_request(cast.payroll_agent, a, "Corrected.", now=at(2 + 1 / 6))
    b = submit(cast, at(0.25))
    c = submit(cast, at(0.5))
    actions.cancel_request(cast.consultant, c, "Sent twice.", now=at(1))
    d = submit(cast, at(2.5))
    return {"A": a, "B": b, "C": c, "D": d}


# By hand: a week from Monday holds five working days of three people at 7.5 hours.
WEEK_HOURS = 5 * 3 * 7.5


def test_it_rebuilds_the_feed_of_any_past_instant_with_known_answers(cast: Cast) -> None:
    ids = small_history(cast)
    queue, request_ids = unit_queue(cast.payroll, MONDAY - timedelta(days=1), at(3), effort_as_of=at(3))
    index = {int(pk): i for i, pk in enumerate(request_ids)}
    # Every request weighs the service's median effort as known at 12:30: A's two hands-on hours.
    np.testing.assert_allclose(queue.effort, [7200.0] * 4)
    instants = [at(0.5), at(2.5)]  # C arrives at 10:00; D at 12:00
    own = [index[ids["C"]], index[ids["D"]]]
    got = queue_feed(queue, [to_epoch(t) for t in instants], own)
    # At 10:00 ahead of C: A and B (two hours each). At 12:00 ahead of D: B only (A resolved at
    # 11:40, C cancelled at 10:30).
    assert got["feed:effort_ahead_h"].tolist() == pytest.approx([4.0, 2.0])
    assert got["feed:staffed_h_per_day"].tolist() == pytest.approx([22.5, 22.5])
    assert got["feed:drain_days"].tolist() == pytest.approx([4.0 / (WEEK_HOURS / 7), 2.0 / (WEEK_HOURS / 7)])
    assert got["feed:people_on_shift"].tolist() == [3.0, 3.0]


def test_a_quote_now_reads_what_is_open_and_the_week_ahead(cast: Cast) -> None:
    ids = small_history(cast)
    e = submit(cast, at(3))
    got = feed_now(cast.payroll, at(3), without=e)
    # Open besides E: B and D, at two hands-on hours each.
    assert got["feed:effort_ahead_h"] == pytest.approx(4.0)
    assert got["feed:staffed_h_per_day"] == pytest.approx(22.5)
    assert got["feed:drain_days"] == pytest.approx(4.0 / (WEEK_HOURS / 7))
    assert got["feed:people_on_shift"] == 3
    # The same instant rebuilt from the history gives the same figures.
    queue, request_ids = unit_queue(cast.payroll, MONDAY - timedelta(days=1), at(3), effort_as_of=at(3))
    own = int(np.flatnonzero(request_ids == e)[0])
    rebuilt = queue_feed(queue, [to_epoch(at(3))], [own])
    assert {k: float(v[0]) for k, v in rebuilt.items()} == pytest.approx(got)
    assert ids["B"] in request_ids.tolist()


def test_an_absence_lowers_the_staffing_and_lengthens_the_drain(cast: Cast) -> None:
    from tandem.org.models import Absence

    small_history(cast)
    before = feed_now(cast.payroll, at(3))
    Absence.objects.create(person=cast.payroll_agent2, starts_on=MONDAY.date() + timedelta(days=1),
                           ends_on=MONDAY.date() + timedelta(days=4), kind=Absence.Kind.LEAVE)
    after = feed_now(cast.payroll, at(3))
    # Tuesday to Friday off: the week holds 112.5 - 4 × 7.5 = 82.5 hours.
    assert after["feed:staffed_h_per_day"] == pytest.approx(82.5 / 5)
    assert after["feed:drain_days"] == pytest.approx(before["feed:effort_ahead_h"] / (82.5 / 7))
    assert after["feed:drain_days"] > before["feed:drain_days"]
    # A quote reads the staffing from the unit's book (rebuilt when an absence is entered): the same figures.
    from tandem.promises import books

    books.forget_books()
    assert feed_now(cast.payroll, at(3), capacity=books.book_for(cast.payroll, at(3)).capacity) == after
