"""The demo catalogue: HR (for the agency's own staff)."""

from __future__ import annotations

from tandem.demo.services import DemoService, Sim, everyone_but, f
from tandem.engines.intake_rules import Rules

HR: tuple[DemoService, ...] = (
    DemoService(
        slug="grievance", name="Grievance", unit="hr", owner="catherine.moss",
        summary="Raise a grievance about work, in confidence.",
        includes="Formal grievances from staff and workers: acknowledgement, meeting, "
                 "investigation, outcome.",
        excludes="Disputes about pay (ask Payroll); whistleblowing (use the whistleblowing line).",
        turnaround=10, confidential=True,
        fields=(
            f("details", "What happened", "long_text", help="Dates, places, who was there.",
              sample="long:Repeated comments from a shift lead at {client}.|I was removed from "
                     "the rota without explanation.|Unfair allocation of shifts over three "
                     "months."),
            f("outcome", "What would put it right", "long_text", required=False,
              sample="long:A meeting and an apology.|Move to another site."),
            f("contact", "Best way to contact you", "choice",
              choices=("Email", "Phone", "In person")),
        ),
        steps=("Acknowledge within two working days.", "Invite to a meeting; offer a companion.",
               "Investigate.", "Write the outcome with the right of appeal; resolve."),
        sim=Sim(rate=0.3, requested_by=everyone_but("hr"), touch=240, ask=0.4, reopen=0.08,
                accept=0.4),
        title="Grievance",
        questions=(("Can you give the dates this happened?",
                    "The 3rd and the 10th, both night shifts."),),
        resolutions=("Outcome letter sent; grievance upheld in part.",
                     "Outcome letter sent; not upheld, with the right of appeal."),
        skills={"employee-relations": 3}, reviewed_months_ago=8,
    ),
    DemoService(
        slug="contract-change", name="Contract change", unit="hr", owner="yasmin.patel",
        summary="Change an employee's hours, role, pay or place of work.",
        includes="Contract variations for the agency's own staff, the letter, and telling "
                 "Payroll.",
        excludes="Temporary workers' assignments (their branch handles those).",
        turnaround=5,
        fields=(
            f("employee", "Employee", sample="staff"),
            f("change", "Change", "choice",
              choices=("Hours", "Role", "Salary", "Location", "Flexible working")),
            f("effective_from", "Effective from", "date", sample="future:5-40",
              rules=Rules(days_past=92, days_ahead=365)),
            f("details", "Details", "long_text",
              sample="long:From 37.5 to 30 hours, Monday to Thursday.|Promotion to senior "
                     "consultant with the new salary."),
        ),
        steps=("Check the manager's approval.", "Write the variation letter.",
               "Tell Payroll; resolve."),
        sim=Sim(rate=2.5, requested_by=everyone_but("hr"), touch=45, ask=0.25),
        title="Contract change · {staff}",
        questions=(("Has the employee agreed the new hours?", "Yes, signed request attached."),),
        resolutions=("Variation letter sent; Payroll told.",),
        skills={"employment-law": 2}, reviewed_months_ago=25,
    ),
    DemoService(
        slug="absence-record", name="Absence record", unit="hr", owner="neil.sutcliffe",
        summary="Record or correct a staff member's sickness or other absence.",
        includes="Sickness, compassionate leave, jury service; return-to-work forms.",
        excludes="Annual leave (book it in the HR system).",
        turnaround=2,
        fields=(
            f("employee", "Employee", sample="staff"),
            f("kind", "Kind of absence", "choice",
              choices=("Sickness", "Compassionate", "Jury service", "Other")),
            f("first_day", "First day", "date", sample="past:12"),
            f("last_day", "Last day", "date", required=False, sample="past:2"),
            f("fit_note", "Fit note", "file", required=False, sample="file:Fit notes"),
        ),
        steps=("Record the absence.", "Check triggers (Bradford factor).",
               "Send the return-to-work form."),
        sim=Sim(rate=4.2, requested_by=everyone_but("hr"), touch=10, ask=0.12),
        title="Absence · {staff}",
        questions=(("Is there a fit note for the second week?", "Attached."),),
        resolutions=("Recorded; return-to-work form sent to the manager.",),
        skills={"hr-records": 2}, reviewed_months_ago=4,
    ),
    DemoService(
        slug="employment-reference-letter", name="Employment reference letter", unit="hr",
        owner="gemma.lord",
        summary="A factual reference or employment letter for a current or former employee.",
        includes="Factual references (dates, role), mortgage and tenancy letters.",
        excludes="Character references; references for temporary workers (Compliance keeps "
                 "those).",
        turnaround=3,
        fields=(
            f("employee", "Employee", sample="staff"),
            f("purpose", "Purpose", "choice",
              choices=("New employer", "Mortgage", "Tenancy", "Visa", "Other")),
            f("send_to", "Send to (email)", sample="client_email"),
        ),
        steps=("Check the employee's consent.", "Write the letter from the template.",
               "Send; resolve."),
        sim=Sim(rate=2.1, requested_by=everyone_but("hr"), touch=30, ask=0.15),
        title="Reference letter · {staff}",
        questions=(("We need the employee's written consent.", "Consent email attached."),),
        resolutions=("Letter sent.",),
        skills={"hr-records": 2}, reviewed_months_ago=16,
    ),
)
