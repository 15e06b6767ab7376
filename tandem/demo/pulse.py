"""The demo's voice of the internal customer, consistent with its simulated performance: pulse
answers (front-office people more often frustrated with a team where more of their requests
were late, so Invoicing's slide shows as a rising frustration index), ratings both ways, and the
process reviews recorded for services that are not overdue (docs/demo.md)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from tandem.catalogue.models import Service, ServiceReview
from tandem.org.models import Person, Role, Side, Unit
from tandem.voice.models import AskRating, Gift, Kudos, PulseAnswer, RequestRating
from tandem.voice.queries import period_start
from tandem.work.models import ServiceRequest, Status

RESPONSE_RATE = 0.7
COMMENTS = {
    1: ["Always quick and clear.", "No complaints.", ""],
    2: ["Mostly fine.", "One slow answer, otherwise good.", ""],
    3: ["Hard to know where things stand.", "Some requests took longer than the catalogue says.", ""],
    4: ["Had to chase twice this month.", "Customers asked me for dates I could not give.", ""],
    5: ["Nothing came back on time.", "I have stopped promising my clients anything.", ""],
}


def load_pulse(end: datetime, seed: int = 2026) -> int:
    """Answers for every complete month of the history and the current one."""
    rng = random.Random(f"pulse-{seed}")
    rows = (
        ServiceRequest.objects.filter(requester__unit__side=Side.FRONT)
        .annotate(late=Q(resolved_at__gt=F("due_at")) | Q(resolved_at__isnull=True, due_at__lt=end))
        .values_list("requester_id", "unit_id", "submitted_at", "late")
    )
    asked: dict[tuple[int, int, date], list[bool]] = defaultdict(list)
    zone = timezone.get_default_timezone()
    for requester, unit, submitted, late in rows.iterator(chunk_size=5000):
        asked[(requester, unit, period_start(submitted.astimezone(zone).date()))].append(bool(late))
    late_share: dict[tuple[int, date], list[bool]] = defaultdict(list)
    for (_p, unit, start), lates in asked.items():
        late_share[(unit, start)].extend(lates)
    answers = []
    for (person, unit, start), lates in sorted(asked.items()):
        if rng.random() > RESPONSE_RATE:
            continue
        team = late_share[(unit, start)]
        feeling = 0.6 * (sum(team) / len(team)) + 0.4 * (sum(lates) / len(lates))
        value = max(1, min(5, round(1 + 4.2 * feeling + rng.gauss(0, 0.7))))
        answers.append(PulseAnswer(person_id=person, unit_id=unit, period=start, answer=value,
                                   comment=rng.choice(COMMENTS[value]), answered_at=min(end, _mid(start, zone))))
    PulseAnswer.objects.bulk_create(answers, batch_size=2000)
    return len(answers)


def _mid(start: date, zone: tzinfo) -> datetime:
    return datetime(start.year, start.month, 20, 12, 0, tzinfo=zone)


def load_feedback(end: datetime, seed: int = 2026) -> dict[str, int]:
    """Ratings (lower when late), the teams' answers to most low ones, the back office's view of
    the asks (each branch with its own habits), and one recorded review per service that is
    not overdue."""
    rng = random.Random(f"feedback-{seed}")
    leads = dict(Person.objects.filter(role=Role.LEAD, unit__side=Side.BACK).values_list("unit_id", "pk"))
    habits: dict[int, float] = {}
    ratings, asks = [], []
    done = ServiceRequest.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED], resolved_at__isnull=False)
    rows = done.values_list("pk", "unit_id", "requesting_unit_id", "resolved_at", "due_at", "assignee_id")
    for pk, unit, requesting, resolved_at, due_at, assignee in rows.iterator(chunk_size=5000):
        if resolved_at is None:
            continue
        late = resolved_at > due_at
        if rng.random() < 0.3:
            score = max(1, min(5, round(rng.gauss(2.3 if late else 4.3, 0.8))))
            answered = score <= 3 and unit in leads and rng.random() < 0.7
            ratings.append(RequestRating(
                request_id=pk, unit_id=unit, score=score, rated_at=resolved_at + timedelta(hours=2),
                comment=rng.choice(["", "Thanks.", "Took longer than promised." if late else "Quick, thank you."]),
                answer="Sorry for the wait; we are fixing the backlog." if answered else "",
                answered_by_id=leads.get(unit) if answered else None,
                answered_at=resolved_at + timedelta(days=1) if answered else None,
            ))
        if assignee is not None and rng.random() < 0.4:
            habit = habits.setdefault(requesting, rng.uniform(0.7, 0.95))
            asks.append(AskRating(request_id=pk, requesting_unit_id=requesting, complete=rng.random() < habit,
                                  in_time=rng.random() < habit + 0.03, rated_by_id=assignee, rated_at=resolved_at))
    RequestRating.objects.bulk_create(ratings, batch_size=2000)
    AskRating.objects.bulk_create(asks, batch_size=2000)
    reviews = []
    for service in Service.objects.select_related("owner").filter(active=True):
        if service.review_due_on >= end.date():
            reviews.append(ServiceReview(
                service=service, reviewed_on=service.last_reviewed_on, reviewer=service.owner,
                recorded_by=service.owner, findings="Procedure followed; intake form still asks for what we need.",
                decisions="Keep the published turnaround.",
            ))
    ServiceReview.objects.bulk_create(reviews)
    return {"ratings": len(ratings), "ask ratings": len(asks), "reviews": len(reviews)}


KUDOS = [
    "Sorted the overtime before payday, thank you.",
    "Quick and clear answer for my candidate.",
    "Saved us with the client's purchase order.",
    "Laptop fixed before the new starter arrived.",
    "Always explains what is missing, kindly.",
]
GIFTS = [("Bright Logistics", "Box of chocolates", "18"), ("Harbour Hotels", "Christmas hamper", "65"),
         ("Northern Rail Works", "Two match tickets", "140"), ("Acme Staffing", "Bottle of wine", "25"),
         ("Civic Care", "Lunch for the team", "45")]


def load_recognition(end: datetime, seed: int = 2026) -> dict[str, int]:
    """Kudos (mostly for the teams whose requests were on time) and a few gifts, some of them
    above the compliance threshold."""
    rng = random.Random(f"recognition-{seed}")
    rows = list(
        ServiceRequest.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED], resolved_at__lte=F("due_at"),
                                      assignee__isnull=False, requester__unit__side=Side.FRONT)
        .values_list("pk", "requester_id", "assignee_id", "unit_id", "resolved_at")
    )
    kudos = [
        Kudos(given_by_id=requester, to_person_id=assignee, to_unit_id=unit, request_id=pk,
              message=rng.choice(KUDOS), created_at=resolved_at + timedelta(hours=3), digested_at=resolved_at)
        for pk, requester, assignee, unit, resolved_at in rows if resolved_at is not None and rng.random() < 0.01
    ]
    Kudos.objects.bulk_create(kudos, batch_size=1000)
    front = list(Person.objects.filter(unit__side=Side.FRONT, role=Role.MEMBER).values_list("pk", flat=True))
    backs = list(Unit.objects.filter(side=Side.BACK).values_list("pk", flat=True))
    threshold = Decimal(str(settings.TANDEM_GIFT_REVIEW_VALUE))
    gifts = 0
    for n in range(12):
        giver, what, value = GIFTS[n % len(GIFTS)]
        gift = Gift.objects.create(
            received_by_id=rng.choice(front), received_on=(end - timedelta(days=7 + 14 * n)).date(), giver=giver,
            value=Decimal(value), description=what, flagged=Decimal(value) >= threshold,
        )
        gift.shared_with.set(rng.sample(backs, k=rng.randint(0, 2)))
        gifts += 1
    return {"kudos": len(kudos), "gifts": gifts}
