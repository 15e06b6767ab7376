"""Every change to the service catalogue, one named function each.

Each action owns its transaction (``durable=True``), locks the service it changes (so that two
editors reordering one intake form cannot interleave), checks that the actor leads the
providing unit (or is an administrator), and validates through the models' own rules,
refusing with per-field messages (``tandem.org.actions.check``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Literal

from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from tandem.catalogue.models import (
    ApprovalBy,
    CutOff,
    IntakeField,
    ProcedureStep,
    ReviewAction,
    Service,
    ServiceEvent,
    ServiceReview,
    ServiceSkill,
    Weekday,
)
from tandem.objections import objections
from tandem.org.actions import Errors, check, errors_of, refuse_if, refuses_races
from tandem.org.models import Person, PersonSkill, Side, Skill, Unit
from tandem.org.queries import can_edit_catalogue
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound

Direction = Literal["up", "down"]


def _editable(actor: Person, service_id: int) -> Service:
    """The service, row-locked, when the actor may edit it."""
    service = (
        Service.objects.select_related("unit")
        .select_for_update(of=("self",))
        .filter(pk=service_id)
        .first()
    )
    if service is None:
        raise NotFound(f"There is no service {service_id}.")
    if not can_edit_catalogue(actor, service.unit_id):
        raise Forbidden(
            f"Only {service.unit.name}'s lead or an administrator can change {service.name}; "
            "ask them, or add a comment on a request."
        )
    return service


def _service_errors(service: Service, unit: Unit, owner: Person) -> Errors:
    errors = errors_of(service)
    if unit.side != Side.BACK:
        errors["unit"] = [
            f"{unit.name} is a front-office unit; services are provided by back-office units. "
            "Choose a back-office unit."
        ]
    if not owner.user.is_active:
        errors.setdefault("owner", []).append(
            f"{owner.display_name} is deactivated; choose an active person as the owner."
        )
    if service.turnaround_days is not None and service.turnaround_days < 1:
        errors.setdefault("turnaround_days", []).append("The turnaround is at least 1 working day.")
    return errors


@refuses_races
def create_service(
    actor: Person,
    *,
    unit: Unit,
    owner: Person,
    name: str,
    slug: str,
    summary: str,
    scope_includes: str,
    scope_excludes: str = "",
    turnaround_days: int,
    confidential: bool = False,
    external_allowed: bool = True,
    active: bool = False,
    last_reviewed_on: date | None = None,
) -> Service:
    """A new catalogue entry. New services usually start unpublished (``active=False``) so that
    the intake form can be built before anyone can ask."""
    if not can_edit_catalogue(actor, unit.pk):
        raise Forbidden(
            f"Only {unit.name}'s lead or an administrator can add services to its catalogue."
        )
    with action_transaction():
        service = Service(
            unit=unit,
            owner=owner,
            name=name.strip(),
            slug=slug.strip(),
            summary=summary.strip(),
            scope_includes=scope_includes.strip(),
            scope_excludes=scope_excludes.strip(),
            turnaround_days=turnaround_days,
            confidential=confidential,
            external_allowed=external_allowed,
            active=active,
            last_reviewed_on=last_reviewed_on or timezone.localdate(),
        )
        refuse_if(_service_errors(service, unit, owner), "service")
        service.save()
        return service


@refuses_races
def update_service(
    actor: Person,
    service_id: int,
    *,
    unit: Unit,
    owner: Person,
    name: str,
    slug: str,
    summary: str,
    scope_includes: str,
    scope_excludes: str,
    turnaround_days: int,
    confidential: bool,
    external_allowed: bool,
    active: bool,
    last_reviewed_on: date,
) -> Service:
    with action_transaction():
        service = _editable(actor, service_id)
        errors: Errors = {}
        if unit.pk != service.unit_id:
            if not can_edit_catalogue(actor, unit.pk):
                raise Forbidden(f"Only an administrator can move a service to {unit.name}.")
            waiting = objections("service.moving", service=service)
            if waiting:
                errors["unit"] = waiting
        previous_owner_id = service.owner_id
        service.unit, service.owner = unit, owner
        service.name, service.slug, service.summary = name.strip(), slug.strip(), summary.strip()
        service.scope_includes, service.scope_excludes = (
            scope_includes.strip(),
            scope_excludes.strip(),
        )
        service.turnaround_days = turnaround_days
        service.confidential, service.external_allowed, service.active = (
            confidential,
            external_allowed,
            active,
        )
        service.last_reviewed_on = last_reviewed_on
        errors.update(_service_errors(service, unit, owner))
        refuse_if(errors, "service")
        service.save()
        if owner.pk != previous_owner_id:
            _owner_event(service, actor, previous_owner_id, owner)
        return service


def _owner_event(service: Service, actor: Person, previous_owner_id: int, owner: Person) -> None:
    ServiceEvent.objects.create(
        service=service, kind=ServiceEvent.Kind.OWNER_CHANGED, actor=actor,
        data={"from": previous_owner_id, "to": owner.pk, "to_name": owner.display_name},
    )


def transfer_ownership(actor: Person, service_id: int, owner_id: int) -> Service:
    """Make another person the one accountable owner (there is only ever one)."""
    with action_transaction():
        service = _editable(actor, service_id)
        owner = Person.objects.select_related("user").filter(pk=owner_id).first()
        if owner is None:
            raise Invalid(f"There is no person {owner_id}; choose the new owner from the list.",
                          errors={"owner": ["Unknown person."]})
        if not owner.user.is_active:
            raise Invalid(f"{owner.display_name}'s account is deactivated; choose an active person as owner.",
                          errors={"owner": ["Deactivated."]})
        if owner.pk == service.owner_id:
            raise Invalid(f"{owner.display_name} already owns {service.name}.", errors={"owner": ["Same owner."]})
        previous = service.owner_id
        service.owner = owner
        service.save(update_fields=["owner"])
        _owner_event(service, actor, previous, owner)
        return service


@dataclass(frozen=True)
class FollowUp:
    description: str
    owner_id: int | None
    due_on: date | None


def record_review(
    actor: Person, service_id: int, *, reviewer_id: int | None, reviewed_on: date, findings: str,
    decisions: str = "", follow_ups: Iterable[FollowUp] = (), figures: dict | None = None,
) -> ServiceReview:
    """Record a process review: it resets the review clock of the service."""
    errors: Errors = {}
    findings, decisions = (findings or "").strip(), (decisions or "").strip()
    reviewer = Person.objects.filter(pk=reviewer_id).first() if reviewer_id else None
    if reviewer is None:
        errors["reviewer"] = ["A review needs a reviewer: choose the person who carried it out."]
    if not findings:
        errors["findings"] = ["Write what the review found, even if it is \"all as documented\"."]
    if reviewed_on > timezone.localdate():
        errors["reviewed_on"] = ["A review cannot be recorded before it happened; use today's date or earlier."]
    follow_ups = list(follow_ups)
    for n, f in enumerate(follow_ups, start=1):
        if not f.description.strip():
            errors.setdefault("actions", []).append(f"Follow-up {n} needs a description.")
        if f.owner_id is None or not Person.objects.filter(pk=f.owner_id, user__is_active=True).exists():
            errors.setdefault("actions", []).append(f"Follow-up {n} needs an active owner.")
        if f.due_on is None:
            errors.setdefault("actions", []).append(f"Follow-up {n} needs a due date.")
        elif f.due_on < reviewed_on:
            errors.setdefault("actions", []).append(f"Follow-up {n} is due before the review; give a later date.")
    refuse_if(errors, "review")
    assert reviewer is not None
    with action_transaction():
        service = _editable(actor, service_id)
        review = ServiceReview.objects.create(
            service=service, reviewed_on=reviewed_on, reviewer=reviewer, findings=findings, decisions=decisions,
            figures=figures or {}, recorded_by=actor,
        )
        ReviewAction.objects.bulk_create([
            ReviewAction(review=review, description=f.description.strip()[:300], owner_id=f.owner_id or 0,
                         due_on=f.due_on or reviewed_on)
            for f in follow_ups  # complete by now: refused above otherwise
        ])
        if reviewed_on > service.last_reviewed_on:
            service.last_reviewed_on = reviewed_on
            service.save(update_fields=["last_reviewed_on"])
        ServiceEvent.objects.create(service=service, kind=ServiceEvent.Kind.REVIEWED, actor=actor,
                                    data={"review": review.pk, "reviewed_on": reviewed_on.isoformat()})
        return review


def mark_service_reviewed(actor: Person, service_id: int, *, today: date | None = None) -> Service:
    """Record that the owner or lead checked the entry (scope, form, turnaround) is still true."""
    with action_transaction():
        service = _editable(actor, service_id)
        service.last_reviewed_on = today or timezone.localdate()
        service.save(update_fields=["last_reviewed_on"])
        return service


# --- the intake form ---------------------------------------------------------------------------


def _renumber(items: models.QuerySet) -> None:
    """Positions 1..n in the current order (the order never has gaps or ties after an edit)."""
    for position, item in enumerate(items.order_by("position", "id"), start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])


def _move(items: models.QuerySet, item_id: int, direction: Direction, what: str) -> None:
    if direction not in ("up", "down"):
        raise Invalid("Move up or down.", errors={"direction": ["Choose up or down."]})
    ordered = list(items.order_by("position", "id"))
    index = next((i for i, item in enumerate(ordered) if item.pk == item_id), None)
    if index is None:
        raise NotFound(f"That {what} no longer exists; reload the page.")
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        raise Conflict(f"That {what} is already {'first' if direction == 'up' else 'last'}.")
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])


def clean_choices(lines: Iterable[str]) -> list[str]:
    """Choices as typed, one per line: blanks dropped, repeats kept once, order kept."""
    seen: dict[str, None] = {}
    for line in lines:
        value = line.strip()
        if value:
            seen.setdefault(value, None)
    return list(seen)


@refuses_races
def save_intake_field(
    actor: Person,
    service_id: int,
    field_id: int | None = None,
    *,
    key: str,
    label: str,
    kind: str,
    required: bool = True,
    help_text: str = "",
    choices: Iterable[str] = (),
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    days_past: int | None = None,
    days_ahead: int | None = None,
    weekday: int | None = None,
    pattern: str = "",
    pattern_message: str = "",
) -> IntakeField:
    """Add a field at the end of the intake form (``field_id=None``) or change one. The key is
    derived from the label when left empty. The rules on its values are all given each time
    (None or "": no such rule), and refused when they contradict each other or the kind."""
    with action_transaction():
        service = _editable(actor, service_id)
        field = intake_field(
            service, field_id, key=key, label=label, kind=kind, required=required, help_text=help_text,
            choices=choices, min_value=min_value, max_value=max_value, days_past=days_past,
            days_ahead=days_ahead, weekday=weekday, pattern=pattern, pattern_message=pattern_message,
        )
        refuse_if(intake_field_errors(service, field), "intake field")
        field.save()
        return field


def intake_field(
    service: Service,
    field_id: int | None = None,
    *,
    key: str,
    label: str,
    kind: str,
    required: bool = True,
    help_text: str = "",
    choices: Iterable[str] = (),
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    days_past: int | None = None,
    days_ahead: int | None = None,
    weekday: int | None = None,
    pattern: str = "",
    pattern_message: str = "",
) -> IntakeField:
    """The intake field as the editor would save it (not saved): a new one at the end of the
    form, or ``field_id`` changed. Refused when ``field_id`` is not the service's, or when the
    change would take the run's date field away."""
    if field_id is None:
        last = service.fields.aggregate(last=models.Max("position"))["last"] or 0
        field = IntakeField(service=service, position=last + 1)
    else:
        found = service.fields.filter(pk=field_id).first()
        if found is None:
            raise NotFound(f"{service.name} has no intake field {field_id}; reload the page.")
        field = found
    key = key.strip() or slugify(label).replace("-", "_")[:60]
    if field.pk and field.key == service.run_field and (key != field.key or kind != IntakeField.Kind.DATE):
        raise Invalid(
            f"“{field.label}” names the run a request is for, so it stays a date field with its key; "
            "choose another field (or none) under Cut-offs first.",
            errors={"kind": ["The run's date field stays a date."]},
        )
    field.key, field.label, field.kind, field.required = key, label.strip(), kind, required
    field.help_text = help_text.strip()
    field.choices = clean_choices(choices) if kind == IntakeField.Kind.CHOICE else []
    field.min_value, field.max_value = min_value, max_value
    field.days_past, field.days_ahead, field.weekday = days_past, days_ahead, weekday
    field.pattern, field.pattern_message = pattern.strip(), pattern_message.strip()
    return field


def intake_field_errors(service: Service, field: IntakeField, *, other_keys: Iterable[str] | None = None) -> Errors:
    """What the editor refuses in an intake field. ``other_keys``: the keys of the form's other
    fields (default: those saved)."""
    # The service is ours, so leave it out of the model's checks: that also skips the
    # (service, key) constraint, whose generic message the check below says better.
    errors = errors_of(field, exclude=["service"])
    taken = (set(other_keys) if other_keys is not None
             else set(service.fields.exclude(pk=field.pk).values_list("key", flat=True)))
    if field.key and "key" not in errors and field.key in taken:
        errors["key"] = [f"{service.name} already has a field with the key {field.key!r}; choose another key."]
    if field.kind == IntakeField.Kind.CHOICE and not field.choices:
        errors["choices"] = ["A choice field needs its choices: write one per line."]
    return errors


def remove_intake_field(actor: Person, service_id: int, field_id: int) -> None:
    """Earlier requests keep the values they were given; new requests no longer ask for it."""
    with action_transaction():
        service = _editable(actor, service_id)
        if service.run_field and service.fields.filter(pk=field_id, key=service.run_field).exists():
            raise Conflict(
                f"That field names the run a request of {service.name} is for; choose another field "
                "(or none) under Cut-offs before removing it."
            )
        deleted, _ = service.fields.filter(pk=field_id).delete()
        if not deleted:
            raise NotFound("That intake field no longer exists; it may have been removed already.")
        _renumber(service.fields.all())


def move_intake_field(actor: Person, service_id: int, field_id: int, direction: Direction) -> None:
    with action_transaction():
        service = _editable(actor, service_id)
        _move(service.fields.all(), field_id, direction, "intake field")


# --- cut-offs, required skills, procedure -----------------------------------------------------


def add_cutoff(
    actor: Person, service_id: int, *, weekday: int, time: time, description: str,
    run_weekday: int | None = None, run_name: str = "",
) -> CutOff:
    with action_transaction():
        service = _editable(actor, service_id)
        cutoff = CutOff(
            service=service, weekday=weekday, time=time, description=description.strip(),
            run_weekday=run_weekday, run_name=(run_name or "").strip(),
        )
        errors = errors_of(cutoff)
        if service.cutoffs.filter(organisation__isnull=True, weekday=weekday, time=time).exists():
            errors.setdefault("time", []).append(
                f"{service.name} already has a cut-off on {Weekday(weekday).label} "
                f"at {time:%H:%M}; "
                "remove it first to replace it."
            )
        refuse_if(errors, "cut-off")
        cutoff.save()
        return cutoff


def set_run_field(actor: Person, service_id: int, key: str) -> Service:
    """Name the date field of the intake form that says which run a request is for (blank: none)."""
    with action_transaction():
        service = _editable(actor, service_id)
        key = (key or "").strip()
        if key and not service.fields.filter(key=key, kind=IntakeField.Kind.DATE).exists():
            dates = ", ".join(service.fields.filter(kind=IntakeField.Kind.DATE).values_list("label", flat=True))
            raise Invalid(
                f"{service.name} has no date field {key!r} to name a run by; "
                + (f"its date fields are: {dates}." if dates else "add a date field to its intake form first."),
                errors={"run_field": ["Choose one of the service's date fields, or none."]},
            )
        service.run_field = key
        service.save(update_fields=["run_field"])
        return service


def set_approval(
    actor: Person, service_id: int, approver_id: int | None, field: str = "", above: Decimal | None = None,
    *, by: str = ApprovalBy.NAMED, approver_field: str = "", remind_days: int | None = None,
) -> Service:
    """Who approves the service's requests before work starts: the named approver (None:
    nobody), the requester's lead (``by="lead"``) or the person named in the email field
    ``approver_field`` (``by="field"``); optionally only the requests whose number ``field`` is
    above ``above`` (docs/approvals.md)."""
    with action_transaction():
        service = _editable(actor, service_id)
        field, approver_field = (field or "").strip(), (approver_field or "").strip()
        errors: Errors = {}
        approver = None
        if by not in ApprovalBy.values:
            errors["by"] = [f"Say who approves: one of {', '.join(ApprovalBy.values)}."]
        elif by != ApprovalBy.NAMED and approver_id is not None:
            errors["approver"] = [f"Leave the approver empty: {ApprovalBy(by).label.lower()} approves."]
        elif approver_id is not None:
            approver = Person.objects.filter(pk=approver_id, user__is_active=True).first()
            if approver is None:
                errors["approver"] = ["Choose an active person."]
        _check_fields(service, by, approver_field, IntakeField.Kind.EMAIL, "approver_field", errors)
        _check_fields(service, "number", field, IntakeField.Kind.NUMBER, "approval_field", errors)
        if bool(field) != (above is not None):
            errors["approval_above" if field else "approval_field"] = [
                "Give both the number field and the amount above which approval is needed, or neither."
            ]
        if (field or above is not None) and approver_id is None and by == ApprovalBy.NAMED:
            errors["approver"] = ["Name the approver the amount rule sends requests to."]
        if above is not None and not (Decimal("-1e13") < above < Decimal("1e13")):
            errors["approval_above"] = ["Give an amount of at most 13 digits."]
        if remind_days is not None and not 0 <= remind_days <= 30:
            errors["approval_remind_days"] = ["Remind after 0 (never) to 30 working days."]
        if errors:
            said = " ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
            raise Invalid(f"The approval rule of {service.name} cannot be saved. {said}", errors=errors)
        service.approver, service.approval_by, service.approver_field = approver, by, approver_field
        service.approval_field, service.approval_above = field, above
        if remind_days is not None:
            service.approval_remind_days = remind_days
        service.save(update_fields=["approver", "approval_by", "approver_field", "approval_field", "approval_above",
                                    "approval_remind_days"])
        return service


def _check_fields(service: Service, by: str, key: str, kind: str, name: str, errors: Errors) -> None:
    """The approval rule's ``key`` names a field of ``kind`` of the service (the approver's
    email field is needed exactly when the person named in a field approves)."""
    kinds = IntakeField.Kind(kind).label.lower()
    if by == ApprovalBy.FIELD and not key:
        errors[name] = [f"Name the {kinds} field of {service.name}'s form that names the approver."]
    elif key and by not in (ApprovalBy.FIELD, "number"):
        errors[name] = ["Leave the approver's field empty unless the person named in a field approves."]
    elif key and not service.fields.filter(key=key, kind=kind).exists():
        keys = ", ".join(service.fields.filter(kind=kind).values_list("key", flat=True))
        errors[name] = [
            f"{service.name} has no {kinds} field {key!r}; "
            + (f"its {kinds} fields are: {keys}." if keys else f"add a {kinds} field to its form first.")
        ]


def remove_cutoff(actor: Person, service_id: int, cutoff_id: int) -> None:
    with action_transaction():
        service = _editable(actor, service_id)
        deleted, _ = service.cutoffs.filter(pk=cutoff_id).delete()
        if not deleted:
            raise NotFound("That cut-off no longer exists; it may have been removed already.")


def set_required_skill(
    actor: Person, service_id: int, *, skill: Skill, min_level: int
) -> ServiceSkill:
    """Add a required skill, or change the minimum level of one already required."""
    if min_level not in PersonSkill.Level.values:
        raise Invalid(
            "The minimum level is 1 (learning) to 4 (expert).",
            errors={"min_level": ["Choose a level."]},
        )
    with action_transaction():
        service = _editable(actor, service_id)
        need, _ = ServiceSkill.objects.update_or_create(
            service=service, skill=skill, defaults={"min_level": min_level}
        )
        return need


def remove_required_skill(actor: Person, service_id: int, skill_id: int) -> None:
    with action_transaction():
        service = _editable(actor, service_id)
        deleted, _ = service.skill_needs.filter(skill_id=skill_id).delete()
        if not deleted:
            raise NotFound("That skill is not required any more; reload the page.")


def save_procedure_step(
    actor: Person, service_id: int, step_id: int | None = None, *, text: str
) -> ProcedureStep:
    """Add a step at the end of the procedure (``step_id=None``) or reword one."""
    with action_transaction():
        service = _editable(actor, service_id)
        if step_id is None:
            last = service.steps.aggregate(last=models.Max("position"))["last"] or 0
            step = ProcedureStep(service=service, position=last + 1)
        else:
            found = service.steps.filter(pk=step_id).first()
            if found is None:
                raise NotFound(f"{service.name} has no procedure step {step_id}; reload the page.")
            step = found
        step.text = text.strip()
        check(step, "procedure step")
        step.save()
        return step


def move_procedure_step(actor: Person, service_id: int, step_id: int, direction: Direction) -> None:
    with action_transaction():
        service = _editable(actor, service_id)
        _move(service.steps.all(), step_id, direction, "procedure step")


def remove_procedure_step(actor: Person, service_id: int, step_id: int) -> None:
    with action_transaction():
        service = _editable(actor, service_id)
        deleted, _ = service.steps.filter(pk=step_id).delete()
        if not deleted:
            raise NotFound(
                "That procedure step no longer exists; it may have been removed already."
            )
        _renumber(service.steps.all())
