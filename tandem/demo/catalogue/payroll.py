"""The demo catalogue: Payroll."""

from __future__ import annotations

from decimal import Decimal

from tandem.demo.catalogue.common import CLIENT, MONEY, WEEK_ENDING, WORKER, WORKER_ID
from tandem.demo.services import BRANCHES, FRONT_DESK, DemoCutOff, DemoService, Sim, f
from tandem.engines.intake_rules import Rules

PAYROLL: tuple[DemoService, ...] = (
    DemoService(
        slug="pay-query", name="Pay query", unit="payroll", owner="gary.holt",
        summary="A worker thinks their pay is wrong or missing: we check it and explain or "
                "correct it.",
        includes="Checking a payslip against approved timesheets, rates, deductions, tax code "
                 "and holiday pay; correcting our mistakes in the next pay run; explaining the "
                 "payslip to the worker.",
        excludes="Timesheets the client has not approved (ask Timesheets for a missing "
                 "timesheet chase); changing a pay rate (ask for a pay rate change); tax "
                 "disputes with HMRC.",
        turnaround=2,
        fields=(
            WORKER, WORKER_ID, WEEK_ENDING,
            f("problem", "What looks wrong", "choice",
              choices=("Pay missing", "Too little paid", "Too much paid", "Holiday pay",
                       "Tax or NI", "Pension deduction", "Other")),
            f("amount", "Amount in question (£)", "number", required=False,
              help="Leave empty if you do not know.", sample="money:12-640", rules=MONEY),
            f("details", "What the worker told you", "long_text",
              sample="long:{worker} says the payslip for the week is short.|{worker} was paid "
                     "the old rate for the shifts at {client}.|No pay arrived on Friday; bank "
                     "details were changed last week.|{worker} asks why the tax went up this "
                     "week."),
        ),
        steps=("Open the worker's payslip and the approved timesheet for the week.",
               "Check hours x rate, holiday pay accrual, tax code and deductions.",
               "If we made a mistake, book an adjustment in the next pay run (or an emergency "
               "payment).",
               "Write the explanation in words the worker understands and resolve."),
        sim=Sim(rate=20.3, requested_by=FRONT_DESK, touch=20, sigma=0.7, external=0.35,
                ask=0.22, third_party=0.03, third_party_days=6, month_end=1.3, pay_week=1.2),
        title="Pay query · {worker}",
        questions=(("Which client and which week are the missing hours for?",
                    "It is the week ending Sunday, at {client}; three night shifts."),
                   ("Can you send a copy of the payslip the worker is looking at?",
                    "Attached: payslip photo the worker sent by WhatsApp."),
                   ("Has the worker changed bank details recently?",
                    "Yes, on Monday, through the app.")),
        resolutions=("Underpaid 7.5 hours: adjustment in this Friday's pay run. Worker told.",
                     "Pay was correct: holiday pay was paid separately on the same day. "
                     "Explained to the worker.",
                     "Tax code was emergency code; HMRC sent the new code today and the refund "
                     "follows.",
                     "Paid the old rate by mistake: arrears of the difference in this week's "
                     "pay."),
        teams=("timesheets",),
        parties=("HMRC Employer Helpline",),
        skills={"payroll-system": 2}, reviewed_months_ago=4,
    ),
    DemoService(
        slug="emergency-payment", name="Emergency payment", unit="payroll", owner="julie.ramsden",
        summary="Pay a worker the same day when a payroll mistake left them without money.",
        includes="Same-day Faster Payments for pay that was due and missed because of our error "
                 "or a late approval; an advance recovered from the next pay run.",
        excludes="Loans or advances on pay not yet earned; payments to third parties.",
        turnaround=1,
        fields=(
            WORKER, WORKER_ID,
            f("amount", "Amount to pay (£)", "number", help="Net amount the worker should receive.",
              sample="money:60-750", rules=MONEY),
            f("reason", "Why it cannot wait for Friday", "long_text",
              sample="long:Timesheet approved late by {client}; worker cannot pay rent.|Our "
                     "error: shifts at {client} missed from Friday's run.|Bank rejected "
                     "Friday's payment."),
            f("approved_by", "Approved by (branch manager)", sample="manager"),
        ),
        steps=("Confirm the hours are approved and were missed from the last pay run.",
               "Check the branch manager's approval.",
               "Send a Faster Payment before 15:00 and record it against next week's pay.",
               "Tell the requester the time of payment."),
        sim=Sim(rate=3.5, requested_by=BRANCHES, touch=35, external=0.25, ask=0.15,
                month_end=1.2, pay_week=1.25),
        title="Emergency payment · {worker}",
        questions=(("The branch manager's approval is missing; who approved it?",
                    "Approved by my branch manager this morning, by phone."),),
        resolutions=("Faster Payment sent at 14:20; recovered from Friday's pay.",
                     "Paid by Faster Payment; the worker confirmed receipt."),
        skills={"bacs": 3},
        cutoffs=tuple(DemoCutOff(d, "14:00", "Same-day Faster Payment", run_name="Faster Payment") for d in range(5)),
        reviewed_months_ago=2,
    ),
    DemoService(
        slug="pay-rate-change", name="Pay rate change", unit="payroll", owner="samina.akhtar",
        summary="Change the pay rate of a worker's assignment (and the charge rate we bill).",
        includes="New hourly, overtime or shift rates for a worker on an assignment, from a "
                 "given date.",
        excludes="Rates for a new client (ask Invoicing for a new client billing set-up).",
        turnaround=2,
        fields=(
            WORKER, WORKER_ID, CLIENT,
            # Below £5 an hour is under every minimum wage band; above £150 is a typo.
            f("new_rate", "New hourly pay rate (£)", "number", sample="rate:11.44-24.50",
              rules=Rules(min_value=Decimal(5), max_value=Decimal(150))),
            # Backdated by up to a quarter (the arrears are paid), or set up to a year ahead.
            f("effective_from", "Effective from", "date", sample="past:10",
              rules=Rules(days_past=92, days_ahead=365)),
            f("rate_type", "Rate", "choice",
              choices=("Standard", "Overtime", "Nights", "Weekend", "Bank holiday")),
            f("client_confirmation", "Client's confirmation", "file", required=False,
              sample="file:Rate confirmations"),
        ),
        steps=("Check the client agreed the matching charge rate.",
               "Update the assignment's pay rate.",
               "Update the charge rate with Invoicing's rate card.", "Confirm to the requester."),
        sim=Sim(rate=6.3, requested_by={**BRANCHES, "accounts": 0.4}, touch=20, ask=0.24,
                month_end=1.2, pay_week=1.25),
        title="Pay rate change · {worker} at {client}",
        questions=(("Has the client confirmed the new charge rate in writing?",
                    "Yes, email from the client's HR attached."),
                   ("Is this for all shifts or nights only?", "Nights only, from the date given.")),
        resolutions=("Rate updated from the date given; backdated hours corrected this Friday.",
                     "New rate set on the assignment and the rate card."),
        skills={"payroll-system": 3},
        cutoffs=(DemoCutOff(2, "17:00", "Rate changes by Wednesday 17:00 for this Friday's pay", run_weekday=4,
                            run_name="pay"),),
        reviewed_months_ago=22,
    ),
    DemoService(
        slug="p45-leaver-pay", name="P45 / leaver pay", unit="payroll", owner="kevin.dunn",
        summary="Final pay, holiday pay owed and a P45 for a worker who has left.",
        includes="Final pay run, accrued holiday pay, the P45 sent to the worker.",
        excludes="References (ask HR) and disputes about the end of an assignment.",
        turnaround=5,
        fields=(
            WORKER, WORKER_ID,
            f("last_day", "Last day worked", "date", sample="past:14",
              rules=Rules(days_past=365, days_ahead=0)),
            f("reason", "Reason for leaving", "choice",
              choices=("Assignment ended", "Worker resigned", "Dismissed",
                       "Moved to permanent role")),
            f("address", "Postal address for the P45", "long_text", required=False,
              sample="address"),
        ),
        steps=("Check the last timesheet is in and approved.", "Calculate accrued holiday pay.",
               "Mark the worker as a leaver and run final pay.", "Send the P45 and resolve."),
        sim=Sim(rate=3.5, requested_by=BRANCHES, touch=40, ask=0.2, third_party=0.05,
                third_party_days=5, month_end=1.3, pay_week=1.1),
        title="Leaver pay · {worker}",
        questions=(("We have no timesheet for the last week; did they work it?",
                    "Yes, 3 days; the client approved it this morning."),),
        resolutions=("Final pay and 14.2 hours' holiday pay in Friday's run; P45 emailed.",
                     "P45 issued; no holiday pay outstanding."),
        parties=("HMRC",), skills={"paye": 2}, reviewed_months_ago=20,
    ),
    DemoService(
        slug="expenses-claim", name="Expenses claim", unit="payroll", owner="lisa.greenwood",
        summary="Reimburse a worker's or contractor's agreed expenses with their pay.",
        includes="Mileage, travel and PPE costs agreed with the client in the booking.",
        excludes="Expenses the client has not agreed to pay; staff expenses (ask your manager).",
        turnaround=5,
        fields=(
            WORKER, CLIENT,
            f("total", "Total claimed (£)", "number", sample="money:8-260", rules=MONEY),
            f("category", "Category", "choice",
              choices=("Mileage", "Train or bus", "Parking", "PPE", "Other")),
            f("receipts", "Receipts", "file", sample="file:Expenses receipts"),
        ),
        steps=("Check the booking allows the expense.", "Check receipts and mileage.",
               "Add to the next pay run.", "Resolve with the amount and the pay date."),
        sim=Sim(rate=5.6, requested_by=BRANCHES, touch=15, external=0.2, ask=0.3, month_end=1.3,
                pay_week=1.2),
        title="Expenses · {worker}",
        questions=(("Two receipts are unreadable; can the worker send clearer photos?",
                    "New photos attached."),
                   ("Is the mileage agreed with the client?", "Yes, 45p a mile, in the booking.")),
        resolutions=("Approved and added to Friday's pay.",
                     "Part-approved: parking not covered by the booking."),
        skills={"payroll-system": 2}, reviewed_months_ago=7,
    ),
)
