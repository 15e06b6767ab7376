"""Which run of a service a request goes in (the engine ``tandem.engines.agreements.cutoffs``
on a service's cut-offs), in the words both sides read: "in time for Fri 18 Dec's payroll".

The submit page asks it for "if you send it now", the submission stores its answer on the
request, and a history loaded in bulk is placed the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tandem.catalogue.models import CutOff, Service
from tandem.engines.agreements import cutoffs as engine


@dataclass(frozen=True)
class RunPlace:
    on: date  # the run the request is in
    name: str  # "payroll"
    closes: datetime  # when that run's intake closes
    late_for: str  # the run it asked for and missed, in words; blank when in time

    @property
    def run_words(self) -> str:
        return run_words(self.on, self.name)


def run_words(on: date, name: str) -> str:
    """"Fri 18 Dec's payroll"."""
    return f"{on:%a} {on.day} {on:%b}'s {name or 'run'}"


def asked_on(service: Service, intake: dict[str, Any]) -> date | None:
    """The date the request names its run by (the service's ``run_field``), if it gave one."""
    if not service.run_field:
        return None
    value = intake.get(service.run_field)
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None  # stored before the field was a date: it asks for no particular run


def cutoffs_for(service: Service, organisation_id: int | None = None) -> list[CutOff]:
    """The cut-offs a request of ``service`` from ``organisation_id`` follows: the client's own
    for this service when it has any, else the service's (those for no client in particular)."""
    rows = list(service.cutoffs.filter(organisation__isnull=True))
    if organisation_id is None:
        return rows
    own = list(service.cutoffs.filter(organisation_id=organisation_id))
    return own or rows


def place(
    service: Service, at: datetime, intake: dict[str, Any], rows: Sequence[CutOff] | None = None
) -> RunPlace | None:
    """The run a request of ``service`` submitted at ``at`` with ``intake`` goes in; ``None``
    when the service has no cut-offs. ``rows``: the cut-offs it follows (``cutoffs_for``), when
    already loaded; by default the service's own."""
    rows = cutoffs_for(service) if rows is None else list(rows)
    zone = ZoneInfo(service.unit.time_zone)
    placed = engine.place(at, [c.as_spec() for c in rows], zone, asked_on(service, intake))
    if placed is None:
        return None
    late_for = ""
    if placed.late and placed.asked is not None:
        missed = placed.asked
        closed = missed.closes.astimezone(zone)
        late_for = (
            f"{run_words(missed.on, rows[missed.index].run_label)} "
            f"(cut-off {closed:%a} {closed.day} {closed:%b}, {closed:%H:%M})"
        )
    return RunPlace(
        on=placed.run.on, name=rows[placed.run.index].run_label, closes=placed.run.closes, late_for=late_for[:200]
    )
