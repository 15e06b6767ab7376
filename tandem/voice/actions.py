"""Answering the pulse (in the product or by an emailed link), dismissing it, and the worker's
invitations."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from tandem.notifications import mailing
from tandem.org.models import Person, Side, Unit
from tandem.org.queries import is_admin, work_unit_ids
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.voice.models import (
    AskRating,
    Frequency,
    Gift,
    Kudos,
    PulseAnswer,
    PulseDismissal,
    PulseInvitation,
    RequestRating,
    UsedPulseLink,
)
from tandem.voice.queries import (
    asked_of,
    closes_on,
    open_periods,
    period_name,
    period_start,
    previous_period,
    today,
)
from tandem.work.addresses import NO_SUCH_REQUEST
from tandem.work.models import ServiceRequest, Status
from tandem.work.queries import requests_visible_to

COMMENT_LIMIT = 1000
LINK_SALT = "tandem.pulse.link"


def _check_open(start: date, now: datetime) -> None:
    if start != period_start(start):
        raise Invalid(f"{start} does not start a pulse period; use the period's first day.",
                      errors={"period": ["Not the first day of a period."]})
    if start not in open_periods(now):
        if start > period_start(today(now)):
            raise Invalid(f"{period_name(start)} has not started; answer about this period or the last.",
                          errors={"period": ["Not started."]})
        raise Conflict(f"Answers about {period_name(start)} closed on {closes_on(start):%d %b %Y}; "
                       "answer about the current period instead.")


def _unit_asked(person: Person, unit_id: int, start: date) -> Unit:
    if person.unit.side != Side.FRONT:
        raise Forbidden("The pulse asks the front office about the back office; your unit is a back-office unit.")
    unit = asked_of(person, start).filter(pk=unit_id).first()
    if unit is None:
        raise Invalid(f"You asked nothing of that unit in {period_name(start)}, so there is nothing to answer about.",
                      errors={"unit": ["Not a unit you asked something of in that period."]})
    return unit


def answer_pulse(
    person: Person, unit_id: int, start: date, answer: int, *, comment: str = "",
    request_ids: list[int] | None = None, now: datetime | None = None,
) -> PulseAnswer:
    """Record (or change) the person's answer about a unit for a period."""
    now = now or timezone.now()
    if answer not in Frequency.values:
        raise Invalid("Answer with 1 (Never), 2 (Rarely), 3 (Sometimes), 4 (Often) or 5 (Always).",
                      errors={"answer": ["Choose one of the five answers."]})
    comment = _checked_comment(comment)
    _check_open(start, now)
    unit = _unit_asked(person, unit_id, start)
    ids = sorted(set(request_ids or []))
    if ids:
        mine = set(ServiceRequest.objects.filter(pk__in=ids, requester=person, unit=unit).values_list("pk", flat=True))
        if mine != set(ids):
            stray = ", ".join(str(i) for i in ids if i not in mine)
            raise Invalid(f"Link only your own requests to {unit.name}; not: {stray}.",
                          errors={"request_ids": ["Not your requests to that unit."]})
    with action_transaction():
        answered, _created = PulseAnswer.objects.update_or_create(
            person=person, unit=unit, period=start,
            defaults={"answer": answer, "comment": comment, "request_ids": ids, "answered_at": now},
        )
    return answered


def _checked_comment(comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LIMIT or "\x00" in comment:
        raise Invalid(f"A comment has at most {COMMENT_LIMIT} characters (and no NUL characters).",
                      errors={"comment": [f"At most {COMMENT_LIMIT} characters."]})
    return comment


def dismiss_pulse(person: Person, unit_id: int, start: date, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    _check_open(start, now)
    unit = _unit_asked(person, unit_id, start)
    with action_transaction():
        PulseDismissal.objects.get_or_create(person=person, unit=unit, period=start)


# --- one-click links ----------------------------------------------------------------------------


def link_token(person: Person, unit: Unit, start: date, answer: int) -> str:
    return signing.dumps({"p": person.pk, "u": unit.pk, "d": start.isoformat(), "a": answer}, salt=LINK_SALT)


def read_link(token: str, now: datetime | None = None) -> dict[str, Any]:
    """The link's content, or a refusal saying why it cannot be used."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=LINK_SALT)
        start = date.fromisoformat(data["d"])
        person = Person.objects.select_related("unit", "user").get(pk=int(data["p"]), user__is_active=True)
        unit = Unit.objects.get(pk=int(data["u"]))
        answer = int(data["a"])
    except (signing.BadSignature, KeyError, ValueError, TypeError, Person.DoesNotExist, Unit.DoesNotExist) as e:
        raise NotFound("This link is not a valid pulse link (it may have been cut short in the email).") from e
    if UsedPulseLink.objects.filter(digest=_digest(token)).exists():
        raise Conflict("This link was used already. To change your answer, sign in: the banner on every page "
                       "lets you answer again.")
    _check_open(start, now)
    return {"person": person, "unit": unit, "period": start, "answer": answer}


def answer_by_link(token: str, *, comment: str = "", now: datetime | None = None) -> PulseAnswer:
    """Answer from an emailed link: once per link; the period must still be open."""
    now = now or timezone.now()
    data = read_link(token, now)
    try:
        with transaction.atomic():
            UsedPulseLink.objects.create(digest=_digest(token), used_at=now)
            answered = _answer_inside(data, comment, now)
    except IntegrityError as e:
        raise Conflict("This link was used already.") from e
    return answered


def _answer_inside(data: dict[str, Any], comment: str, now: datetime) -> PulseAnswer:
    comment = _checked_comment(comment)
    _unit_asked(data["person"], data["unit"].pk, data["period"])
    answered, _created = PulseAnswer.objects.update_or_create(
        person=data["person"], unit=data["unit"], period=data["period"],
        defaults={"answer": data["answer"], "comment": comment, "answered_at": now},
    )
    return answered


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_pulse_invitations(*, now: datetime | None = None, limit: int = 500) -> int:
    """At the start of a period: ask, by email, every front-office person about each back-office
    unit they asked something of in the period just ended (once). Returns emails sent."""
    now = now or timezone.now()
    start = previous_period(period_start(today(now)))
    if start not in open_periods(now):
        return 0
    sent = 0
    people = Person.objects.filter(unit__side=Side.FRONT, user__is_active=True, email_notifications=True)
    people = people.select_related("user", "unit").exclude(user__email="")
    for person in people.iterator():
        for unit in asked_of(person, start):
            if sent >= limit:
                return sent
            if PulseAnswer.objects.filter(person=person, unit=unit, period=start).exists():
                continue
            try:
                with transaction.atomic():
                    PulseInvitation.objects.create(person=person, unit=unit, period=start, emailed_at=now)
            except IntegrityError:
                continue  # invited already (or by another worker just now)
            _email(person, unit, start)
            sent += 1
    return sent


def _email(person: Person, unit: Unit, start: date) -> None:
    base = settings.SITE_URL.rstrip("/")
    lines = [
        f"How often were you frustrated by {unit.name}'s performance in {period_name(start)}?",
        "",
        "One click answers (you can add a comment on the page that opens):",
        "",
    ]
    for value, label in Frequency.choices:
        lines.append(f"  {label}: {base}{reverse('voice:link', args=[link_token(person, unit, start, value)])}")
    lines += ["", f"Answers are anonymous: {unit.name} sees them only added up, and only when at least "
              "a few people answered. Answers close on " + f"{closes_on(start):%d %B}."]
    mailing.send(f"How was {unit.name} for you in {period_name(start)}?", "\n".join(lines), [person.user.email])


# --- satisfaction both ways ---------------------------------------------------------------------

DONE = (Status.RESOLVED, Status.CLOSED)


def _request(actor: Person, request_id: int) -> ServiceRequest:
    sr = requests_visible_to(actor.user).select_related("unit", "requesting_unit").filter(pk=request_id).first()
    if sr is None:
        raise NotFound(NO_SUCH_REQUEST)
    return sr


def rate_request(actor: Person, request_id: int, score: int, comment: str = "", *,
                 now: datetime | None = None) -> RequestRating:
    """The requester rates a resolved request (1–5); rating again changes it until it is answered."""
    now = now or timezone.now()
    sr = _request(actor, request_id)
    if sr.requester_id != actor.pk:
        raise Forbidden("Only the requester rates a request.")
    if sr.status not in DONE:
        raise Conflict(f"{sr.reference} is not resolved yet; rate it once it is.")
    if score not in range(1, 6):
        raise Invalid("Rate from 1 (poor) to 5 (excellent).", errors={"score": ["1 to 5."]})
    comment = _checked_comment(comment)
    with action_transaction():
        existing = RequestRating.objects.select_for_update().filter(request=sr).first()
        if existing is not None and existing.answered_at is not None:
            raise Conflict(f"{sr.unit.name} has answered your rating already; add a comment on the request instead.")
        rating, _created = RequestRating.objects.update_or_create(
            request=sr, defaults={"unit": sr.unit, "score": score, "comment": comment, "rated_at": now}
        )
    return rating


def answer_rating(actor: Person, request_id: int, answer: str, *, now: datetime | None = None) -> RequestRating:
    """The providing unit (its lead or an agent) answers the requester's rating, once."""
    now = now or timezone.now()
    sr = _request(actor, request_id)
    if sr.unit_id not in work_unit_ids(actor) and not is_admin(actor):
        raise Forbidden(f"Only {sr.unit.name} answers feedback on its requests.")
    answer = _checked_comment(answer)
    if not answer:
        raise Invalid("Write an answer to the requester.", errors={"answer": ["Required."]})
    with action_transaction():
        rating = RequestRating.objects.select_for_update().filter(request=sr).first()
        if rating is None:
            raise Conflict(f"{sr.reference} has not been rated; there is nothing to answer.")
        if rating.answered_at is not None:
            raise Conflict("This feedback was answered already.")
        rating.answer, rating.answered_by, rating.answered_at = answer, actor, now
        rating.save(update_fields=["answer", "answered_by", "answered_at"])
    return rating


def rate_ask(actor: Person, request_id: int, *, complete: bool, in_time: bool,
             now: datetime | None = None) -> AskRating:
    """The back office says whether the ask was complete and in time for the cut-off."""
    now = now or timezone.now()
    sr = _request(actor, request_id)
    if sr.unit_id not in work_unit_ids(actor) and not is_admin(actor):
        raise Forbidden(f"Only {sr.unit.name} rates the asks it received.")
    if sr.status not in DONE:
        raise Conflict(f"Rate the ask when {sr.reference} is resolved.")
    with action_transaction():
        rating, _created = AskRating.objects.update_or_create(
            request=sr, defaults={"requesting_unit": sr.requesting_unit, "complete": complete, "in_time": in_time,
                                  "rated_by": actor, "rated_at": now},
        )
    return rating


# --- recognition ---------------------------------------------------------------------------------

GIFT_VALUE_LIMIT = Decimal("100000")


def give_kudos(actor: Person, *, message: str, person_id: int | None = None, unit_id: int | None = None,
               request_id: int | None = None, now: datetime | None = None) -> Kudos:
    """Thank a back-office person or unit (exactly one), optionally about a request you can see."""
    now = now or timezone.now()
    message = (message or "").strip()
    if not message or len(message) > 500 or "\x00" in message:
        raise Invalid("Say what you are thanking them for, in at most 500 characters.", errors={"message": ["1–500."]})
    if (person_id is None) == (unit_id is None):
        raise Invalid("Thank one person or one unit.", errors={"to": ["Choose a person or a unit."]})
    to_person = None
    if person_id is not None:
        to_person = Person.objects.select_related("unit").filter(pk=person_id, user__is_active=True).first()
        if to_person is None:
            raise Invalid("There is no such active person.", errors={"to": ["Unknown person."]})
        if to_person.pk == actor.pk:
            raise Invalid("Kudos are for someone else: you cannot thank yourself.", errors={"to": ["Yourself."]})
        unit = to_person.unit
    else:
        found = Unit.objects.filter(pk=unit_id or 0).first()
        if found is None:
            raise Invalid("There is no such unit.", errors={"to": ["Unknown unit."]})
        unit = found
    if unit.side != Side.BACK:
        raise Invalid("Kudos recognise back-office work: choose a back-office person or unit.",
                      errors={"to": ["Not back office."]})
    if to_person is None and unit.pk == actor.unit_id:
        raise Invalid("Kudos are for someone else: you cannot thank your own unit.", errors={"to": ["Your unit."]})
    if request_id is not None and not requests_visible_to(actor.user).filter(pk=request_id).exists():
        raise NotFound(NO_SUCH_REQUEST)
    with action_transaction():
        return Kudos.objects.create(given_by=actor, to_person=to_person, to_unit=unit, request_id=request_id,
                                    message=message, created_at=now)


def register_gift(actor: Person, *, received_on: date, giver: str, value: Decimal, description: str,
                  shared_with: list[int] | None = None, now: datetime | None = None) -> Gift:
    """Record a gift or hospitality received; flagged for compliance at or above the set value."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    giver, description = (giver or "").strip(), (description or "").strip()
    if not giver or len(giver) > 200:
        errors["giver"] = ["Who gave it (1–200 characters)."]
    if not description or len(description) > 500:
        errors["description"] = ["What it was (1–500 characters)."]
    if value is None or not value.is_finite() or value < 0:
        errors["value"] = ["The value is an amount of 0 or more."]
    elif value > GIFT_VALUE_LIMIT:
        errors["value"] = [f"{value} is beyond any gift this register takes (at most {GIFT_VALUE_LIMIT}); "
                           "check the amount, or report it to compliance directly."]
    if received_on > today(now):
        errors["received_on"] = ["A gift is registered once received: give today's date or earlier."]
    units = list(Unit.objects.filter(pk__in=shared_with or [], side=Side.BACK))
    if len(units) != len(set(shared_with or [])):
        errors["shared_with"] = ["Share with back-office units only."]
    if errors:
        raise Invalid("Some details are missing or wrong (" + ", ".join(errors) + "); correct them.", errors=errors)
    with action_transaction():
        gift = Gift.objects.create(
            received_by=actor, received_on=received_on, giver=giver, value=value, description=description,
            flagged=value >= Decimal(str(settings.TANDEM_GIFT_REVIEW_VALUE)), created_at=now,
        )
        gift.shared_with.set(units)
    return gift


def send_kudos_digests(*, now: datetime | None = None) -> int:
    """In the first days of a month: last month's kudos, emailed to each thanked unit's people
    and to the front-office people who asked something of it (once). Returns emails sent."""
    now = now or timezone.now()
    this_month = date(today(now).year, today(now).month, 1)
    last_month = date((this_month - timedelta(days=1)).year, (this_month - timedelta(days=1)).month, 1)
    zone = timezone.get_default_timezone()
    lo = datetime(last_month.year, last_month.month, 1, tzinfo=zone)
    hi = datetime(this_month.year, this_month.month, 1, tzinfo=zone)
    sent = 0
    pending = Kudos.objects.filter(created_at__gte=lo, created_at__lt=hi, digested_at__isnull=True)
    for unit in Unit.objects.filter(pk__in=pending.values("to_unit_id")):
        with transaction.atomic():
            mine = list(pending.filter(to_unit=unit).select_for_update(skip_locked=True, of=("self",)).select_related(
                "to_person__user", "given_by__user"))
            if not mine:
                continue
            Kudos.objects.filter(pk__in=[k.pk for k in mine]).update(digested_at=now)
        clients = ServiceRequest.objects.filter(unit=unit, submitted_at__gte=lo, submitted_at__lt=hi).values(
            "requester_id")
        people = Person.objects.filter(Q(unit=unit) | Q(pk__in=clients), user__is_active=True).exclude(user__email="")
        lines = [f"Thanks received by {unit.name} in {last_month:%B %Y}:", ""]
        lines += [f"- {k.to_person.display_name + ': ' if k.to_person else ''}{k.message} "
                  f"({k.given_by.display_name})" for k in mine]
        mailing.send(f"Kudos for {unit.name} in {last_month:%B %Y}", "\n".join(lines),
                     [p.user.email for p in people.select_related("user")])
        sent += 1
    return sent
