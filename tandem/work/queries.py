"""Reads of cases and service requests, always through the permission-aware entries below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate

from tandem.catalogue.models import ProcedureStep
from tandem.org.models import Absence, Person
from tandem.org.queries import (
    AnyUser,
    client_unit_ids,
    organisation_id_of,
    person_of,
    provider_admin,
    sees_everything,
    work_unit_ids,
)
from tandem.work.models import Attachment, Case, Comment, Event, ServiceRequest, Status, TimeEntry


def requests_visible_to(user: AnyUser | None) -> QuerySet[ServiceRequest]:
    """Service requests this user may know exist.

    - the requester, the providing unit's members, admins and executives see them all;
    - colleagues of the requesting unit and the case owner see non-confidential ones, so that
      the front office can cover for each other;
    - its approver sees it, confidential or not: they decide on its details;
    - anyone else sees nothing, and a confidential request answers 404, not 403;
    - a client organisation's person sees, by the rules above, only requests made from their
      organisation's units: another client's request does not exist for them, and neither do
      requests between the provider's own units (docs/organisations.md).
    """
    person = person_of(user)
    qs = ServiceRequest.objects.all()
    if person is None:
        return qs.none()
    organisation_id = organisation_id_of(person)
    if organisation_id is not None:
        qs = qs.filter(requesting_unit_id__in=client_unit_ids(organisation_id))
    if sees_everything(person):
        return qs
    scope = Q(requester=person) | Q(unit_id__in=work_unit_ids(person)) | Q(approver=person)
    scope |= Q(confidential=False) & (Q(requesting_unit_id=person.unit_id) | Q(case__owner=person))
    return qs.filter(scope)


def approvals_waiting_for(user: AnyUser | None) -> QuerySet[ServiceRequest]:
    """The requests waiting for this person's approval, the longest waiting first: their approver
    sees them whatever their confidentiality (``requests_visible_to``)."""
    person = person_of(user)
    if person is None:
        return ServiceRequest.objects.none()
    return (requests_visible_to(user).filter(approver=person, status=Status.WAITING_APPROVAL)
            .order_by("status_changed_at", "pk"))


def can_work(person: Person | None, sr: ServiceRequest) -> bool:
    """May do back-office work on it: a member of the providing unit, or an admin of the
    provider (a client's administrator administers their organisation, not the provider's work)."""
    return provider_admin(person) or sr.unit_id in work_unit_ids(person)


def can_see_payload(person: Person | None, sr: ServiceRequest) -> bool:
    """Intake data, comments and resolution. Confidential ones stay within the requester,
    the providing unit and admins (executives see the request's path, not its content)."""
    if person is None:
        return False
    if not sr.confidential:
        return True
    return sr.requester_id == person.pk or sr.approver_id == person.pk or can_work(person, sr)


def requests_with_payload_visible_to(user: AnyUser | None) -> QuerySet[ServiceRequest]:
    """The requests whose payload this user may read: ``can_see_payload`` as a query, for the
    records of other areas that follow the payload rule (a rating and its answer)."""
    person = person_of(user)
    qs = requests_visible_to(user)
    if person is None or provider_admin(person):
        return qs
    return qs.filter(
        Q(confidential=False) | Q(requester=person) | Q(approver=person) | Q(unit_id__in=work_unit_ids(person))
    )


def can_see_internal(person: Person | None, sr: ServiceRequest) -> bool:
    """Internal notes are for the providing back office only."""
    return can_work(person, sr)


def timeline_for(person: Person | None, sr: ServiceRequest) -> QuerySet[Event]:
    events = sr.events.select_related("actor__user").order_by("seq")
    if not can_see_internal(person, sr):
        events = events.filter(internal=False)
    return events


def comments_for(person: Person | None, sr: ServiceRequest) -> QuerySet[Comment]:
    if not can_see_payload(person, sr):
        return Comment.objects.none()
    comments = sr.comments.select_related("author__user", "addressed_to__user", "acknowledged_by__user")
    if not can_see_internal(person, sr):
        comments = comments.filter(visibility=Comment.Visibility.SHARED)
    return comments


def attachments_for(person: Person | None, sr: ServiceRequest) -> QuerySet[Attachment]:
    """The files of a request this person may open: exactly who sees its payload (so a
    confidential request's files stay with the requester, the providing unit and admins, never
    executives), and a file of an internal note only for those who see internal notes."""
    if not can_see_payload(person, sr):
        return Attachment.objects.none()
    files = sr.attachments.order_by("id")
    if not can_see_internal(person, sr):
        files = files.exclude(comment__visibility=Comment.Visibility.INTERNAL)
    return files


#: How many of an away person's started requests the warning names; the rest are counted (the
#: queue filtered by that person lists them all). A page once named every one: 1,591 links for
#: one person at a million requests cost the queue a second (docs/benchmarks.md).
AWAY_NAMED = 10


@dataclass(frozen=True)
class AwayHolding:
    """Someone away today who still holds open requests of a unit: how many, how many of them
    not started (those can go straight back to the queue), and the most urgent of the started
    ones (a lead must give those to someone: the life cycle has no way back to the queue)."""

    person: Person
    absence: Absence
    held: int
    not_started: int
    started: list[ServiceRequest]  # the most urgent first, at most AWAY_NAMED
    started_count: int

    @property
    def started_not_named(self) -> int:
        return self.started_count - len(self.started)


def work_held_by_absent(unit_id: int, today: date) -> list[AwayHolding]:
    """The people away today (an absence covers it) who hold open requests of the unit, with how
    many and the most urgent started ones. Shown to the unit's leads so nothing waits unseen.

    Counted in one grouped query and named up to ``AWAY_NAMED`` a person, so the cost stays
    flat however much an absent person holds."""
    away = {
        a.person_id: a
        for a in Absence.objects.filter(starts_on__lte=today, ends_on__gte=today).order_by("ends_on")
    }
    if not away:
        return []
    held = (
        ServiceRequest.objects.filter(unit_id=unit_id, is_open=True, assignee_id__in=list(away))
        .exclude(status=Status.RESOLVED)
    )
    counts = {
        row["assignee_id"]: row
        for row in held.order_by().values("assignee_id").annotate(
            held=Count("id"), not_started=Count("id", filter=Q(status=Status.ASSIGNED))
        )
    }
    if not counts:
        return []
    rank = Window(RowNumber(), partition_by=[F("assignee_id")], order_by=[F("due_at").asc(), F("pk").asc()])
    named: dict[int, list[ServiceRequest]] = {}
    # Ranked on the ids alone (the sr_assignee_unit_open index holds all it reads), then the
    # few named rows are read whole.
    ranked = held.exclude(status=Status.ASSIGNED).annotate(rank=rank).filter(rank__lte=AWAY_NAMED)
    started = (
        ServiceRequest.objects.filter(pk__in=list(ranked.values_list("pk", flat=True)))
        .select_related("service").order_by("assignee_id", "due_at", "pk")
    )
    for sr in started:
        named.setdefault(sr.assignee_id, []).append(sr)  # type: ignore[arg-type]
    people = Person.objects.filter(pk__in=list(counts)).select_related("user").order_by("pk")
    return [
        AwayHolding(
            person,
            away[person.pk],
            held=counts[person.pk]["held"],
            not_started=counts[person.pk]["not_started"],
            started=named.get(person.pk, []),
            started_count=counts[person.pk]["held"] - counts[person.pk]["not_started"],
        )
        for person in people
    ]


def time_entries_for(person: Person | None, sr: ServiceRequest) -> QuerySet[TimeEntry]:
    """Time logged on a request: for the providing unit (the people who see its internal notes)."""
    if not can_see_internal(person, sr):
        return TimeEntry.objects.none()
    return sr.time_entries.select_related("person__user").order_by("worked_on", "id")


def cases_visible_to(user: AnyUser | None) -> QuerySet[Case]:
    """The owner's unit works its cases together; back-office units see the cases they serve."""
    person = person_of(user)
    qs = Case.objects.select_related("owner__user", "unit")
    if person is None:
        return qs.none()
    organisation_id = organisation_id_of(person)
    if organisation_id is not None:  # a client's person: their organisation's cases only
        qs = qs.filter(unit_id__in=client_unit_ids(organisation_id))
    if sees_everything(person):
        return qs
    # EXISTS per case rather than IN over every served case: stays fast with 100k cases.
    served = ServiceRequest.objects.filter(case_id=OuterRef("pk"), unit_id__in=work_unit_ids(person))
    return qs.filter(Q(owner=person) | Q(unit_id=person.unit_id) | Exists(served))


def steps_done(sr: ServiceRequest) -> dict[int, Event]:
    """The procedure steps marked done on the request: step id → the event of the mark that
    stands (a step marked done, then unmarked, is not done; marked again, the later mark counts)."""
    done: dict[int, Event] = {}
    marks = sr.events.filter(kind__in=[Event.Kind.STEP_DONE, Event.Kind.STEP_UNDONE])
    for event in marks.select_related("actor__user").order_by("seq"):
        step = event.data.get("step")
        if event.kind == Event.Kind.STEP_DONE:
            done[step] = event
        else:
            done.pop(step, None)
    return done


def procedure_for(person: Person | None, sr: ServiceRequest) -> list[tuple[ProcedureStep, Event | None]] | None:
    """The request's checklist: each step of its service's procedure with the mark that stands
    (or None). None when the person may not see it: the steps of a confidential request are for
    the requester, the providing unit and admins, as its details are."""
    if not can_see_payload(person, sr):
        return None
    done = steps_done(sr)
    return [(step, done.get(step.pk)) for step in ProcedureStep.objects.filter(service_id=sr.service_id)]


def requests_made_per_day(unit_ids: list[int], since: date, until: date) -> dict[tuple[int, date], int]:
    """How many requests the people of each unit submitted per day, ``since`` to ``until``
    inclusive (days in the site's time zone): the workload the change calendar sets beside the
    changes landing on a front-office unit. No access check: counts, not requests."""
    rows = (
        ServiceRequest.objects.filter(requesting_unit_id__in=unit_ids, submitted_at__date__gte=since,
                                      submitted_at__date__lte=until)
        .annotate(day=TruncDate("submitted_at")).order_by()
        .values("requesting_unit_id", "day").annotate(n=Count("id"))
    )
    return {(row["requesting_unit_id"], row["day"]): row["n"] for row in rows}
