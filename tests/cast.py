"""A small organisation for tests: two front-office units, two back-office units, and a cast of
people in every role, including outsiders who must see nothing.

    cast = build_cast()
    cast.consultant       # front office (Leeds branch), the usual requester
    cast.colleague        # same branch as the consultant
    cast.other_consultant # another branch (an outsider to the consultant's confidential asks)
    cast.payroll_agent, cast.payroll_agent2, cast.payroll_lead   # back office: Payroll
    cast.hr_agent         # back office: HR (an outsider to Payroll's work)
    cast.executive, cast.admin
    cast.timesheet        # a Payroll service with a required number, a date and a choice
    cast.grievance        # a confidential HR service

Every person's password is "pw"; usernames are the attribute names.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from tandem.catalogue.models import IntakeField, ProcedureStep, Service
from tandem.org.models import Person, Role, Side, Unit

PASSWORD = "pw"


@dataclass
class Cast:
    leeds: Unit
    york: Unit
    payroll: Unit
    hr: Unit
    consultant: Person
    colleague: Person
    other_consultant: Person
    payroll_agent: Person
    payroll_agent2: Person
    payroll_lead: Person
    hr_agent: Person
    executive: Person
    admin: Person
    timesheet: Service
    grievance: Service


def make_person(username: str, unit: Unit, role: str = Role.MEMBER, first: str = "", last: str = "") -> Person:
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.test",
        first_name=first or username.replace("_", " ").title(), last_name=last,
    )
    return Person.objects.create(user=user, unit=unit, role=role)


def build_cast() -> Cast:
    leeds = Unit.objects.create(name="Leeds branch", slug="leeds", side=Side.FRONT)
    york = Unit.objects.create(name="York branch", slug="york", side=Side.FRONT)
    payroll = Unit.objects.create(name="Payroll", slug="payroll", side=Side.BACK)
    hr = Unit.objects.create(name="HR", slug="hr", side=Side.BACK)
    people = {
        "consultant": make_person("consultant", leeds),
        "colleague": make_person("colleague", leeds),
        "other_consultant": make_person("other_consultant", york),
        "payroll_agent": make_person("payroll_agent", payroll),
        "payroll_agent2": make_person("payroll_agent2", payroll),
        "payroll_lead": make_person("payroll_lead", payroll, Role.LEAD),
        "hr_agent": make_person("hr_agent", hr),
        "executive": make_person("executive", leeds, Role.EXECUTIVE),
        "admin": make_person("admin", hr, Role.ADMIN),
    }
    timesheet = Service.objects.create(
        unit=payroll, name="Timesheet correction", slug="timesheet-correction",
        summary="Correct hours on a submitted timesheet before payroll runs.",
        scope_includes="Corrections to submitted timesheets for the current and previous pay period.",
        scope_excludes="Rate changes (ask for a pay rate change).",
        owner=people["payroll_lead"], turnaround_days=2,
    )
    IntakeField.objects.create(service=timesheet, position=1, key="worker", label="Worker name", kind="text")
    IntakeField.objects.create(service=timesheet, position=2, key="hours", label="Corrected hours", kind="number")
    IntakeField.objects.create(service=timesheet, position=3, key="week_ending", label="Week ending", kind="date")
    IntakeField.objects.create(
        service=timesheet, position=4, key="reason", label="Reason", kind="choice",
        choices=["Missed shift", "Overtime", "Wrong client"],
    )
    IntakeField.objects.create(
        service=timesheet, position=5, key="notes", label="Notes", kind="long_text", required=False,
    )
    ProcedureStep.objects.create(service=timesheet, position=1, text="Check the client's approval.")
    ProcedureStep.objects.create(service=timesheet, position=2, text="Correct the hours in the payroll system.")
    grievance = Service.objects.create(
        unit=hr, name="Grievance", slug="grievance", summary="Raise a grievance, in confidence.",
        scope_includes="Grievances about work.", owner=people["hr_agent"], turnaround_days=5,
        confidential=True, external_allowed=False,
    )
    IntakeField.objects.create(service=grievance, position=1, key="details", label="Details", kind="long_text")
    return Cast(leeds=leeds, york=york, payroll=payroll, hr=hr, timesheet=timesheet, grievance=grievance, **people)


TIMESHEET_OK = {"worker": "Ann Smith", "hours": "37.5", "week_ending": "2026-11-20", "reason": "Overtime"}
