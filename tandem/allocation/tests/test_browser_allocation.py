"""The lead's pages in a real Chromium under the content security policy: capacity, then a plan
proposed and accepted with the buttons."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tandem.allocation.models import PlanLine
from tandem.catalogue.models import ServiceSkill
from tandem.org.models import PersonSkill, Skill
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, build_cast
from tests.test_browser_security import sign_in, watch


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lead_sees_capacity_then_proposes_and_accepts_a_plan(live_server, page: Page) -> None:
    cast = build_cast()
    payroll = Skill.objects.create(name="Payroll", slug="payroll")
    ServiceSkill.objects.create(service=cast.timesheet, skill=payroll, min_level=2)
    PersonSkill.objects.create(person=cast.payroll_agent, skill=payroll, level=3)
    ids = [actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk for _ in range(3)]
    violations = watch(page)
    sign_in(page, live_server.url, "payroll_lead")
    page.goto(live_server.url + "/manage/capacity/")
    expect(page.get_by_role("heading", name="Capacity of Payroll")).to_be_visible()
    expect(page.get_by_role("heading", name="Skills matrix")).to_be_visible()
    page.get_by_role("link", name="Plan", exact=True).click()
    page.get_by_role("button", name="Propose a plan").click()
    # How many fit depends on the working time left today (1 h each); at least tomorrow's.
    expect(page.get_by_text(re.compile(r"Plan proposed: \d of 3 requests have a proposed holder\."))).to_be_visible()
    placed = PlanLine.objects.filter(person__isnull=False).count()
    if placed:
        page.get_by_role("button", name=f"Accept all ({placed})").click()
        expect(page.get_by_text(f"{placed} assigned, 0 kept with their holder.")).to_be_visible()
    assigned = ServiceRequest.objects.filter(pk__in=ids, assignee__isnull=False)
    assert assigned.count() == placed
    assert set(assigned.values_list("assignee_id", flat=True)) <= {cast.payroll_agent.pk}
    assert violations == []
