"""At equal relevance, open requests rank above finished ones, then the newest first, on the
database under test (SQLite FTS5 or PostgreSQL): a small history whose order is known."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tandem.search.queries import search_requests
from tandem.work import actions
from tandem.work.models import ServiceRequest, Status
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db


def ask(cast: Cast, title: str, notes: str = "") -> ServiceRequest:
    intake = {**TIMESHEET_OK, **({"notes": notes} if notes else {})}
    return actions.submit_request(cast.consultant, cast.timesheet, intake, title=title).request


def resolve(cast: Cast, sr: ServiceRequest) -> None:
    actions.start_request(cast.payroll_agent, sr.pk, reason="Resolved in the order this test needs.")
    actions.resolve_request(cast.payroll_agent, sr.pk, "Sorted out.")


def test_open_requests_come_before_closed_ones_at_equal_relevance_then_the_newest(cast: Cast) -> None:
    # Four requests alike word for word (the same title, form and resolution), so equally relevant.
    first, second, third, fourth = (ask(cast, "Overtime", notes="Quagga shift") for _ in range(4))
    resolve(cast, second)
    resolve(cast, fourth)
    assert actions.close_expired_resolutions(now=timezone.now() + timedelta(days=60)) == 2
    resolve(cast, first)
    resolve(cast, third)  # resolved, not closed: still open
    state = dict(ServiceRequest.objects.values_list("pk", "is_open"))
    assert [state[sr.pk] for sr in (first, second, third, fourth)] == [True, False, True, False]
    assert ServiceRequest.objects.get(pk=fourth.pk).status == Status.CLOSED
    # A more relevant closed request (the word in its title) still comes first: the state only
    # breaks ties.
    best = ask(cast, "Quagga overtime")
    actions.cancel_request(cast.consultant, best.pk, "Asked twice.")
    assert not ServiceRequest.objects.get(pk=best.pk).is_open

    expected = [best.pk, third.pk, first.pk, fourth.pk, second.pk]  # by hand: open newest first, then closed
    for who in (cast.payroll_agent, cast.consultant):
        hits = search_requests(who.user, "quagga").hits
        assert [hit.request.pk for hit in hits] == expected, who
    # A page boundary falls inside the ties and keeps the order.
    page_one = search_requests(cast.payroll_agent.user, "quagga", size=2)
    page_two = search_requests(cast.payroll_agent.user, "quagga", page=2, size=2)
    assert [h.request.pk for h in page_one.hits + page_two.hits] == expected[:4] and page_one.has_next
