"""Intake fields and constants shared by several services of the demo catalogue."""

from __future__ import annotations

from decimal import Decimal

from tandem.catalogue.models import Weekday
from tandem.demo.services import BRANCHES, DemoCutOff, f
from tandem.engines.intake_rules import Rules

WORKER = f("worker", "Worker's full name", help="As on their payslip.", sample="worker")
WORKER_ID = f("worker_id", "Worker number", sample="worker_id",
              help="The W-number on the worker's record, e.g. W104233.",
              rules=Rules(pattern=r"W\d{6}", pattern_message="W and six digits, like W104233."))
CLIENT = f("client", "Client", sample="client",
           help="The client the worker is placed with, as on the booking.")
# A pay week ends on a Sunday: this week's (at most six days ahead) or one of the last quarter's.
WEEK_ENDING = f("week_ending", "Week ending", "date", sample="week_ending",
                help="The Sunday that ends the pay week.",
                rules=Rules(weekday=Weekday.SUNDAY, days_past=91, days_ahead=6))
PAY_CUTOFF = DemoCutOff(1, "12:00", "Timesheets by Tuesday 12:00 for Friday's payroll", run_weekday=4,
                        run_name="payroll")

CANDIDATE = f("candidate", "Candidate's full name", help="As on their passport or ID.",
              sample="worker")
START_DATE = f("start_date", "Planned start date", "date", help="The first shift, if booked.",
               sample="future:2-21", rules=Rules(days_past=0, days_ahead=365))
MONEY = Rules(min_value=Decimal("0.01"))  # an amount of money asked about is never nothing or less
CONSULTANTS = {**BRANCHES, "accounts": 0.1}
