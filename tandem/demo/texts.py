"""Words for the demo history: workers and clients, the kinds of customer matters (cases), and
what people write when they chase, remind, note, advise, reopen or cancel.

All names are made up; phone numbers are in Ofcom's drama ranges, NI numbers use the unissued
QQ prefix and email domains end in .example.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = (
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Freya",
    "Florence",
    "Poppy",
    "Evie",
    "Ella",
    "Willow",
    "Sienna",
    "Maryam",
    "Zara",
    "Aaliyah",
    "Oliwia",
    "Ioana",
    "Agnieszka",
    "Chidinma",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theo",
    "Jacob",
    "Muhammad",
    "Yusuf",
    "Kacper",
    "Jakub",
    "Andrei",
    "Tomasz",
    "Kwame",
    "Tendai",
    "Ravi",
    "Arjun",
    "Connor",
    "Callum",
    "Kyle",
    "Dean",
    "Shane",
    "Stacey",
    "Kirsty",
    "Leanne",
    "Gemma",
    "Joanne",
    "Bernard",
    "Maureen",
    "Pauline",
    "Trevor",
    "Sandra",
    "Wayne",
    "Tracey",
    "Darren",
)
LAST_NAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Ahmed",
    "Hussain",
    "Ali",
    "Kowalski",
    "Nowak",
    "Popescu",
    "Mensah",
    "Okonkwo",
    "Moyo",
    "Singh",
    "Kaur",
    "Begum",
    "Murphy",
    "O'Brien",
    "McDonald",
    "Fletcher",
    "Holroyd",
    "Ackroyd",
    "Sykes",
    "Haigh",
    "Butterworth",
    "Whitworth",
    "Ramsbottom",
    "Entwistle",
    "Brierley",
    "Crossley",
    "Dyson",
    "Firth",
    "Greenwood",
    "Hepworth",
    "Lockwood",
    "Mellor",
    "Naylor",
    "Oldroyd",
    "Pickersgill",
    "Riley",
    "Shackleton",
    "Thackeray",
)
CLIENTS = (
    "Aire Valley Logistics",
    "Calder Foods",
    "Don Valley Engineering",
    "Irwell Healthcare Group",
    "Kirkstall Print & Pack",
    "Moorside Care Homes",
    "Peak Edge Hotels",
    "Roundhay Dental",
    "Quayside Media",
    "Sheaf Street Distribution",
    "Trafford Packaging",
    "Wharfedale Nursing",
    "Yorkshire Cold Storage",
    "Castlefield Events",
    "Hillsborough Fabrications",
    "Pennine Bakeries",
    "Ancoats Fulfilment",
    "Meadowhall Facilities",
    "Holbeck Laundry Services",
    "Ringway Catering",
    "Rother Valley Plastics",
    "Otley Road Surgery",
    "Saddleworth Care",
    "Lowry Academy Trust",
)
STREETS = (
    "Moor Lane",
    "Station Road",
    "Church Street",
    "Victoria Road",
    "Mill Lane",
    "Park Avenue",
    "Albert Street",
    "Green Lane",
    "Queens Road",
    "Manor Way",
)
TOWNS = (
    ("Leeds", "LS6"),
    ("Bradford", "BD3"),
    ("Manchester", "M14"),
    ("Salford", "M6"),
    ("Sheffield", "S8"),
    ("Rotherham", "S60"),
    ("Wakefield", "WF1"),
    ("Stockport", "SK4"),
)
MANAGERS = ("Sarah Whitfield", "Claire Doyle", "Mark Pearson")


@dataclass(frozen=True)
class CaseKind:
    """A customer matter a front-office person opens, and the services it needs."""

    slug: str
    services: tuple[tuple[str, float], ...]  # (service slug, probability it is asked for)
    rate: float  # new matters per working day
    owners: dict[str, float]  # owning unit slug → weight
    reference: str  # customer reference template
    title: str
    external: float = 0.3


CASE_KINDS: tuple[CaseKind, ...] = (
    CaseKind(
        "care-placement",
        (("right-to-work-check", 1.0), ("dbs-check", 0.9), ("reference-check", 1.0)),
        5.0,
        {"leeds": 0.4, "manchester": 0.35, "sheffield": 0.25},
        "PL-{number}",
        "Placement: {worker} at {client}",
    ),
    CaseKind(
        "industrial-placement",
        (("right-to-work-check", 1.0), ("reference-check", 0.5)),
        3.6,
        {"leeds": 0.4, "manchester": 0.3, "sheffield": 0.3},
        "PL-{number}",
        "Placement: {worker} at {client}",
    ),
    CaseKind(
        "sponsored-placement",
        (("right-to-work-check", 1.0), ("certificate-of-sponsorship", 1.0), ("dbs-check", 0.6)),
        0.2,
        {"leeds": 0.5, "manchester": 0.5},
        "SP-{number}",
        "Sponsored placement: {worker} at {client}",
    ),
    CaseKind(
        "worker-pay-problem",
        (("pay-query", 1.0), ("timesheet-correction", 0.7), ("emergency-payment", 0.25)),
        3.0,
        {"leeds": 0.35, "manchester": 0.3, "sheffield": 0.25, "reception": 0.1},
        "{worker_id}",
        "Pay problem: {worker}",
    ),
    CaseKind(
        "new-client",
        (
            ("new-client-billing", 1.0),
            ("purchase-order-update", 0.5),
            ("timesheet-approver-change", 0.6),
        ),
        0.8,
        {"accounts": 0.8, "leeds": 0.1, "sheffield": 0.1},
        "NEW-{client_code}",
        "New client: {client}",
        external=0.0,
    ),
    CaseKind(
        "billing-dispute",
        (("invoice-query", 1.0), ("credit-note", 0.6)),
        1.5,
        {"accounts": 0.7, "leeds": 0.1, "manchester": 0.1, "sheffield": 0.1},
        "ACC-{client_code}-{number}",
        "Billing dispute: {client}",
    ),
)

CHASERS = (
    "Any update on this? The worker is chasing me.",
    "Is this on track for the turnaround?",
    "Could you let me know where this is up to?",
    "The client asked again this morning; any news?",
    "Just checking this has not got lost; it is getting urgent.",
)
REMINDERS = (
    "Reminder: we still need your answer to our question before we can carry on.",
    "We are still waiting for the information we asked for; the request is on hold until then.",
)
CANCEL_REASONS = (
    "Raised in error.",
    "Duplicate: I asked for this yesterday.",
    "The candidate withdrew.",
    "Sorted out directly with the client.",
    "No longer needed.",
)
NO_REPLY_CANCEL = (
    "No reply to our question for ten working days. Submit a new request when you "
    "have the information."
)
REOPEN_REASONS = {
    "payroll": (
        "The worker says the pay is still short.",
        "The adjustment did not appear on the payslip.",
    ),
    "timesheets": (
        "The client still shows the old hours.",
        "Only one of the two days was corrected.",
    ),
    "invoicing": (
        "The client says the credit is for the wrong amount.",
        "The re-issued invoice still has the old PO.",
    ),
    "compliance": (
        "The record is missing the expiry date.",
        "The client needs the certificate number too.",
    ),
    "hr": ("The letter has the wrong start date.", "I would like to appeal the outcome."),
    "it": ("It is happening again.", "I still cannot get into the shared mailbox."),
}
NOTES = {
    "payroll": (
        "Checked against the pay run report; discrepancy confirmed.",
        "Needs a second check before the adjustment.",
    ),
    "timesheets": (
        "Called the approver, left a voicemail.",
        "Approver is on leave; their deputy can approve.",
    ),
    "invoicing": (
        "Picked up late: we are behind since the team is a person short.",
        "Waiting on the month-end close before posting.",
    ),
    "compliance": (
        "Documents cross-checked with the Home Office guidance.",
        "Flagged for the follow-up diary.",
    ),
    "hr": ("Kept in the confidential HR folder only.", "Discussed with the HR manager."),
    "it": ("Remote session done; needs hands-on.", "Known issue with the last update."),
}
ADVICE = {
    "payroll": "Tip: ask workers to check the app first; most pay questions are answered there.",
    "timesheets": "Ask the client to approve by Monday evening; Tuesday morning is too late "
    "for many approvers.",
    "invoicing": "Put the client's PO number on the booking so invoices go out right first time.",
    "compliance": "Ask candidates for a share code up front: it saves two days.",
    "hr": "Send the fit note with the first request; we cannot record sickness over 7 days "
    "without it.",
    "it": "You can reset your own password at the self-service page next time.",
}
# Why a requester declined a team's advice: the reason stays on the request's record.
ADVICE_DECLINED = {
    "payroll": "Most of our workers have no smartphone; the app is not an option for them.",
    "timesheets": "This client's approver only works Tuesdays; Monday evening is impossible.",
    "invoicing": "This client issues PO numbers only after the invoice is received.",
    "compliance": "The candidate is an Irish citizen: there is no share code to ask for.",
    "hr": "The fit note is posted by the GP; we cannot send it with the first request.",
    "it": "The self-service page needs the authenticator app, which is on the lost phone.",
}
