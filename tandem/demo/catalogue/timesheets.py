"""The demo catalogue: Timesheets."""

from __future__ import annotations

from decimal import Decimal

from tandem.demo.catalogue.common import CLIENT, PAY_CUTOFF, WEEK_ENDING, WORKER
from tandem.demo.services import BRANCHES, FRONT_DESK, DemoService, Sim, f
from tandem.engines.intake_rules import Rules

TIMESHEETS: tuple[DemoService, ...] = (
    DemoService(
        slug="timesheet-correction", name="Timesheet correction", unit="timesheets",
        owner="adam.shaw",
        summary="Correct hours on a submitted timesheet before payroll runs.",
        includes="Corrections to submitted timesheets for the current and previous pay week, "
                 "with the client approver's agreement.",
        excludes="Rate changes (ask Payroll for a pay rate change); weeks already paid (ask a "
                 "pay query).",
        turnaround=1,
        fields=(
            WORKER, CLIENT, WEEK_ENDING,
            # A week has 168 hours; more than 100 worked in one is a typo, not overtime.
            f("hours", "Correct total hours", "number", sample="hours:8-55",
              rules=Rules(min_value=Decimal(0), max_value=Decimal(100))),
            f("reason", "Reason", "choice",
              choices=("Missed shift", "Overtime", "Wrong client", "Break not deducted",
                       "Wrong week")),
            f("notes", "Notes", "long_text", required=False,
              sample="long:Client approver confirmed by phone.|Worker stayed on for the late "
                     "shift."),
        ),
        steps=("Find the timesheet in the portal.",
               "Get or check the client approver's agreement.",
               "Correct the hours and re-approve.", "Resolve before the Tuesday 12:00 cut-off."),
        sim=Sim(rate=16.8, requested_by=FRONT_DESK, touch=15, external=0.35, ask=0.25),
        title="Timesheet correction · {worker}",
        questions=(("Who at the client approved the extra hours?",
                    "The shift manager, by email to me."),
                   ("Which day was the missed shift?", "Thursday, 06:00 to 14:00.")),
        resolutions=("Hours corrected and re-approved by the client; in this week's pay.",
                     "Corrected: 4 hours moved to the right week."),
        skills={"timesheet-portal": 2}, cutoffs=(PAY_CUTOFF,), run_field="week_ending", reviewed_months_ago=1,
    ),
    DemoService(
        slug="missing-timesheet-chase", name="Missing timesheet chase", unit="timesheets",
        owner="fatima.ali",
        summary="Chase a client for a timesheet that is not approved, so the worker is paid on "
                "Friday.",
        includes="Chasing the client approver by email and phone; escalating to the account "
                 "manager.",
        excludes="Disputes about the hours themselves (ask a timesheet correction).",
        turnaround=2,
        fields=(
            WORKER, CLIENT, WEEK_ENDING,
            f("approver", "Client approver", required=False, help="Name or email, if you know it.",
              sample="approver"),
        ),
        steps=("Check the portal for the timesheet's state.", "Email and call the approver.",
               "Escalate to the account manager after two attempts.", "Resolve when approved."),
        sim=Sim(rate=12.6, requested_by=FRONT_DESK, touch=20, external=0.3, ask=0.1,
                third_party=0.5, third_party_days=0.8),
        title="Missing timesheet · {worker} at {client}",
        questions=(("The worker has two assignments; which one?", "The one at {client}."),),
        resolutions=("Approved by the client this morning; in Friday's pay.",
                     "Worker had not submitted it; submitted and approved now."),
        parties=("Client timesheet approver", "Client site manager"),
        skills={"client-liaison": 2}, cutoffs=(PAY_CUTOFF,), run_field="week_ending", reviewed_months_ago=2,
    ),
    DemoService(
        slug="timesheet-approver-change", name="Timesheet approver change", unit="timesheets",
        owner="nicola.brooke",
        summary="Change who approves a client's timesheets in the portal.",
        includes="Adding, replacing or removing approvers for a client site.",
        excludes="New clients (ask Invoicing for a new client billing set-up first).",
        turnaround=2,
        fields=(
            CLIENT,
            f("new_approver", "New approver's name and email", sample="approver"),
            f("site", "Site or department", required=False,
              sample="pick:Main site|Warehouse|Nights|Day unit"),
        ),
        steps=("Check the request comes from the client's contact.",
               "Set up the approver in the portal.", "Send them the portal guide."),
        sim=Sim(rate=2.1, requested_by={**BRANCHES, "accounts": 0.5}, touch=15, ask=0.15,
                third_party=0.1, third_party_days=1, onboarding=1.0),
        title="Approver change · {client}",
        questions=(("Is the previous approver to be removed?", "Yes, they have left the client."),),
        resolutions=("New approver set up and sent the guide.",),
        parties=("Client HR",), reviewed_months_ago=26,
    ),
)
