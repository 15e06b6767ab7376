"""The shape of a demo service: its catalogue entry, and how it behaves in the simulation."""

from __future__ import annotations

from dataclasses import dataclass, field

from tandem.engines.intake_rules import Rules

NO_RULES = Rules()


@dataclass(frozen=True)
class DemoField:
    key: str
    label: str
    kind: str = "text"  # text, long_text, number, date, choice, file
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()
    # How the demo fills it in (tandem.demo.samples): e.g. "worker", "client", "money:20-900".
    sample: str = ""
    rules: Rules = NO_RULES  # what the intake form accepts (tandem.engines.intake_rules)


@dataclass(frozen=True)
class DemoCutOff:
    weekday: int  # Monday = 0
    time: str  # "HH:MM"
    description: str
    run_weekday: int | None = None  # the run it feeds; None: the same day
    run_name: str = ""


@dataclass(frozen=True)
class Sim:
    """How the service behaves in the history (see docs/demo.md, "The simulation")."""

    rate: float  # standalone requests per working day, before seasonality
    requested_by: dict[str, float]  # requesting unit slug → weight
    touch: float  # median hands-on minutes
    sigma: float = 0.6
    external: float = 0.0  # share on the external (customer) channel
    ask: float = 0.18  # asks the requester at least once
    third_party: float = 0.0
    third_party_days: float = 2.0
    month_end: float = 1.0
    pay_week: float = 1.0  # × in the seven days before each monthly pay date
    onboarding: float = 0.0  # extra share of the rate while a new client is onboarded
    drift: float = 1.0
    hold: tuple[float, float] = (0.0, 0.0)  # sign-off wait, median working days: first → last day
    reopen: float = 0.04
    accept: float = 0.6


@dataclass(frozen=True)
class DemoService:
    slug: str
    name: str
    unit: str
    owner: str  # username of the accountable person (a member of the unit)
    summary: str
    includes: str
    excludes: str
    turnaround: int  # working days
    fields: tuple[DemoField, ...]
    steps: tuple[str, ...]
    sim: Sim
    title: str  # e.g. "Pay query · {worker}", filled from the request's sample values
    questions: tuple[tuple[str, str], ...]  # (question to the requester, their answer)
    resolutions: tuple[str, ...]
    parties: tuple[str, ...] = ()  # third parties the unit waits on
    teams: tuple[str, ...] = ()  # other back-office units (slugs) some of those waits are on
    skills: dict[str, int] = field(default_factory=dict)  # required skill → minimum level
    cutoffs: tuple[DemoCutOff, ...] = ()
    run_field: str = ""  # the date field naming the run a request asks for
    confidential: bool = False
    reviewed_months_ago: int = 3


BRANCHES = {"leeds": 0.38, "manchester": 0.34, "sheffield": 0.28}
FRONT_DESK = {**BRANCHES, "reception": 0.25}
EVERYONE = {
    "leeds": 8,
    "manchester": 7,
    "sheffield": 6,
    "reception": 3,
    "accounts": 4,
    "leadership": 2,
    "payroll": 6,
    "timesheets": 5,
    "invoicing": 4,
    "compliance": 5,
    "hr": 4,
    "it": 5,
}


def everyone_but(unit: str) -> dict[str, float]:
    return {k: float(v) for k, v in EVERYONE.items() if k != unit}


def f(
    key: str,
    label: str,
    kind: str = "text",
    *,
    required: bool = True,
    help: str = "",
    choices: tuple[str, ...] = (),
    sample: str = "",
    rules: Rules = NO_RULES,
) -> DemoField:
    return DemoField(key, label, kind, required, help, choices, sample, rules)
