"""The replay of arrivals through allocation policies (tandem.engines.allocation.simulate)."""

from __future__ import annotations

import pytest

from tandem.engines.allocation.simulate import (
    OLDEST_FIRST_PULL,
    POLICIES,
    ROUND_ROBIN,
    TANDEM,
    Arrival,
    SimPerson,
    World,
    replay,
    replay_all,
)


def person(pid: str, skills: dict[str, float], hours: list[float]) -> SimPerson:
    return SimPerson(pid, skills, hours)


def test_one_person_one_item_resolves_at_effort() -> None:
    world = World([person("ana", {"pay": 2}, [1.0] * 8)], [Arrival("r1", "pay", 1, 2.5, 0.0, 4.0)], steps=8)
    for policy in POLICIES.values():
        result = replay(world, policy)
        assert result.done_at == [2.5]
        assert result.within_due == 1.0
        assert result.breaches == 0
        assert result.mean_hours_to_resolution == pytest.approx(2.5)
        assert result.backlog_items == 0
        assert result.worked == [2.5]


def test_only_qualified_people_work_an_item() -> None:
    people = [person("low", {"pay": 1}, [1.0] * 6), person("high", {"pay": 3}, [1.0] * 6)]
    world = World(people, [Arrival("r1", "pay", 3, 1.0, 0.0, 5.0)], steps=6)
    for policy in (TANDEM, ROUND_ROBIN, OLDEST_FIRST_PULL):
        result = replay(world, policy)
        assert result.worked == [0.0, 1.0], policy.name


def test_round_robin_gives_work_to_an_absent_person_and_tandem_does_not() -> None:
    # "away" is first in turn and absent the whole time: round-robin leaves the item with them.
    people = [person("away", {"pay": 2}, [0.0] * 10), person("here", {"pay": 2}, [1.0] * 10)]
    world = World(people, [Arrival("r1", "pay", 1, 1.0, 0.0, 3.0)], steps=10)
    rr = replay(world, ROUND_ROBIN)
    assert rr.done_at == [None]
    assert rr.within_due == 0.0
    assert rr.breaches == 1  # unresolved and due before the end
    assert rr.backlog_items == 1 and rr.backlog_hours == pytest.approx(1.0)
    assert replay(world, TANDEM).done_at == [1.0]
    assert replay(world, OLDEST_FIRST_PULL).done_at == [1.0]


def test_tandem_serves_the_urgent_item_first() -> None:
    # One person; a long item arrives first, an urgent one just after: Tandem does the urgent
    # one first and meets both; oldest-first starts the long one and misses the urgent one.
    people = [person("ana", {"pay": 2}, [1.0] * 12)]
    arrivals = [Arrival("long", "pay", 1, 4.0, 0.0, 10.0, 4), Arrival("urgent", "pay", 1, 1.0, 0.5, 2.0, 1)]
    world = World(people, arrivals, steps=12)
    tandem = replay(world, TANDEM)
    assert tandem.within_due == 1.0
    oldest = replay(world, OLDEST_FIRST_PULL)
    assert oldest.within_due == 0.5
    assert oldest.breaches == 1


def test_unresolved_items_due_after_the_end_are_backlog_not_breaches() -> None:
    # The person works on after the end (hours beyond ``steps``): the plan sees it.
    world = World([person("ana", {"pay": 2}, [1.0] * 10)], [Arrival("r1", "pay", 1, 5.0, 0.0, 20.0)], steps=2)
    result = replay(world, TANDEM)
    assert result.breaches == 0
    assert result.within_due == 0.0
    assert result.backlog_items == 1
    assert result.backlog_hours == pytest.approx(3.0)


def test_a_started_holder_keeps_the_item() -> None:
    people = [person("ana", {"pay": 2}, [0.0, 0.0, 1.0, 1.0]), person("bo", {"pay": 2}, [1.0] * 4)]
    arrivals = [Arrival("r1", "pay", 1, 1.0, 0.0, 10.0, holder="ana", started=True)]
    result = replay(World(people, arrivals, steps=4), TANDEM)
    assert result.worked == [1.0, 0.0]
    assert result.done_at == [3.0]


def test_part_hours_and_extra_people_lower_the_breaches() -> None:
    arrivals = [Arrival(f"r{k}", "pay", 1, 1.0, 0.0, 4.0) for k in range(8)]
    alone = World([person("ana", {"pay": 2}, [1.0] * 6)], arrivals, steps=6)
    helped = World([person("ana", {"pay": 2}, [1.0] * 6), person("lent", {"pay": 2}, [0.5] * 6)], arrivals, steps=6)
    a, h = replay(alone, TANDEM), replay(helped, TANDEM)
    assert a.breaches == 4 and h.breaches == 2
    assert h.backlog_items < a.backlog_items


def test_spread_of_load() -> None:
    people = [person("a", {"pay": 2}, [1.0] * 4), person("b", {"pay": 2}, [1.0] * 4)]
    arrivals = [Arrival(f"r{k}", "pay", 1, 1.0, 0.0, 4.0) for k in range(4)]
    world = World(people, arrivals, steps=4)
    results = replay_all(world)
    assert set(results) == {"tandem", "round_robin", "oldest_first_pull"}
    for result in results.values():
        assert result.utilisation_sd == pytest.approx(0.0)
        assert result.worked == [2.0, 2.0]
    assert results["tandem"].figures()["items"] == 4


@pytest.mark.parametrize(
    ("world", "message"),
    [
        (World([person("a", {}, [1.0]), person("a", {}, [1.0])], [], 1), "share an id"),
        (World([person("a", {}, [1.0])], [Arrival("r", "x", 1, 0.0, 0.0, 1.0)], 1), "effort must be above 0"),
        (World([person("a", {}, [1.0])], [Arrival("r", "x", 1, 1.0, 0.0, 1.0, holder="zz")], 1), "not one of"),
    ],
)
def test_bad_worlds_are_refused(world: World, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replay(world, TANDEM)


def test_empty_world() -> None:
    result = replay(World([], [], 3), TANDEM)
    assert result.within_due == 1.0 and result.breaches == 0 and result.utilisation_sd == 0.0


def test_an_item_longer_than_the_plan_horizon_is_still_placed() -> None:
    world = World([person("ana", {"pay": 2}, [1.0] * 20)], [Arrival("r1", "pay", 1, 12.0, 0.0, 20.0)], steps=20,
                  plan_hours=4.0)
    assert replay(world, TANDEM).done_at == [12.0]
