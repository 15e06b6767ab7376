"""Productivity, fairly: a unit's weeks beside demand and absences; a person's only to them and
their lead; nobody ranked."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client

from tandem.allocation.productivity import person_productivity, unit_productivity
from tandem.insights.actions import rebuild_all
from tandem.org.models import Absence
from tandem.work import actions
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)

WEDNESDAY = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def test_unit_and_personal_weeks_with_their_explanations(cast: Cast) -> None:
    with time_machine.travel(WEDNESDAY, tick=False):
        pk = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk
        actions.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
        actions.start_request(cast.payroll_agent, pk)
        actions.resolve_request(cast.payroll_agent, pk, "Done.")
        Absence.objects.create(person=cast.payroll_agent2, starts_on=date(2026, 11, 16), ends_on=date(2026, 11, 22))
        rebuild_all()
        week = unit_productivity(cast.payroll)["weeks"][-1]
        assert (week["week"], week["arrivals"], week["resolved"], week["absence_days"]) == (
            date(2026, 11, 16), 1, 1, 5)  # Monday to Friday away; the weekend is not a working day
        assert week["capacity_hours"] > 0 and week["rework_rate"] == 0
        assert [w["resolved"] for w in person_productivity(cast.payroll_agent)][-1] == 1

        client = Client()
        client.login(username="payroll_agent", password=PASSWORD)
        page = client.get("/productivity/").content.decode()
        assert 'data-testid="unit-weeks"' in page and cast.timesheet.name in page
        assert 'data-testid="person-weeks"' in client.get(f"/productivity/?person={cast.payroll_agent.pk}").content.decode()
        assert client.get(f"/productivity/?person={cast.payroll_agent2.pk}").status_code == 403  # a colleague's: no
        client.login(username="payroll_lead", password=PASSWORD)
        assert client.get(f"/productivity/?person={cast.payroll_agent2.pk}").status_code == 200
        client.login(username="hr_agent", password=PASSWORD)
        assert client.get("/productivity/?unit=payroll").status_code == 403
        assert client.get("/productivity/?unit=nowhere").status_code == 422
