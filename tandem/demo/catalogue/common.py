"""Intake fields and constants shared by several services of the demo catalogue."""

from __future__ import annotations

from tandem.demo.services import BRANCHES, DemoCutOff, f

WORKER = f("worker", "Worker's full name", help="As on their payslip.", sample="worker")
WORKER_ID = f("worker_id", "Worker number", sample="worker_id",
              help="The W-number on the worker's record, e.g. W104233.")
CLIENT = f("client", "Client", sample="client",
           help="The client the worker is placed with, as on the booking.")
WEEK_ENDING = f("week_ending", "Week ending", "date", sample="week_ending",
                help="The Sunday that ends the pay week.")
PAY_CUTOFF = DemoCutOff(1, "12:00", "Timesheets by Tuesday 12:00 for Friday's payroll")

CANDIDATE = f("candidate", "Candidate's full name", help="As on their passport or ID.",
              sample="worker")
START_DATE = f("start_date", "Planned start date", "date", help="The first shift, if booked.",
               sample="future:2-21")
CONSULTANTS = {**BRANCHES, "accounts": 0.1}
