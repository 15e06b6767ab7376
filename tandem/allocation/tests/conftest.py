"""A frozen Monday morning in London, and Payroll with skills, for the allocation tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tandem.catalogue.models import ServiceSkill
from tandem.org.models import PersonSkill, Skill
from tests.cast import Cast

LONDON = ZoneInfo("Europe/London")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)


@dataclass
class Skills:
    payroll: Skill
    legal: Skill


@pytest.fixture
def monday() -> Iterator[datetime]:
    with time_machine.travel(MONDAY_10, tick=False):
        yield MONDAY_10


@pytest.fixture
def skills(cast: Cast) -> Skills:
    """Timesheet corrections need payroll at level 2: payroll_agent has 3, payroll_agent2 only 1."""
    payroll = Skill.objects.create(name="Payroll", slug="payroll")
    legal = Skill.objects.create(name="Legal", slug="legal")
    ServiceSkill.objects.create(service=cast.timesheet, skill=payroll, min_level=2)
    PersonSkill.objects.create(person=cast.payroll_agent, skill=payroll, level=3)
    PersonSkill.objects.create(person=cast.payroll_agent2, skill=payroll, level=1)
    return Skills(payroll, legal)
