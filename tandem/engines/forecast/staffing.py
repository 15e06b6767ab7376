"""How many people a queue needs to keep its agreement: the Erlang C model.

Pure (no Django). Requests arrive at ``rate`` an hour of working time; each takes ``effort``
hours of hands-on work on average; ``people`` work the queue. Erlang C (M/M/c) gives the
chance a request waits at all, and the share answered within ``target`` hours:

    service level = 1 − C(c, a) · exp(−(c − a) · target / effort),   a = rate · effort

The people needed are the fewest whose service level reaches the agreement's share, and who are
not all busy (``a < c``). Written here rather than taken from a package: pyworkforce has the
same formula but brings pandas and OR-Tools with it; the formula is checked against a
discrete-event simulation (ciw, a test dependency) in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: No queue is planned above this many people: a bound for the search, far above any team.
MAX_PEOPLE = 10_000


@dataclass(frozen=True)
class Staffing:
    people: int  # the fewest people meeting the target
    load: float  # offered load a = rate × effort: the people kept busy on average
    service_level: float  # share within the target with that many people
    occupancy: float  # a / people


def erlang_c(people: int, load: float) -> float:
    """The chance an arriving request waits (all ``people`` busy), by the Erlang B recursion
    (stable for hundreds of people): B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))."""
    if load <= 0:
        return 0.0
    if people <= load:
        return 1.0
    b = 1.0
    for k in range(1, people + 1):
        b = load * b / (k + load * b)
    return people * b / (people - load * (1 - b))


def service_level(people: int, rate: float, effort: float, target: float) -> float:
    """Share of requests whose wait before work starts is at most ``target`` hours."""
    load = rate * effort
    if load <= 0:
        return 1.0
    if people <= load:
        return 0.0
    return 1.0 - erlang_c(people, load) * math.exp(-(people - load) * target / effort)


def people_needed(rate: float, effort: float, target: float, share: float) -> Staffing:
    """The fewest people for ``share`` (0–1) of requests to start within ``target`` hours."""
    if not 0 < share < 1:
        raise ValueError(f"share: between 0 and 1, not {share!r}")
    if rate < 0 or effort < 0 or target < 0:
        raise ValueError("rate, effort and target cannot be negative")
    load = rate * effort
    if load == 0:
        return Staffing(people=0, load=0.0, service_level=1.0, occupancy=0.0)
    people = max(1, math.floor(load) + 1)
    while people < MAX_PEOPLE:
        level = service_level(people, rate, effort, target)
        if level >= share:
            return Staffing(people=people, load=load, service_level=level, occupancy=load / people)
        people += 1
    raise ValueError(f"more than {MAX_PEOPLE} people would be needed: check the rate and effort")
