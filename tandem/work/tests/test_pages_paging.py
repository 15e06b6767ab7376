"""Keyset pagination on its own: every row once, in order, across pages, with ties in the sort."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Case, Value, When
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tandem.work import actions
from tandem.work.models import ServiceRequest
from tandem.work.paging import NEWEST_FIRST, OLDEST_FIRST, keyset_page, parse_cursor
from tests.cast import TIMESHEET_OK, Cast

DUE = (("due_at", False), ("id", False))


@pytest.fixture
def requests(cast: Cast) -> list[ServiceRequest]:
    now = timezone.now()
    # Three submissions share each instant, so due_at has ties that only the id can break.
    return [
        actions.submit_request(
            cast.consultant, cast.timesheet, TIMESHEET_OK, now=now - timedelta(hours=i // 3)
        ).request
        for i in range(23)
    ]


def walk(sort, size: int) -> tuple[list[int], list[int]]:
    qs = ServiceRequest.objects.all()
    forward: list[int] = []
    page = keyset_page(qs, sort, size=size)
    pages = [page]
    while True:
        forward += [sr.pk for sr in page.items]
        if page.next_after is None:
            break
        page = keyset_page(qs, sort, after=page.next_after, size=size)
        pages.append(page)
    backward: list[int] = [sr.pk for sr in page.items]
    while page.previous_before is not None:
        page = keyset_page(qs, sort, before=page.previous_before, size=size)
        backward = [sr.pk for sr in page.items] + backward
    return forward, backward


@pytest.mark.parametrize("size", [1, 4, 7, 23, 50])
@pytest.mark.parametrize("sort", [OLDEST_FIRST, NEWEST_FIRST, DUE], ids=["oldest", "newest", "due"])
def test_it_visits_every_row_once_in_order_both_ways(requests, sort, size: int) -> None:
    expected = list(
        ServiceRequest.objects.order_by(*[("-" if d else "") + f for f, d in sort]).values_list(
            "pk", flat=True
        )
    )
    forward, backward = walk(sort, size)
    assert forward == expected and backward == expected


@pytest.mark.parametrize("size", [1, 4, 7, 23])
def test_it_pages_by_values_computed_for_each_row(requests, size: int) -> None:
    """A sort on computed keys (as the queue's sections): every third request first, each part by
    due time with its ties, both ways; the rows carry the keys."""
    keys = {"part": Case(When(id__in=[sr.pk for sr in requests[::3]], then=Value(0)), default=Value(1))}
    sort = (("part", False), ("due_at", False), ("id", False))
    qs = ServiceRequest.objects.all()
    expected = list(qs.annotate(**keys).order_by("part", "due_at", "id").values_list("pk", flat=True))
    forward: list[int] = []
    page = keyset_page(qs, sort, size=size, keys=keys)
    while True:
        forward += [sr.pk for sr in page.items]
        assert all(sr.part == (0 if sr in requests[::3] else 1) for sr in page.items)  # type: ignore[attr-defined]
        if page.next_after is None:
            break
        page = keyset_page(qs, sort, after=page.next_after, size=size, keys=keys)
    backward = [sr.pk for sr in page.items]
    while page.previous_before is not None:
        page = keyset_page(qs, sort, before=page.previous_before, size=size, keys=keys)
        backward = [sr.pk for sr in page.items] + backward
    assert forward == expected and backward == expected


@pytest.mark.parametrize("sort", [NEWEST_FIRST, (("part", False), ("due_at", False), ("id", False))],
                         ids=["newest", "computed"])
def test_with_related_it_gives_the_same_rows_with_their_keys_and_relations_loaded(requests, sort) -> None:
    """Read by id then by primary key with the relations joined (as the queue and the request
    lists read): the same rows in the same order, carrying the computed keys, and a filter of
    ``qs`` still holds."""
    keys = {"part": Case(When(id__in=[sr.pk for sr in requests[::3]], then=Value(0)), default=Value(1))}
    qs = ServiceRequest.objects.exclude(pk=requests[5].pk)
    plain, joined = keyset_page(qs, sort, size=7, keys=keys), keyset_page(qs, sort, size=7, keys=keys,
                                                                           related=("service", "requester__user"))
    assert [sr.pk for sr in joined.items] == [sr.pk for sr in plain.items]
    assert (joined.next_after, joined.previous_before) == (plain.next_after, plain.previous_before)
    assert [sr.part for sr in joined.items] == [sr.part for sr in plain.items]  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as queries:
        names = [(sr.service.name, sr.requester.user.username) for sr in joined.items]
    assert len(queries) == 0 and len(names) == 7
    after = keyset_page(qs, sort, after=joined.next_after, size=50, keys=keys, related=("service",))
    seen = [sr.pk for sr in joined.items + after.items]
    assert requests[5].pk not in seen and sorted(seen) == sorted(qs.values_list("pk", flat=True))


def test_it_reads_one_page_in_a_fixed_number_of_queries(requests) -> None:
    qs = ServiceRequest.objects.all()
    first = keyset_page(qs, DUE, size=5)
    with CaptureQueriesContext(connection) as queries:
        keyset_page(qs, DUE, after=first.next_after, size=5)
    # The cursor row's due time, the page, and whether anything comes before it. No COUNT, no OFFSET.
    assert len(queries) == 3
    assert not any(
        "COUNT(" in q["sql"].upper() or "OFFSET" in q["sql"].upper()
        for q in queries.captured_queries
    )


def test_it_starts_again_at_an_unknown_cursor(requests) -> None:
    page = keyset_page(ServiceRequest.objects.all(), DUE, after=10**9, size=5)
    assert page.at_start and len(page.items) == 5


def test_it_reads_only_positive_whole_numbers_as_cursors() -> None:
    assert [parse_cursor(v) for v in ("12", "0", "-3", "x", None, "")] == [
        12,
        None,
        None,
        None,
        None,
        None,
    ]
