"""Cases, service requests, their append-only events, and comments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.catalogue.runs import run_words
from tandem.org.models import Person, Unit


class Status(models.TextChoices):
    """Statuses of a service request. Colours are CSS tokens used by the pages."""

    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_REQUESTER = "waiting_requester", "Waiting on requester"
    WAITING_THIRD_PARTY = "waiting_third_party", "Waiting on third party"
    WAITING_TEAM = "waiting_team", "Waiting on another team"
    WAITING_APPROVAL = "waiting_approval", "Waiting on approver"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    REOPENED = "reopened", "Reopened"
    DECLINED = "declined", "Declined"

    @property
    def colour(self) -> str:
        return STATUS_COLOURS[self.value]


STATUS_COLOURS = {
    "new": "blue",
    "assigned": "indigo",
    "in_progress": "teal",
    "waiting_requester": "amber",
    "waiting_third_party": "orange",
    "waiting_team": "purple",
    "waiting_approval": "amber",
    "resolved": "green",
    "closed": "grey",
    "cancelled": "grey",
    "reopened": "red",
    "declined": "grey",
}

OPEN_STATUSES = frozenset(
    {
        Status.NEW,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.WAITING_REQUESTER,
        Status.WAITING_THIRD_PARTY,
        Status.WAITING_TEAM,
        Status.REOPENED,
        Status.WAITING_APPROVAL,
    }
)
FINAL_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED, Status.DECLINED})
# Open and not resolved: where an agreement clock can fall due (the breach worker's indexes).
# A request waiting on its approver cannot: its clock is paused and its deadlines are NULL
# until the approval (nor is it work of its unit's queue yet).
OPEN_STATUS_VALUES = sorted(s.value for s in OPEN_STATUSES - {Status.WAITING_APPROVAL})

# The life cycle: every status change an action may make. Anything else is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    # A service that requires approval sends a new request straight to its approver
    # (tandem.work.actions.approvals); approved, it is new again, in the queue.
    Status.NEW: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.CANCELLED, Status.WAITING_APPROVAL}),
    Status.WAITING_APPROVAL: frozenset({Status.NEW, Status.DECLINED, Status.CANCELLED}),
    Status.ASSIGNED: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.NEW, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset(
        {Status.ASSIGNED, Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY, Status.WAITING_TEAM,
         Status.RESOLVED, Status.CANCELLED}
    ),
    Status.WAITING_REQUESTER: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.WAITING_THIRD_PARTY: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.WAITING_TEAM: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.REOPENED: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.CANCELLED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.DECLINED: frozenset(),
}


class Channel(models.TextChoices):
    INTERNAL = "internal", "Internal"
    EXTERNAL = "external", "External (customer)"


class Case(models.Model):
    """The customer's matter, owned by a front-office person; it groups service requests."""

    class CaseStatus(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    customer_reference = models.CharField(max_length=80)
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=6, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    # Its number within its unit's organisation, as a request's (docs/isolation.md, "References"):
    # C-000123 the provider's own (those older than numbering keep their id), C-NORTHERN-000007 a
    # client's, whatever other clients open. Given when opened (tandem.work.numbering); NULL only
    # for a case the release before wrote during an upgrade, until the worker numbers it.
    organisation = models.ForeignKey(
        "org.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Whose numbering its number is in (blank: the provider's own).",
    )
    number: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(  # type: ignore[misc]
        null=True, help_text="Its number within its unit's organisation.")
    reference: models.CharField[str, str] = models.CharField(  # type: ignore[misc]  # noqa: DJ001
        max_length=80, unique=True, null=True, help_text="C-000042, or C-NORTHERN-000042 for a client's.")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="case_owner_recent"),
            models.Index(fields=["id"], condition=models.Q(number__isnull=True), name="case_unnumbered"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], condition=models.Q(organisation__isnull=False),
                                    name="case_one_number_per_client"),
            models.UniqueConstraint(fields=["number"], condition=models.Q(organisation__isnull=True),
                                    name="case_one_number_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_reference}: {self.title}"

    @property
    def address_key(self) -> str:
        """What its addresses carry (``/cases/<key>/``): a client's case its reference, so that no
        address a client reads shows the id every client's cases share; the provider's its id."""
        return str(self.pk) if self.organisation_id is None else self.reference


class ServiceRequest(models.Model):
    """One ask from a person to one service."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="requests")
    # Denormalised from the service and the requester so that queues and access checks are
    # single-index lookups at a million rows.
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="incoming_requests")
    requesting_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="outgoing_requests")
    confidential = models.BooleanField(default=False)
    requester = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="requests_made")
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests")
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.INTERNAL)
    title = models.CharField(max_length=200)
    intake = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    is_open = models.BooleanField(default=True)
    assignee = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="requests_assigned"
    )
    waiting_on = models.CharField(
        max_length=200, blank=True, help_text="What or whom the request waits for, in words."
    )
    waiting_on_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The other back-office team it waits for, while waiting on another team.",
    )
    resolution = models.TextField(blank=True)
    # Approval (docs/approvals.md): the person whose yes the request waits for before work
    # starts, set at submission when its service requires approval; kept after the decision.
    approver = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="approvals_asked",
        help_text="Who approves it before work starts (blank: its service needs no approval).",
    )
    approved_at = models.DateTimeField(null=True, blank=True, help_text="When its approver approved it.")
    # When its waiting approver is next reminded (the worker's deadline; docs/approvals.md).
    approval_remind_at = models.DateTimeField(
        null=True, blank=True, help_text="While it waits for approval: when the approver is next reminded."
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(help_text="Published turnaround, from submission, in working days.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Submission replay protection: the same key from the same requester creates one request.
    # NULL, not "", when absent: the unique constraint below must ignore keyless submissions.
    idempotency_key = models.CharField(max_length=80, null=True, blank=True)  # noqa: DJ001
    submission_digest = models.CharField(max_length=64, blank=True)
    last_event_seq = models.PositiveIntegerField(default=0)
    # The agreement clock (tandem.work.clock keeps these right; docs/agreements.md).
    # Targets are copied at submission so that editing an agreement never rewrites history.
    agreement = models.ForeignKey(
        "agreements.Agreement", on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    respond_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="First-response target.")
    resolve_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Resolution target.")
    respond_by = models.DateTimeField(null=True, blank=True)
    resolve_by = models.DateTimeField(null=True, blank=True, help_text="NULL while the clock is paused.")
    warn_at = models.DateTimeField(null=True, blank=True, help_text="80 % of the target used.")
    paused_seconds = models.PositiveIntegerField(default=0, help_text="Working seconds of ended pauses.")
    clock_paused_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    breach_warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    response_alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker reported a missed first response."
    )
    # Cut-offs and runs (tandem.engines.agreements.cutoffs; docs/agreements.md "Cut-offs and
    # runs"): set at submission for a service with cut-offs. Words are copied, so a later edit of
    # the service's cut-offs never rewrites history.
    run_on = models.DateField(null=True, blank=True, help_text="The date of the run the request is in.")
    run_name = models.CharField(
        max_length=80, blank=True, db_default="", help_text="What that run is: \u201cpayroll\u201d."
    )
    run_cutoff_at = models.DateTimeField(null=True, blank=True, help_text="When that run's intake closes.")
    # Written by the release before runs (a late request's next cut-off, now ``run_cutoff_at``);
    # copied by migration work 0010 and no longer read. Drop it in the release after.
    enters_processing_at = models.DateTimeField(null=True, blank=True, editable=False)
    late_for_cutoff = models.CharField(
        max_length=200, blank=True, help_text="The run it asked for and missed, in words; blank when in time."
    )
    # Its number within its requesting organisation (docs/isolation.md, "References"): each client
    # organisation numbers its requests 1, 2, 3, ... and the provider's own requests keep one
    # numbering, so that no reference a client sees counts another client's requests. Given at
    # submission (tandem.work.numbering), never changed; ``organisation`` is whose numbering
    # it is (NULL: the provider's own), copied from the requesting unit then.
    organisation = models.ForeignKey(
        "org.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Whose numbering its number is in (blank: the provider's own).",
    )
    # NULL only for a request the previous release wrote during a rolling upgrade (it knows no
    # numbers), until the worker's next round numbers it (``numbering.number_unnumbered``); typed
    # as always present because every request this release writes has one. The release after
    # makes both NOT NULL (docs/operations.md, "Upgrades without downtime": expand, then contract).
    number: models.PositiveIntegerField[int, int] = models.PositiveIntegerField(  # type: ignore[misc]
        null=True, help_text="Its number within its requesting organisation.")
    # Stored rather than computed from the organisation's slug: one index look-up finds a request
    # by what people type, a list never joins the organisation to show it, and a reference once
    # given (in a mail, a spreadsheet) keeps naming the same request.
    # NULL rather than "" for the same unnumbered requests: a unique column holds many NULLs.
    reference: models.CharField[str, str] = models.CharField(  # type: ignore[misc]  # noqa: DJ001
        max_length=80, unique=True, null=True, help_text="SR-000042, or NORTHERN-000042 for a client's.")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="one_request_per_idempotency_key",
            ),
            # One numbering per organisation; the provider's own (NULL) has its own constraint
            # because NULLs never collide in a unique index.
            models.UniqueConstraint(
                fields=["organisation", "number"], condition=models.Q(organisation__isnull=False),
                name="sr_one_number_per_client",
            ),
            models.UniqueConstraint(
                fields=["number"], condition=models.Q(organisation__isnull=True), name="sr_one_number_per_provider",
            ),
        ]
        indexes = [
            # The worker's look for requests the previous release wrote without a number: empty
            # but for a rolling upgrade's minutes, so the look costs one empty index.
            models.Index(fields=["id"], condition=models.Q(number__isnull=True), name="sr_unnumbered"),
            models.Index(fields=["unit", "channel", "is_open", "id"], name="sr_queue_open"),
            models.Index(fields=["unit", "channel", "is_open", "due_at", "id"], name="sr_queue_due"),
            # The queue's usual view sorts a unit's open requests by a computed due time, so it
            # reads them all: this index of open requests alone holds every column that sort and
            # ``requests_visible_to`` read, so they are read from it without the table (3 ms
            # instead of 50 for 12,000 open requests at a million).
            models.Index(fields=["unit", "channel", "status", "resolve_by", "due_at", "id", "requester",
                                 "approver", "confidential", "requesting_unit", "case"],
                         condition=models.Q(is_open=True), name="sr_queue_open_cover"),
            models.Index(fields=["unit", "channel", "status", "id"], name="sr_queue_status"),
            models.Index(fields=["unit", "channel", "service", "id"], name="sr_queue_service"),
            models.Index(fields=["assignee", "is_open", "id"], name="sr_assignee_open"),
            # What people away today still hold of a unit (``work_held_by_absent``): counted per
            # status and ranked by due time from the index alone, however much they hold.
            models.Index(fields=["assignee", "unit", "status", "due_at", "id"], condition=models.Q(is_open=True),
                         name="sr_assignee_unit_open"),
            models.Index(fields=["requester", "id"], name="sr_requester"),
            models.Index(fields=["requesting_unit", "id"], name="sr_requesting_unit"),
            models.Index(fields=["approver", "status"], name="sr_approver"),
            models.Index(fields=["status", "resolved_at"], name="sr_status_resolved"),
            # The reminder worker's lookup: only requests waiting for approval are in it.
            models.Index(
                fields=["approval_remind_at"], condition=models.Q(status="waiting_approval"),
                name="sr_approval_remind_due",
            ),
            # The breach worker's lookups: only open, not yet alerted requests are indexed, so
            # "what fell due" never scans the history.
            models.Index(
                fields=["resolve_by"],
                condition=models.Q(breached_at__isnull=True, status__in=OPEN_STATUS_VALUES),
                name="sr_sla_breach_due",
            ),
            models.Index(
                fields=["warn_at"],
                condition=models.Q(
                    breach_warned_at__isnull=True, breached_at__isnull=True, status__in=OPEN_STATUS_VALUES
                ),
                name="sr_sla_warn_due",
            ),
            models.Index(
                fields=["respond_by"],
                condition=models.Q(
                    first_response_at__isnull=True, response_alerted_at__isnull=True, status__in=OPEN_STATUS_VALUES
                ),
                name="sr_sla_response_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def address_key(self) -> str:
        """What its addresses carry (``/requests/<key>/``): a client's request its reference, so
        that no address shows the id every client's requests share; the provider's own its id."""
        return str(self.pk) if self.organisation_id is None else self.reference

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def agreed_due(self) -> datetime:
        """When its agreement says it is due: the clock's deadline, else (the clock paused, or
        no clock) the published turnaround."""
        return self.resolve_by or self.due_at

    @property
    def run_words(self) -> str:
        """"Fri 18 Dec's payroll": the run its service's cut-offs placed it in."""
        return run_words(self.run_on, self.run_name) if self.run_on else ""

    @property
    def holder(self) -> str:
        """Whose move it is, in words: both sides see the same answer."""
        if self.status in (Status.NEW, Status.REOPENED) and not self.assignee_id:
            return f"{self.unit.name} queue"
        if self.status in (Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED):
            return self.assignee.display_name if self.assignee else f"{self.unit.name} queue"
        if self.status == Status.WAITING_REQUESTER:
            return self.requester.display_name
        if self.status == Status.WAITING_THIRD_PARTY:
            return self.waiting_on or "a third party"
        if self.status == Status.WAITING_TEAM:
            return self.waiting_on or "another team"
        if self.status == Status.WAITING_APPROVAL:
            return f"{self.approver.display_name if self.approver else 'the approver'} (to approve)"
        if self.status == Status.RESOLVED:
            return f"{self.requester.display_name} (to accept or reopen)"
        return "nobody (finished)"


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Events are append-only: they are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Events are append-only: they are never deleted.")


class Event(models.Model):
    """An append-only record of something that happened to a service request."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ASSIGNED = "assigned", "Assigned"
        UNASSIGNED = "unassigned", "Returned to queue"
        STARTED = "started", "Started"
        ASKED_REQUESTER = "asked_requester", "Asked the requester"
        INFORMATION_PROVIDED = "information_provided", "Information provided"
        WAITING_THIRD_PARTY = "waiting_third_party", "Waiting on third party"
        WAITING_TEAM = "waiting_team", "Waiting on another team"
        RESUMED = "resumed", "Resumed"
        RESOLVED = "resolved", "Resolved"
        ACCEPTED = "accepted", "Accepted"
        REOPENED = "reopened", "Reopened"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"
        COMMENTED = "commented", "Commented"
        NOTE_ADDED = "note_added", "Internal note"
        ADVICE_GIVEN = "advice_given", "Advice given"
        ADVICE_ACKNOWLEDGED = "advice_acknowledged", "Advice acknowledged"
        ADVICE_ACCEPTED = "advice_accepted", "Advice accepted"
        ADVICE_DECLINED = "advice_declined", "Advice declined"
        CASE_LINKED = "case_linked", "Linked to case"
        AGREEMENT_CHANGED = "agreement_changed", "Agreement changed"
        SLA_WARNING = "sla_warning", "Agreed time nearly used"
        SLA_BREACHED = "sla_breached", "Agreed time missed"
        SLA_RESPONSE_MISSED = "sla_response_missed", "First response time missed"
        STEP_DONE = "step_done", "Procedure step done"
        STEP_UNDONE = "step_undone", "Procedure step unmarked"
        IMPORTED = "imported", "Imported activity"  # history loaded by `tandem import-log`
        QUEUE_JUMP = "queue_jump", "Taken ahead of the queue"
        APPROVAL_ASKED = "approval_asked", "Approval asked"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        APPROVAL_REMINDED = "approval_reminded", "Approver reminded"

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    # Internal-only events (internal notes) are hidden from the requesting side.
    internal = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)
    # The per-request hash chain (tandem.engines.auditchain; docs/audit.md): blank only until
    # a bulk loader fills them, never in a committed row.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["request", "seq"]
        constraints = [models.UniqueConstraint(fields=["request", "seq"], name="event_seq_unique")]
        indexes = [models.Index(fields=["at"], name="event_at")]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.seq} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Events are append-only: they are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("Events are append-only: they are never deleted.")


class Comment(models.Model):
    class Visibility(models.TextChoices):
        SHARED = "shared", "Both sides"
        INTERNAL = "internal", "Back office only"

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="comments")
    body = models.TextField()
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.SHARED)
    addressed_to = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="comments_addressed"
    )
    is_advice = models.BooleanField(default=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: Advice: whether the requester chose to follow it ("accepted", "declined"; blank: not yet).
    advice_outcome = models.CharField(max_length=8, blank=True, default="", db_default="")
    advice_reason = models.TextField(blank=True, default="", db_default="", help_text="Why it was declined.")
    advice_decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Where a comment came from outside the product (an email's Message-ID): the same source
    # makes one comment, however often it is delivered. NULL for comments written here.
    source_key = models.CharField(max_length=255, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["request", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"

    @property
    def internal(self) -> bool:
        return self.visibility == self.Visibility.INTERNAL


class TimeEntry(models.Model):
    """Hands-on time a person says they spent on a request ("35 min"). Where a request has any,
    their sum is its effort and replaces the estimate from its in-progress time."""

    #: One entry covers at most a working day; longer work is logged day by day.
    MAX_SECONDS = 12 * 3600

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="time_entries")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="time_entries")
    seconds = models.PositiveIntegerField()
    worked_on = models.DateField(help_text="The day the work was done, in the server's time zone.")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "worked_on", "id"]
        indexes = [models.Index(fields=["person", "worked_on"], name="time_person_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(seconds__gt=0, seconds__lte=12 * 3600), name="time_entry_seconds"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.seconds // 60} min on {self.request_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Where the storage keeps a file: never the name people gave it (that is kept in the row
    and only ever sent back in a download's header), so no name can reach another folder."""
    return f"requests/{instance.request_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file attached to a request: to one of its comments, to an intake field of type file
    (``field_key``), or to the request itself. Seen by exactly those who see that comment or
    the request's payload (``tandem.work.queries.attachments_for``)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="attachments")
    comment = models.ForeignKey(Comment, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments")
    field_key = models.CharField(max_length=60, blank=True, help_text="The intake field it answers, if any.")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(max_length=200, help_text="The name it was sent with, made safe.")
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "id"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.name}"
class SavedView(models.Model):
    """A team queue's filter, saved by a lead under a name for everyone who works the queue."""

    NAME_LIMIT = 60

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=NAME_LIMIT)
    #: The queue's filters as its address's query string (``status=waiting_requester&sort=oldest``).
    query = models.CharField(max_length=500)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="saved_view_name_unique")]

    def __str__(self) -> str:
        return f"{self.unit}: {self.name}"
