"""The demo catalogue: Invoicing."""

from __future__ import annotations

from tandem.demo.catalogue.common import CLIENT, MONEY
from tandem.demo.services import BRANCHES, DemoService, Sim, f
from tandem.engines.intake_rules import Rules

# Invoicing's slide (docs/demo.md): hands-on time grows by 10 % over the history, and the
# Finance manager's sign-off wait grows from under a day to three days.
DRIFT, SIGN_OFF = 1.1, (0.8, 3.0)

INVOICING: tuple[DemoService, ...] = (
    DemoService(
        slug="credit-note", name="Credit note", unit="invoicing", owner="rachel.speight",
        summary="Credit all or part of an invoice a client disputes rightly.",
        includes="Credit notes against invoices we issued, for wrong hours, rates or duplicates.",
        excludes="Goodwill discounts (the account manager decides those with the Finance "
                 "manager).",
        turnaround=3,
        fields=(
            CLIENT,
            f("invoice_number", "Invoice number", help="As printed, e.g. INV-204518.",
              sample="invoice"),
            f("amount", "Amount to credit (£, excluding VAT)", "number", sample="money:40-3800",
              rules=MONEY),
            f("reason", "Reason", "choice",
              choices=("Wrong hours", "Wrong rate", "Duplicate invoice", "Worker did not attend",
                       "Other")),
            f("evidence", "Evidence", "file", required=False, sample="file:Credit evidence"),
        ),
        steps=("Check the invoice and the approved timesheets behind it.",
               "Agree the amount with the account manager.",
               "Raise the credit note and send it to the client.", "Resolve."),
        sim=Sim(rate=4.5, requested_by={"accounts": 1.2, **BRANCHES}, touch=35, external=0.3,
                ask=0.3, month_end=1.6, drift=DRIFT, hold=SIGN_OFF),
        title="Credit note · {client} {invoice}",
        questions=(("The timesheets match the invoice; what exactly does the client dispute?",
                    "They say two shifts were cancelled on the day; email attached."),
                   ("Full or partial credit?", "Partial: the two cancelled shifts only.")),
        resolutions=("Credit note issued and emailed to the client's accounts payable.",
                     "Credited the duplicate invoice in full."),
        skills={"sales-ledger": 3}, reviewed_months_ago=5,
    ),
    DemoService(
        slug="invoice-query", name="Invoice query", unit="invoicing", owner="tariq.mahmood",
        summary="Answer a client's question about an invoice: what it is for, how it was "
                "calculated.",
        includes="Explaining invoices, sending copies and backing timesheets, correcting "
                 "addresses.",
        excludes="Credits (ask for a credit note); chasing payment (Credit control does that).",
        turnaround=2,
        fields=(
            CLIENT,
            f("invoice_number", "Invoice number", sample="invoice"),
            f("question", "The client's question", "long_text",
              sample="long:{client} asks which timesheets make up this invoice.|{client} needs "
                     "a copy with their PO number on it.|The VAT looks wrong to {client}'s "
                     "accounts team."),
        ),
        steps=("Find the invoice and its timesheets.", "Answer or correct.",
               "Reply to the client (copying the requester) and resolve."),
        sim=Sim(rate=9.1, requested_by={"accounts": 1.0, **BRANCHES}, touch=25, external=0.4,
                ask=0.15, third_party=0.2, third_party_days=1.5, month_end=1.7, drift=DRIFT,
                hold=SIGN_OFF),
        title="Invoice query · {client} {invoice}",
        questions=(("Which contact at the client should get the answer?",
                    "Their accounts payable inbox, please."),),
        resolutions=("Copy with timesheet breakdown sent to the client.",
                     "Re-issued with the client's PO number."),
        teams=("timesheets",),
        parties=("Client accounts payable",),
        skills={"sales-ledger": 2}, reviewed_months_ago=9,
    ),
    DemoService(
        slug="new-client-billing", name="New client billing set-up", unit="invoicing",
        owner="andrew.lister",
        summary="Set up a new client for billing: credit check, terms, rates, invoice contacts.",
        includes="Credit check, payment terms, charge rates, invoice contacts and PO rules.",
        excludes="Contracts and terms of business (the account manager agrees those first).",
        turnaround=5,
        fields=(
            CLIENT,
            f("company_number", "Companies House number", sample="company_number",
              rules=Rules(pattern=r"\d{8}|[A-Z]{2}\d{6}",
                          pattern_message="Eight digits, or two capital letters and six digits "
                                          "(e.g. 01234567 or SC123456).")),
            f("terms", "Payment terms", "choice",
              choices=("14 days", "30 days", "30 days end of month", "60 days")),
            f("expected_monthly", "Expected monthly billing (£)", "number",
              sample="money:2000-90000"),
            f("rate_card", "Signed rate card", "file", sample="file:Rate cards"),
            f("invoice_contact", "Invoice contact email", sample="client_email"),
        ),
        steps=("Run a credit check; agree a credit limit.", "Create the client and the rate card.",
               "Set up invoice contacts and PO rules.",
               "Tell Timesheets to set up approvers; resolve."),
        sim=Sim(rate=1.4, touch=75, ask=0.3, third_party=0.7, third_party_days=2, drift=DRIFT,
                hold=SIGN_OFF,
                requested_by={"accounts": 1.0, "leeds": 0.2, "manchester": 0.2, "sheffield": 0.2}),
        title="New client · {client}",
        questions=(("The rate card is unsigned; can you get the signed copy?",
                    "Signed copy attached."),),
        resolutions=("Client set up with a £25k credit limit, 30 days.",
                     "Set up; credit limit reduced to £10k after the credit check."),
        parties=("Credit reference agency", "Client finance team"),
        skills={"billing-setup": 3}, reviewed_months_ago=19,
    ),
    DemoService(
        slug="purchase-order-update", name="Purchase order update", unit="invoicing",
        owner="rachel.speight",
        summary="Record a client's new or changed purchase order so invoices carry it.",
        includes="New PO numbers, PO values and end dates; re-issuing open invoices with the new "
                 "PO.",
        excludes="Disputes about invoices (ask an invoice query).",
        turnaround=3,
        fields=(
            CLIENT,
            f("po_number", "Purchase order number", sample="po"),
            f("po_value", "PO value (£)", "number", required=False, sample="money:1000-60000",
              rules=MONEY),
            f("valid_until", "Valid until", "date", required=False, sample="future:30-240",
              rules=Rules(days_past=0)),
            f("po_copy", "Copy of the PO", "file", sample="file:Purchase orders"),
        ),
        steps=("Check the PO copy.", "Record it on the client.",
               "Re-issue open invoices if needed; resolve."),
        sim=Sim(rate=4.2, requested_by={"accounts": 1.0, **BRANCHES}, touch=15, external=0.3,
                ask=0.2, third_party=0.3, third_party_days=1.5, month_end=1.5, drift=DRIFT,
                hold=SIGN_OFF),
        title="PO update · {client} {po}",
        questions=(("Does the new PO replace the old one or run alongside it?",
                    "It replaces it from the first of the month."),),
        resolutions=("PO recorded; three open invoices re-issued.", "PO recorded on the client."),
        parties=("Client procurement team",),
        skills={"sales-ledger": 2}, reviewed_months_ago=14,
    ),
)
