"""A seeded simulation of a back office's history: who asked for what, when, and every event
of every service request, as plain numpy tables (see ``docs/demo.md`` for the model).

    from tandem.engines.history import Params, simulate
    history = simulate(organisation, Params(end=now, weeks=26, seed=2026))

Same organisation, same parameters (seed, weeks, end) → the same history, bit for bit.
"""

from tandem.engines.history.model import (
    KINDS,
    NONE,
    OPEN_STATUSES,
    STATUSES,
    TRANSITIONS,
    BundleSpec,
    Cases,
    Events,
    History,
    Organisation,
    Params,
    PersonSpec,
    Requests,
    ServiceSpec,
    UnitSpec,
    pattern_from_clock,
)
from tandem.engines.history.simulate import simulate

__all__ = [
    "KINDS",
    "NONE",
    "OPEN_STATUSES",
    "STATUSES",
    "TRANSITIONS",
    "BundleSpec",
    "Cases",
    "Events",
    "History",
    "Organisation",
    "Params",
    "PersonSpec",
    "Requests",
    "ServiceSpec",
    "UnitSpec",
    "pattern_from_clock",
    "simulate",
]
