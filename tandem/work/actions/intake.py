"""Submitting a request: the intake validated through the service's form, its run placed,
the agreement's clock started, the first event written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.files import File
from django.db import IntegrityError
from django.forms import Form
from django.utils import timezone

from tandem.agreements.queries import calendar_for_request, terms_for, turnaround_due
from tandem.catalogue import runs
from tandem.catalogue.approvals import approval_reason, approver_for
from tandem.catalogue.intake import intake_form_class, server_today, to_json
from tandem.catalogue.models import IntakeField, Service
from tandem.catalogue.queries import is_contracted
from tandem.org.models import Person
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Invalid, NotFound
from tandem.rows import one_or_none
from tandem.work import clock
from tandem.work.actions.approvals import ask_approval_locked
from tandem.work.actions.attachments import check_files, discarded_on_failure, store
from tandem.work.actions.moves import TITLE_LIMIT, _append_event, _check_text
from tandem.work.models import Case, Channel, Comment, Event, ServiceRequest, Status
from tandem.work.numbering import give_number
from tandem.work.queries import cases_visible_to


@dataclass(frozen=True)
class Submission:
    request: ServiceRequest
    created: bool  # False when an idempotency key replayed an earlier submission


def validate_intake(
    service: Service, data: dict[str, Any], *, strict: bool, today: date | None = None,
    files: Mapping[str, File] | None = None,
) -> dict[str, Any]:
    """Clean intake values through the service's generated form, or refuse with field errors.

    ``strict`` refuses keys the form does not know (the API); pages only post known fields.
    Date rules count from ``today``, the server's today unless given. Errors are keyed by the
    field's key (where the page puts them, and ``intake.<key>`` in the API) and the message
    names each field by its label, as the requester sees it.
    """
    form = intake_form_class(service, today=today)(data=data, files=dict(files or {}))  # type: ignore[arg-type]
    errors: dict[str, list[str]] = {}
    if strict:
        asked = ", ".join(str(f.label) for f in form.fields.values()) or "nothing"
        for key in sorted(set(data) - set(form.fields)):
            errors[key] = [
                f"{service.name} has no field {key!r}; it asks for: {asked} "
                f"(GET /api/services/{service.slug} gives their keys)."
            ]
    if not form.is_valid():
        for key, messages in form.errors.items():
            errors[key] = [str(m) for m in messages]
    if errors:
        raise Invalid(intake_refusal(form, errors), errors=errors)
    # A file field's value is the file (kept by the submission as an attachment), not data.
    return {
        key: to_json(value) for key, value in form.cleaned_data.items()
        if value not in (None, "", False) and not isinstance(value, File)
    }


def intake_refusal(form: Form, errors: dict[str, list[str]]) -> str:
    """One message naming each field at fault by its label, with what to fix."""
    said = [
        f"{form.fields[key].label if key in form.fields else 'Unknown field'}: {' '.join(messages)}"
        for key, messages in errors.items()
    ]
    return f"Some details are missing or wrong. {' '.join(said)} Correct them and submit again."


def submit_request(
    actor: Person,
    service: Service,
    intake: dict[str, Any],
    *,
    channel: str = Channel.INTERNAL,
    title: str = "",
    case_id: int | None = None,
    idempotency_key: str | None = None,
    strict: bool = False,
    now: datetime | None = None,
    files: Sequence[File] = (),
    field_files: Mapping[str, File] | None = None,
    comment: str = "",
    comment_source_key: str | None = None,
) -> Submission:
    """``files``: attachments of the request; ``field_files``: the files of its intake fields
    of type file, by key. All are checked against the service's limits before anything is
    saved; the intake keeps each field file's name. ``comment``: the requester's first comment
    (a request by email: its text), written with the request in its transaction, with its own
    event; ``comment_source_key`` is where it came from (the email), as ``add_comment`` keeps it."""
    if not service.active:
        raise NotFound(f"The service {service.name!r} is not published; choose another from the catalogue.")
    organisation_id = actor.unit.organisation_id
    if not is_contracted(organisation_id, service.pk):
        # Pages, the API and mail intake all come here: nothing is created for a service the
        # requester's organisation has not contracted (docs/organisations.md).
        message = (
            f"Your organisation has not contracted {service.name}; choose a service from your "
            "catalogue, or ask your provider to add it to your contract."
        )
        raise Invalid(message, errors={"service": [message]})
    if channel not in Channel.values:
        raise Invalid(f"Channel must be one of: {', '.join(Channel.values)}.", errors={"channel": ["Unknown channel."]})
    if channel == Channel.EXTERNAL and not service.external_allowed:
        raise Invalid(
            f"{service.name} takes internal requests only; submit it on the internal channel.",
            errors={"channel": ["Internal only for this service."]},
        )
    field_files = {k: v for k, v in (field_files or {}).items() if v}
    cleaned = validate_intake(service, intake, strict=strict, today=server_today(now), files=field_files)
    checked = check_files(service, files)
    for key, upload in field_files.items():
        if key in {f.key for f in service.fields.all() if f.kind == IntakeField.Kind.FILE}:
            one = check_files(service, [upload], field_key=key, errors_key=key)
            checked += one
            cleaned[key] = one[0].name
    title = _check_text(title, "Title", required=False, limit=TITLE_LIMIT)
    if comment:
        comment = _check_text(comment, "Comment")
    case = None
    if case_id is not None:
        case = cases_visible_to(actor.user).filter(pk=case_id).first()
        if case is None:
            raise Invalid(f"There is no case {case_id} that you can see.", errors={"case": ["Unknown case."]})
        if case.status != Case.CaseStatus.OPEN:
            raise Invalid(f"Case {case.reference} is closed; choose an open case.", errors={"case": ["Closed."]})
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 1 <= len(idempotency_key) <= 80:
            raise Invalid(
                "An idempotency key has 1 to 80 characters.", errors={"idempotency_key": ["1–80 characters."]}
            )
    digest = hashlib.sha256(
        json.dumps([service.pk, channel, title, case_id, cleaned, [(c.name, c.size) for c in checked]],
                   sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    if idempotency_key:
        earlier = _replayed(actor, idempotency_key, digest)
        if earlier is not None:
            return Submission(earlier, created=False)
    now = now or timezone.now()
    # The service's calendar and terms are resolved once, here, and stored on the request with
    # its clock: the promise, the forecasts and the alerts read them from the request.
    calendar = calendar_for_request(service, actor.unit)
    terms = terms_for(service, actor.unit_id, channel, calendar=calendar)
    due = turnaround_due(service, now, calendar)
    run = runs.place(service, now, cleaned, rows=runs.cutoffs_for(service, organisation_id))
    # A service that requires approval: the request waits on its approver from the start.
    # Who approves is settled before anything is written: nobody to ask refuses the submission.
    needs_approval = approval_reason(service, cleaned, actor.pk)
    approver = approver_for(service, cleaned, actor, api=strict) if needs_approval else None
    try:
        with discarded_on_failure() as stored, action_transaction():
            sr = ServiceRequest(
                service=service,
                unit=service.unit,
                requesting_unit=actor.unit,
                confidential=service.confidential,
                requester=actor,
                case=case,
                channel=channel,
                title=title or (f"{service.name} · {case.customer_reference}" if case else service.name),
                intake=cleaned,
                submitted_at=now,
                status_changed_at=now,
                due_at=due,
                idempotency_key=idempotency_key or None,
                submission_digest=digest,
                run_on=run.on if run else None,
                run_name=run.name if run else "",
                run_cutoff_at=run.closes if run else None,
                late_for_cutoff=run.late_for if run else "",
            )
            clock.start(sr, terms, calendar)
            give_number(sr, actor.unit.organisation)
            sr.save(force_insert=True)
            _append_event(
                sr,
                Event.Kind.SUBMITTED,
                actor,
                at=now,
                to_status=Status.NEW,
                data={"channel": channel, "case": case_id, **({"approver": approver.pk} if approver else {})},
            )
            sr.save(update_fields=["last_event_seq"])
            store(sr, checked, actor, stored)
            if comment:
                first = Comment.objects.create(request=sr, author=actor, body=comment, created_at=now,
                                               visibility=Comment.Visibility.SHARED, source_key=comment_source_key)
                _append_event(sr, Event.Kind.COMMENTED, actor, at=now, data={"comment": first.pk})
                sr.save(update_fields=["last_event_seq"])
            if approver is not None and needs_approval:
                ask_approval_locked(sr, approver, needs_approval, now=now)
    except IntegrityError:
        # Two submissions with the same key raced; the loser returns the winner's request.
        earlier = _replayed(actor, idempotency_key or "", digest)
        if earlier is None:
            raise
        return Submission(earlier, created=False)
    return Submission(sr, created=True)


def _replayed(actor: Person, key: str, digest: str) -> ServiceRequest | None:
    earlier = one_or_none(ServiceRequest.objects.filter(requester=actor, idempotency_key=key))
    if earlier is not None and earlier.submission_digest != digest:
        raise Conflict(
            f"The idempotency key {key!r} was already used for {earlier.reference} with different "
            "details. Use a new key for a new request."
        )
    return earlier
