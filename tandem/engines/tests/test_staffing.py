"""Erlang C against textbook values and a discrete-event simulation of the same queue (ciw)."""

from __future__ import annotations

import math

import pytest

from tandem.engines.forecast.staffing import erlang_c, people_needed, service_level


def test_erlang_c_matches_worked_values() -> None:
    # M/M/2 at half load: P(wait) = a^c/c! · c/(c−a) / (Σ_{k<c} a^k/k! + a^c/c! · c/(c−a)) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # M/M/1: P(wait) = ρ.
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    # The closed form summed directly, for a larger team.
    c, a = 12, 9.5
    top = a**c / math.factorial(c) * c / (c - a)
    assert erlang_c(c, a) == pytest.approx(top / (sum(a**k / math.factorial(k) for k in range(c)) + top))
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(3, 0.0) == 0.0


def test_people_needed_is_the_fewest_meeting_the_share() -> None:
    # 30 requests an hour of 0.25 h each (7.5 people busy on average); 80 % to start within 6 minutes.
    staffing = people_needed(30, 0.25, 0.1, 0.8)
    assert staffing.people > 7.5
    assert service_level(staffing.people, 30, 0.25, 0.1) >= 0.8 > service_level(staffing.people - 1, 30, 0.25, 0.1)
    assert staffing.occupancy == pytest.approx(7.5 / staffing.people)
    # A loose target (a working day to start) needs little more than the load itself.
    assert people_needed(30, 0.25, 7.5, 0.9).people == 8
    assert people_needed(0, 0.25, 1, 0.9).people == 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        people_needed(1, 1, 1, 1.5)
    with pytest.raises(ValueError, match="negative"):
        people_needed(-1, 1, 1, 0.9)


def test_the_formula_agrees_with_a_simulation_of_the_queue() -> None:
    ciw = pytest.importorskip("ciw")
    rate, effort, people, target = 20.0, 0.2, 5, 0.05  # a = 4 on 5 people: a busy queue
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rate)],
        service_distributions=[ciw.dists.Exponential(rate=1 / effort)],
        number_of_servers=[people],
    )
    ciw.seed(3)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(4000)
    waits = [r.waiting_time for r in sim.get_all_records() if r.arrival_date > 200]
    simulated = sum(w <= target for w in waits) / len(waits)
    assert abs(simulated - service_level(people, rate, effort, target)) < 0.02
    assert abs(sum(w > 0 for w in waits) / len(waits) - erlang_c(people, rate * effort)) < 0.02
