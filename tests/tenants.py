"""Two client organisations served by the provider's back office, for the isolation tests.

    world = build_two_clients(cast)
    world.alpha.people["member"]   # client A's front-office member (also "colleague", "lead",
                                   # "executive", "admin")
    world.bravo.requests           # client B's requests: open, resolved and rated, confidential
    world.bravo.markers            # every text of B's that must never reach A

The provider is tests/cast.py's organisation (units without an organisation). Every text of
client B holds "bravo" (its organisation, unit, people, titles, intake, comments, files, case,
rating), so a page leaks B when it says "bravo" in any case; B's references are markers too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from tandem.catalogue.models import Contract, Service
from tandem.org.models import Organisation, Person, Role, Side, Unit
from tandem.voice import actions as voice
from tandem.work import actions
from tandem.work.models import Attachment, Case, Comment, ServiceRequest
from tests.cast import Cast, make_person

ROLES = ("member", "colleague", "lead", "executive", "admin")


@dataclass
class Client:
    organisation: Organisation
    unit: Unit
    people: dict[str, Person]
    requests: list[ServiceRequest] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)

    @property
    def markers(self) -> list[str]:
        name = self.organisation.slug
        return [name, *(sr.reference for sr in self.requests), *(case.reference for case in self.cases)]


@dataclass
class TwoClients:
    alpha: Client
    bravo: Client


def add_client(name: str) -> Client:
    slug = name.lower()
    organisation = Organisation.objects.create(name=f"{name} Agency", slug=slug)
    # Both clients contract the whole catalogue: what tells them apart is whose requests are whose.
    Contract.objects.bulk_create(Contract(organisation=organisation, service=service, starts_on=date(2000, 1, 1))
                                 for service in Service.objects.all())
    unit = Unit.objects.create(name=f"{name} Front", slug=f"{slug}-front", side=Side.FRONT, organisation=organisation)
    people = {
        role: make_person(f"{slug}_{role}", unit, {"lead": Role.LEAD, "executive": Role.EXECUTIVE,
                                                   "admin": Role.ADMIN}.get(role, Role.MEMBER),
                          first=f"{name}{role.title()}", last=f"{name}son")
        for role in ROLES
    }
    return Client(organisation, unit, people)


def give_history(cast: Cast, client: Client) -> None:
    """A case with two requests (one resolved and rated, with a comment and a file), another
    member's request and a confidential one: every kind of row that hangs off a request."""
    tag = client.organisation.slug.upper()
    member, colleague = client.people["member"], client.people["colleague"]
    case = actions.create_case(member, customer_reference=f"{tag}-CUST-1", title=f"{tag} customer matter")
    client.cases.append(case)
    intake = {"worker": f"{tag} worker", "hours": "37.5", "week_ending": "2026-11-20", "reason": "Overtime"}
    done = actions.submit_request(member, cast.timesheet, intake, title=f"{tag} hours fix", case_id=case.pk).request
    result = actions.add_comment(cast.payroll_agent, done.pk, f"{tag} note from payroll",
                                 files=[SimpleUploadedFile(f"{tag}-file.pdf", b"%PDF-1.4 " + tag.encode())])
    actions.assign_request(cast.payroll_agent, done.pk, cast.payroll_agent.pk, reason="the matrix")
    actions.start_request(cast.payroll_agent, done.pk)
    actions.resolve_request(cast.payroll_agent, done.pk, f"{tag} fixed")
    voice.rate_request(member, done.pk, 4, f"{tag} verdict")
    voice.answer_rating(cast.payroll_agent, done.pk, f"{tag} thanks")
    waiting = actions.submit_request(colleague, cast.timesheet, intake, title=f"{tag} second ask", case_id=case.pk).request
    secret = actions.submit_request(member, cast.grievance, {"details": f"{tag} grievance"}, title=f"{tag} grievance").request
    client.requests += [ServiceRequest.objects.get(pk=sr.pk) for sr in (done, waiting, secret)]
    client.comments += list(Comment.objects.filter(request=done))
    client.files += list(Attachment.objects.filter(request=done))
    del result


def build_two_clients(cast: Cast) -> TwoClients:
    world = TwoClients(add_client("Alpha"), add_client("Bravo"))
    give_history(cast, world.alpha)
    give_history(cast, world.bravo)
    return world
