"""Procedure conformance: which requests followed the documented steps, and how the others did not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tandem.engines.evidence.conformance import (
    AFTER_RESOLUTION,
    OUT_OF_ORDER,
    SKIPPED,
    RequestMarks,
    conformance,
    deviations_of,
)

PROCEDURE = [11, 12, 13]
NAMES = {11: "Check", 12: "Chase", 13: "Record"}
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def request(*marks: tuple[int, bool], resolved: int = 100, start: int = 0) -> RequestMarks:
    """Marks made a minute apart from ``start``; those after ``resolved`` are late."""
    return RequestMarks(resolved=at(resolved), marks=[(s, d, start + i > resolved) for i, (s, d) in enumerate(marks)])


def test_every_step_done_in_order_follows() -> None:
    assert deviations_of(PROCEDURE, request((11, True), (12, True), (13, True))) == []


def test_a_missing_step_is_skipped_and_a_step_undone_counts_as_not_done() -> None:
    assert deviations_of(PROCEDURE, request((11, True), (13, True))) == [(SKIPPED, (12,))]
    undone = request((11, True), (12, True), (12, False), (13, True))
    assert deviations_of(PROCEDURE, undone) == [(SKIPPED, (12,))]
    assert deviations_of(PROCEDURE, request()) == [(SKIPPED, (11,)), (SKIPPED, (12,)), (SKIPPED, (13,))]


def test_a_step_done_before_the_one_documented_before_it_is_out_of_order() -> None:
    assert deviations_of(PROCEDURE, request((11, True), (13, True), (12, True))) == [(OUT_OF_ORDER, (13, 12))]
    # A skipped step in between: the order is judged against the nearest completed step.
    assert deviations_of(PROCEDURE, request((13, True), (11, True))) == [
        (SKIPPED, (12,)), (OUT_OF_ORDER, (13, 11)),
    ]


def test_a_mistake_taken_back_and_redone_in_order_is_not_a_deviation() -> None:
    corrected = request((12, True), (12, False), (11, True), (12, True), (13, True))
    assert deviations_of(PROCEDURE, corrected) == []


def test_marks_after_resolution_and_steps_outside_the_procedure() -> None:
    late = request((11, True), (12, True), (13, True), resolved=0)
    assert deviations_of(PROCEDURE, late) == [(AFTER_RESOLUTION, (12,)), (AFTER_RESOLUTION, (13,))]
    assert deviations_of(PROCEDURE, request((99, True), (11, True), (12, True), (13, True))) == []


def test_the_service_figures_share_ranked_deviations_and_weekly_trend() -> None:
    week2 = 7 * 24 * 60
    requests = [
        request((11, True), (12, True), (13, True)),
        request((11, True), (13, True)),
        request((11, True), (13, True), resolved=week2 + 5),
        request((11, True), (13, True), (12, True), resolved=week2 + 5),
        request((11, True), (12, True), (13, True), resolved=week2 + 5),
    ]
    result = conformance(PROCEDURE, requests, names=NAMES)
    assert (result.checked, result.following, result.share) == (5, 2, 0.4)
    assert [(d.label, d.count) for d in result.deviations] == [
        ("skipped: Chase", 2), ("out of order: Record before Chase", 1),
    ]
    assert [(w.week, w.checked, w.following) for w in result.weeks] == [
        (date(2026, 11, 23), 2, 1), (date(2026, 11, 30), 3, 1),
    ]
    assert result.weeks[1].share == 1 / 3


def test_nothing_to_check_without_a_procedure_or_requests() -> None:
    empty = conformance([], [request((11, True))])
    assert (empty.checked, empty.share, empty.deviations, empty.weeks) == (0, None, [], [])
    assert conformance(PROCEDURE, []).share is None
    assert conformance(PROCEDURE, [request()]).deviations[0].label == "skipped: step 11"


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([11, 12, 13, 14]), st.booleans()), max_size=12))
def test_a_request_follows_exactly_when_its_standing_marks_are_all_steps_in_order(
    marks: list[tuple[int, bool]],
) -> None:
    standing: dict[int, int] = {}
    for i, (step, done) in enumerate(marks):
        if step == 14:
            continue
        if done:
            standing[step] = i
        else:
            standing.pop(step, None)
    in_order = sorted(standing, key=standing.__getitem__) == PROCEDURE
    found = deviations_of(PROCEDURE, request(*marks, resolved=1000))
    assert (found == []) == in_order
    assert sum(kind == SKIPPED for kind, _ in found) == 3 - len(standing)
