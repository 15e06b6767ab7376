"""What an incoming mail becomes (docs/email.md), decided in this order:

1. a program's mail (auto-reply, bounce, list, Tandem's own) is ignored and never answered;
2. a mail from nobody Tandem knows (no active person has the From address) is ignored, unanswered;
3. a reply: a signed reference to a request in a recipient's plus-address or in the Message-IDs
   it answers (never the subject) makes it a comment on that request, or the answer to its
   question when the request waits on its requester and the requester wrote;
4. a mail to a service's intake address becomes a request of that service, its text the first
   comment and its files the request's, when the service's intake asks for nothing required (a
   mail cannot fill a form): otherwise the sender is sent the form's link;
5. anything else is refused, and the sender told where to write.

A refusal to a person (3 to 5) answers them with the reason; nothing is ever half-saved.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse

from tandem.catalogue.models import Service
from tandem.catalogue.queries import is_contracted
from tandem.engines import mail as mails
from tandem.engines.mail import Mail
from tandem.mail.models import Outcome
from tandem.notifications import mailing
from tandem.org.models import Person
from tandem.refusal import Refused
from tandem.work import actions
from tandem.work.models import ServiceRequest, Status
from tandem.work.queries import can_see_payload, requests_visible_to


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason: str
    request_id: int | None = None
    answer: str = ""  # what to write back to the sender ("" for nothing)


@dataclass
class Lookups:
    """The people and services a worker round has looked up, by address: a round of 200 mails
    mostly comes from a few senders to a few addresses."""

    senders: dict[str, Person | None] = field(default_factory=dict)
    services: dict[tuple[str, ...], Service | None] = field(default_factory=dict)

    def sender(self, address: str) -> Person | None:
        if address not in self.senders:
            self.senders[address] = sender(address)
        return self.senders[address]

    def service(self, mail: Mail) -> Service | None:
        key = tuple(sorted(a.lower() for a in mail.recipients))
        if key not in self.services:
            self.services[key] = addressed_service(mail)
        return self.services[key]


def decide(mail: Mail, lookups: Lookups | None = None) -> Decision:
    lookups = lookups or Lookups()
    if mail.automated:
        return Decision(Outcome.IGNORED, f"Not read: {mail.automated}. Tandem never answers a program's mail.")
    own = {a.lower() for a in (settings.DEFAULT_FROM_EMAIL, mailing.mailbox()) if a}
    if mail.sender in own:
        return Decision(Outcome.IGNORED, "Not read: it comes from Tandem's own address.")
    person = lookups.sender(mail.sender)
    if person is None:
        return Decision(Outcome.IGNORED, f"Not read: no active person has the address {mail.sender}; "
                        "mail from unknown senders is never answered.")
    request_id = replied_request(mail)
    if request_id is not None:
        return reply(person, request_id, mail)
    service = lookups.service(mail)
    if service is not None:
        return new_request(person, service, mail)
    return Decision(
        Outcome.REFUSED, "Neither a reply to Tandem's mail nor addressed to a service's intake address.",
        answer="Tandem could not tell what this mail is for: it is not a reply to one of Tandem's emails, "
        f"and it is not addressed to a service's intake address. Ask for a service at {settings.SITE_URL}/catalogue/ "
        "or reply to the email about your request.",
    )


def sender(address: str) -> Person | None:
    people = list(Person.objects.select_related("user").filter(user__email__iexact=address, user__is_active=True)[:2])
    return people[0] if len(people) == 1 else None  # shared by two people: whose is it?


def replied_request(mail: Mail) -> int | None:
    box = mailing.mailbox()
    for address in mail.recipients if box else ():
        tag = mails.plus_tag(address, box)
        found = mailing.request_of(tag) if tag else None
        if found is not None:
            return found
    for message_id in mail.answers:
        found = mailing.request_of_message_id(message_id)
        if found is not None:
            return found
    return None


def addressed_service(mail: Mail) -> Service | None:
    addresses = [a.lower() for a in mail.recipients]
    return Service.objects.filter(active=True, intake_address__in=addresses).prefetch_related("fields").first()


def _files(mail: Mail) -> list[ContentFile]:
    return [ContentFile(f.content, name=f.name) for f in mail.files]


def reply(person: Person, request_id: int, mail: Mail) -> Decision:
    sr = requests_visible_to(person.user).filter(pk=request_id).first()
    if sr is None or not can_see_payload(person, sr):
        return Decision(Outcome.REFUSED, f"{person.display_name} cannot see request {request_id}.",
                        answer="This reply names a request you cannot see, so it was not added to it.")
    files = _files(mail)
    text = mail.text or (f"Sent {len(files)} file{'s' if len(files) != 1 else ''} by email." if files else "")
    if not text:
        return Decision(Outcome.REFUSED, "The reply is empty (no text and no files).", sr.pk,
                        answer=f"Your reply about {sr.reference} was empty, so nothing was added. Write your "
                        "answer above the quoted text and send it again.")
    try:
        if sr.status == Status.WAITING_REQUESTER and sr.requester_id == person.pk:
            actions.provide_information(person, sr.pk, text, files=files, source_key=mail.key)
            return Decision(Outcome.ANSWERED, f"Answered {sr.reference}'s question; its clock runs again.", sr.pk)
        actions.add_comment(person, sr.pk, text, files=files, source_key=mail.key)
    except Refused as refusal:
        return Decision(Outcome.REFUSED, refusal.message, sr.pk,
                        answer=f"Your reply about {sr.reference} was not added: {refusal.message}")
    return Decision(Outcome.COMMENTED, f"Added as a comment on {sr.reference}.", sr.pk)


def new_request(person: Person, service: Service, mail: Mail) -> Decision:
    if not is_contracted(person.unit.organisation_id, service.pk):
        # Before anything about the service's form: a client's person is not sent to a form
        # of a service their organisation has not contracted (docs/organisations.md).
        refusal = f"Your organisation has not contracted {service.name}, so no request was made."
        return Decision(Outcome.REFUSED, refusal, answer=f"{refusal} Ask your provider to add it to your contract.")
    form = settings.SITE_URL + reverse("catalogue:submit", args=[service.slug])
    required = [f.label for f in service.fields.all() if f.required]
    if required:
        return Decision(
            Outcome.REFUSED, f"{service.name} needs {', '.join(required)}, which a mail cannot give.",
            answer=f"{service.name} needs details a mail cannot give ({', '.join(required)}). Ask for it on its "
            f"form instead: {form}",
        )
    title = mails.title(mail.subject)[: actions.TITLE_LIMIT].strip()
    if not title and not mail.text and not mail.files:
        return Decision(Outcome.REFUSED, "The mail is empty (no subject, text or files).",
                        answer=f"Your mail to {service.name} was empty, so no request was made. Say what you need "
                        "in the subject and the text, and send it again.")
    key = "mail:" + hashlib.sha256(mail.key.encode()).hexdigest()[:64]
    try:
        # One action: the request and its text as its first comment, in one transaction.
        done = actions.submit_request(person, service, {}, title=title, idempotency_key=key, files=_files(mail),
                                      comment=mail.text, comment_source_key=mail.key)
        sr: ServiceRequest = done.request
    except Refused as refusal:
        return Decision(Outcome.REFUSED, refusal.message,
                        answer=f"Your mail to {service.name} did not become a request: {refusal.message}")
    return Decision(
        Outcome.CREATED, f"Became {sr.reference} of {service.name}.", sr.pk,
        answer=f"Sent to {service.unit.name} as {sr.reference}: {sr.title}\n"
               f"{settings.SITE_URL}/requests/{sr.address_key}/\n\n"
        "Reply to this email to add to it.",
    )
