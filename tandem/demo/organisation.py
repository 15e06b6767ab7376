"""The demo organisation as plain data, and its translation into the history engine's terms.

    org = demo_organisation(today, weeks=26, seed=2026)
    org.people[0].username        # "sarah.whitfield"
    engine_org = org.engine()     # tandem.engines.history.Organisation

Nothing here touches the database: ``tandem.demo.load`` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tandem.demo.catalogue import SERVICES
from tandem.demo.people import (
    ADMIN,
    BANK_HOLIDAYS,
    DUTIES,
    PATTERNS,
    PEOPLE,
    SKILLS,
    UNIT_SHARE,
    UNITS,
    DemoAbsence,
    DemoPerson,
    DemoUnit,
    absences,
)
from tandem.demo.services import DemoService
from tandem.demo.texts import CASE_KINDS, CaseKind
from tandem.engines.history import (
    BundleSpec,
    Organisation,
    PersonSpec,
    ServiceSpec,
    UnitSpec,
    pattern_from_clock,
)
from tandem.engines.history.simulate import LEAD_SHARE

FULL_TIME_HOURS = 37.5


@dataclass(frozen=True)
class DemoOrganisation:
    units: tuple[DemoUnit, ...]
    skills: tuple[tuple[str, str], ...]
    people: tuple[DemoPerson, ...]  # the engine's person index is the position here
    admin: DemoPerson
    services: tuple[DemoService, ...]
    case_kinds: tuple[CaseKind, ...]
    absences: tuple[DemoAbsence, ...]
    closed_days: frozenset[date]

    def unit_index(self, slug: str) -> int:
        return next(i for i, u in enumerate(self.units) if u.slug == slug)

    def service_index(self, slug: str) -> int:
        return next(i for i, s in enumerate(self.services) if s.slug == slug)

    def person(self, username: str) -> DemoPerson:
        return next(p for p in (*self.people, self.admin) if p.username == username)

    def request_share(self, p: DemoPerson) -> float:
        """The share of the person's working time the simulation gives to requests, as the
        product's ``Person.request_share`` states it: their share, half of it for a lead. (The
        weekly routine duties are not in it: nobody works requests during them, so requests
        are rarely in progress then.) Front office: all of it."""
        if p.role not in ("member", "lead") or p.unit not in UNIT_SHARE:
            return 1.0
        share = p.share if p.share is not None else UNIT_SHARE[p.unit]
        return round(share * (LEAD_SHARE if p.role == "lead" else 1.0), 3)

    def engine(self) -> Organisation:
        """The organisation as the history engine sees it (indices instead of slugs)."""
        by_person: dict[str, list[tuple[date, date]]] = {}
        for absence in self.absences:
            by_person.setdefault(absence.username, []).append((absence.starts_on, absence.ends_on))
        people = tuple(
            PersonSpec(
                unit=self.unit_index(p.unit),
                pattern=pattern_from_clock(PATTERNS[p.pattern]),
                role=p.role,
                absences=tuple(by_person.get(p.username, ())),
                skills=dict(p.skills),
                share=p.share if p.share is not None else UNIT_SHARE.get(p.unit, 0.6),
                duties=tuple(
                    (w, _minutes(a), _minutes(b)) for w, a, b, _ in DUTIES.get(p.unit, ())
                ),
                propensity=_propensity(p),
            )
            for p in self.people
        )
        services = tuple(
            ServiceSpec(
                unit=self.unit_index(s.unit),
                turnaround_days=s.turnaround,
                daily_rate=s.sim.rate,
                requested_by={self.unit_index(u): w for u, w in s.sim.requested_by.items()},
                touch_minutes=s.sim.touch,
                touch_sigma=s.sim.sigma,
                external_share=s.sim.external,
                required_skills=dict(s.skills),
                ask_prob=s.sim.ask,
                third_party_prob=s.sim.third_party,
                third_party_days=s.sim.third_party_days,
                month_end=s.sim.month_end,
                pay_week=s.sim.pay_week,
                onboarding=s.sim.onboarding,
                cutoff=_first_cutoff(s),
                drift=s.sim.drift,
                hold_days=s.sim.hold,
                reopen_prob=s.sim.reopen,
                accept_prob=s.sim.accept,
            )
            for s in self.services
        )
        bundles = tuple(
            BundleSpec(
                services=tuple((self.service_index(slug), p) for slug, p in kind.services),
                daily_rate=kind.rate,
                owner_units={self.unit_index(u): w for u, w in kind.owners.items()},
                external_share=kind.external,
            )
            for kind in self.case_kinds
        )
        return Organisation(
            units=tuple(UnitSpec(u.slug, u.side) for u in self.units),
            people=people,
            services=services,
            bundles=bundles,
            closed_days=self.closed_days,
        )


def _minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


def _propensity(person: DemoPerson) -> float:
    hours = (
        sum(
            _minutes(b) - _minutes(a)
            for intervals in PATTERNS[person.pattern].values()
            for a, b in intervals
        )
        / 60
    )
    role = {"lead": 0.7, "executive": 0.3}.get(person.role, 1.0)
    return round(role * hours / FULL_TIME_HOURS, 3)


def _first_cutoff(service: DemoService) -> tuple[int, int] | None:
    """The cut-off that shapes arrivals: a weekly one (daily ones do not move the week)."""
    if len(service.cutoffs) != 1:
        return None
    cutoff = service.cutoffs[0]
    return cutoff.weekday, _minutes(cutoff.time)


def demo_organisation(today: date, weeks: int = 26, seed: int = 2026) -> DemoOrganisation:
    return DemoOrganisation(
        units=UNITS,
        skills=SKILLS,
        people=PEOPLE,
        admin=ADMIN,
        services=SERVICES,
        case_kinds=CASE_KINDS,
        absences=tuple(absences(today, weeks, seed)),
        closed_days=BANK_HOLIDAYS,
    )
