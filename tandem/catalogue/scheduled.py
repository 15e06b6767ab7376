"""What a change (``tandem.changes``) does to a service it links on its effective date: a new
turnaround, a new procedure, intake fields added or removed.

Checked when the change is drafted with the service editor's own rules and messages
(``edit_errors``), and applied on the effective date through the same code the editor runs
(``apply_edit``), in the caller's transaction, recorded as a service event naming the change.
The changes app calls these; the catalogue knows nothing of changes but their id and title."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tandem.catalogue.actions import _renumber, _service_errors, intake_field, intake_field_errors
from tandem.catalogue.models import IntakeField, ProcedureStep, Service, ServiceEvent
from tandem.org.actions import Errors, errors_of, refuse_if
from tandem.refusal import Invalid, NotFound


@dataclass
class FieldIn:
    """An intake field to add at the end of the form."""

    label: str
    kind: str = IntakeField.Kind.TEXT
    key: str = ""
    required: bool = True
    help_text: str = ""
    choices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.kind, "key": self.key, "required": self.required,
                "help_text": self.help_text, "choices": list(self.choices)}


@dataclass
class ServiceEditIn:
    """What changes on the day. None and empty lists: that part stays as it is."""

    turnaround_days: int | None = None
    #: The new procedure, step by step (it replaces the whole procedure).
    procedure: list[str] | None = None
    add_fields: list[FieldIn] = field(default_factory=list)
    #: Keys of the intake fields to remove.
    remove_fields: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return self.turnaround_days is None and self.procedure is None and not self.add_fields \
            and not self.remove_fields

    def describe(self, service: Service) -> str:
        """"turnaround 3 → 2 days; procedure of 4 steps; intake form: + Start date, − Notes"."""
        parts = []
        if self.turnaround_days is not None:
            parts.append(f"turnaround {service.turnaround_days} → {self.turnaround_days} working days")
        if self.procedure is not None:
            parts.append(f"a new procedure of {len(self.procedure)} step{'s' if len(self.procedure) != 1 else ''}")
        form = [f"+ {f.label}" for f in self.add_fields] + [f"− {k}" for k in self.remove_fields]
        if form:
            parts.append("intake form: " + ", ".join(form))
        return "; ".join(parts)


def _fields(service: Service, edit: ServiceEditIn, errors: Errors) -> list[IntakeField]:
    saved = {f.key: f for f in service.fields.all()}
    for key in edit.remove_fields:
        if key not in saved:
            errors.setdefault("remove_fields", []).append(
                f"{service.name} has no intake field {key[:60]!r}; reload the page.")
        elif key == service.run_field:
            errors.setdefault("remove_fields", []).append(
                f"“{saved[key].label}” names the run a request of {service.name} is for; choose another field "
                "(or none) under Cut-offs before removing it.")
    if len(set(edit.remove_fields)) != len(edit.remove_fields):
        errors.setdefault("remove_fields", []).append("Name each field to remove once.")
    keys = set(saved) - set(edit.remove_fields)
    last = max((f.position for f in saved.values()), default=0)
    out = []
    for n, typed in enumerate(edit.add_fields, start=1):
        new = intake_field(service, None, key=typed.key, label=typed.label, kind=typed.kind,
                           required=typed.required, help_text=typed.help_text, choices=typed.choices)
        new.position = last + n
        for name, messages in intake_field_errors(service, new, other_keys=keys).items():
            errors.setdefault("add_fields", []).extend(
                f"{typed.label[:60] or 'A new field'} ({name}): {m}" for m in messages)
        keys.add(new.key)
        out.append(new)
    return out


def _steps(service: Service, edit: ServiceEditIn, errors: Errors) -> list[ProcedureStep]:
    if edit.procedure is None:
        return []
    texts = [t.strip() for t in edit.procedure if t.strip()]
    if not texts:
        errors["procedure"] = ["A procedure has at least one step; leave it out to keep the procedure as it is."]
    steps = [ProcedureStep(service=service, position=n, text=t) for n, t in enumerate(texts, start=1)]
    for n, step in enumerate(steps, start=1):
        for messages in errors_of(step, exclude=["service"]).values():
            errors.setdefault("procedure", []).extend(f"Step {n}: {m}" for m in messages)
    return steps


def edit_errors(service: Service, edit: ServiceEditIn) -> Errors:
    """What the service editor would refuse in this edit, by field (empty: none)."""
    errors: Errors = {}
    if edit.is_empty():
        errors["service_edit"] = [f"Say what changes in {service.name}: its turnaround, its procedure or its "
                                  "intake form."]
        return errors
    if edit.turnaround_days is not None:
        probe = Service.objects.select_related("unit", "owner__user").get(pk=service.pk)
        probe.turnaround_days = edit.turnaround_days
        found = _service_errors(probe, probe.unit, probe.owner).get("turnaround_days")
        if found:
            errors["turnaround_days"] = found
    _fields(service, edit, errors)
    _steps(service, edit, errors)
    return errors


def apply_edit(service_id: int, edit: ServiceEditIn, *, change_id: int, title: str) -> ServiceEvent:
    """Make the edit, in the caller's transaction (the service row locked), and record it as a
    service event naming the change. Refused, changing nothing, when the service has moved on
    since the edit was checked (a field with the same key added by hand, say)."""
    service = Service.objects.select_for_update(of=("self",)).filter(pk=service_id).first()
    if service is None:
        raise NotFound("The service no longer exists.")
    errors = edit_errors(service, edit)
    refuse_if(errors, f"scheduled edit of {service.name}")
    data: dict[str, Any] = {"change": change_id, "title": title[:120]}
    if edit.turnaround_days is not None:
        data["turnaround_days"] = [service.turnaround_days, edit.turnaround_days]
        service.turnaround_days = edit.turnaround_days
        service.save(update_fields=["turnaround_days"])
    if edit.remove_fields:
        service.fields.filter(key__in=edit.remove_fields).delete()
        _renumber(service.fields.all())
        data["removed_fields"] = list(edit.remove_fields)
    if edit.add_fields:
        fields = _fields(service, edit, {})
        for new in fields:
            new.save()
        data["added_fields"] = [f.key for f in fields]
    if edit.procedure is not None:
        steps = _steps(service, edit, {})
        service.steps.all().delete()
        ProcedureStep.objects.bulk_create(steps)
        data["procedure_steps"] = len(steps)
    return ServiceEvent.objects.create(service=service, kind=ServiceEvent.Kind.CHANGED, actor=None, data=data)


def edit_of(data: dict[str, Any]) -> ServiceEditIn:
    """An edit kept as JSON (``ServiceEditIn`` written with ``as_data``) read back."""
    return ServiceEditIn(
        turnaround_days=data.get("turnaround_days"),
        procedure=data.get("procedure"),
        add_fields=[FieldIn(**f) for f in data.get("add_fields", [])],
        remove_fields=list(data.get("remove_fields", [])),
    )


def as_data(edit: ServiceEditIn) -> dict[str, Any]:
    return {"turnaround_days": edit.turnaround_days, "procedure": edit.procedure,
            "add_fields": [f.as_dict() for f in edit.add_fields], "remove_fields": list(edit.remove_fields)}


def check_edit(service: Service, edit: ServiceEditIn) -> None:
    """Refuse an edit the service editor would refuse, with its messages."""
    errors = edit_errors(service, edit)
    if errors:
        raise Invalid(f"The edit of {service.name} was not saved: "
                      + " ".join(m for ms in errors.values() for m in ms), errors=errors)

