"""Approvals in the demo: emergency payments above £500 need the operations director's yes
before payroll starts (docs/approvals.md). The rule takes effect on the demo's last day, so the
simulated history before it needed none; this morning's emergency payments above the amount go
through the real actions: one approved, one declined with the reason, two still waiting on him,
which is what his "waiting for my approval" view and the requesters' pages show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from tandem.catalogue.actions import set_approval
from tandem.catalogue.models import Service
from tandem.org.models import Person
from tandem.work.actions import approve_request, decline_request, submit_request

APPROVER = "david.kemp"  # Operations director: holds the emergency-payments budget
ABOVE = Decimal("500")
# (requester, worker, worker number, amount, why it cannot wait, minutes before the end)
MORNING = (
    ("priya.sharma", "Kofi Mensah", "W104871", "640", "Our error: two night shifts at Holbeck Laundry missed "
     "from Friday's run; the worker cannot pay rent due today.", 200),
    ("tom.brennan", "Agnieszka Nowak", "W109342", "725", "Timesheet approved late by Calder Foods; the worker "
     "has no money for the week.", 170),
    ("daniel.okafor", "Liam Gallagher", "W101187", "580", "Bank rejected Friday's payment: the sort code "
     "was changed on the worker's record after the run.", 140),
    ("emma.lawson", "Fatima Begum", "W107765", "910", "A week of shifts at Otley Road Surgery missed from "
     "the run; the worker's childcare is due today.", 110),
)
DECLINE_REASON = ("Liam's pay is not missing: the bank returned it and it is paid again on "
                  "Wednesday's run; an emergency payment would pay him twice.")


def load_approvals(end: datetime) -> dict[str, int]:
    """Give emergency payments their approval rule and this morning's requests their decisions."""
    people = {p.user.username: p for p in Person.objects.select_related("user").filter(
        user__username__in=[APPROVER, "admin", *(row[0] for row in MORNING)])}
    service = Service.objects.get(slug="emergency-payment")
    set_approval(people["admin"], service.pk, people[APPROVER].pk, field="amount", above=ABOVE)
    service.refresh_from_db()
    submitted = []
    for username, worker, number, amount, why, minutes in MORNING:
        intake = {"worker": worker, "worker_id": number, "amount": amount, "reason": why,
                  "approved_by": "Branch manager, by phone"}
        submission = submit_request(people[username], service, intake, title=f"Emergency payment · {worker}",
                                    now=end - timedelta(minutes=minutes))
        submitted.append(submission.request)
    approver = people[APPROVER]
    approve_request(approver, submitted[0].pk, "Agreed: recover it from Friday's pay.", now=end - timedelta(minutes=90))
    decline_request(approver, submitted[2].pk, DECLINE_REASON, now=end - timedelta(minutes=60))
    return {"approval requests": len(submitted)}
