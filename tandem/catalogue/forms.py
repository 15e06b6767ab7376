"""Forms of the service editor. They parse what was typed; ``tandem.catalogue.actions`` holds
the rules, so the pages and the API refuse the same input with the same messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from tandem.catalogue.models import IntakeField, ProcedureStep, Service, Weekday
from tandem.engines.intake_rules import MAX_DAYS, number
from tandem.org.forms import DATE_INPUT, ManageForm
from tandem.org.models import Person, PersonSkill, Side, Skill, Unit
from tandem.org.queries import people_visible_to, units_led_by

SERVICE_FIELDS = (
    "name",
    "slug",
    "unit",
    "owner",
    "summary",
    "scope_includes",
    "scope_excludes",
    "turnaround_days",
    "confidential",
    "external_allowed",
    "active",
    "last_reviewed_on",
)


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} — {obj.unit.name}"


class ServiceForm(ManageForm):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        max_length=80, help_text="Letters, digits and hyphens; used in addresses."
    )
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(),
        empty_label="— choose the providing unit —",
        error_messages={
            "invalid_choice": "Choose one of the back-office units you lead: services are provided "
            "by back-office units."
        },
    )
    owner = OwnerChoiceField(
        queryset=Person.objects.none(),
        empty_label="— choose the accountable person —",
        help_text="The one person accountable for the service, usually in the providing unit.",
    )
    summary = forms.CharField(max_length=240, help_text="One line shown in the catalogue.")
    scope_includes = forms.CharField(label="What we do", widget=forms.Textarea(attrs={"rows": 3}))
    scope_excludes = forms.CharField(
        label="What we don't do",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say where to go instead, so nobody asks the wrong team.",
    )
    turnaround_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        label="Turnaround (working days)",
        help_text="The published turnaround, in the providing unit's working days.",
    )
    confidential = forms.BooleanField(
        required=False,
        help_text="Payload and comments seen only by the requester, the unit and admins.",
    )
    external_allowed = forms.BooleanField(
        required=False,
        initial=True,
        label="Accepts requests on behalf of customers (external channel)",
    )
    active = forms.BooleanField(
        required=False,
        label="Published in the catalogue",
        help_text="Build the intake form first, then publish.",
    )
    last_reviewed_on = forms.DateField(label="Last reviewed", widget=DATE_INPUT)

    def __init__(self, *args: Any, user: AbstractBaseUser | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_led_by(user).filter(side=Side.BACK)  # type: ignore[attr-defined]
        self.fields["owner"].queryset = (  # type: ignore[attr-defined]
            Person.objects.filter(user__is_active=True)
            .select_related("user", "unit")
            .order_by("unit__name", "user__first_name", "user__last_name")
        )

    @staticmethod
    def initial_for(service: Service) -> dict[str, Any]:
        initial = {name: getattr(service, name) for name in SERVICE_FIELDS}
        initial["unit"], initial["owner"] = service.unit_id, service.owner_id
        return initial


RULES = ("min_value", "max_value", "days_past", "days_ahead", "weekday", "pattern", "pattern_message")


class IntakeFieldForm(ManageForm):
    label = forms.CharField(max_length=120, help_text="The question as the requester sees it.")
    key = forms.SlugField(
        max_length=60,
        required=False,
        help_text="Name of the value in the request's data; made from the label when left empty.",
    )
    kind = forms.ChoiceField(choices=IntakeField.Kind.choices)
    required = forms.BooleanField(required=False, initial=True)
    help_text = forms.CharField(max_length=240, required=False, label="Help text")
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For choice fields: one choice per line.",
    )
    # The rules: typed here, checked together by the action (the model's clean).
    min_value = forms.DecimalField(
        label="Minimum", required=False, max_digits=18, decimal_places=4,
        help_text="For number fields: the smallest value accepted.",
    )
    max_value = forms.DecimalField(
        label="Maximum", required=False, max_digits=18, decimal_places=4,
        help_text="For number fields: the largest value accepted.",
    )
    days_past = forms.IntegerField(
        label="At most … days before today", required=False, min_value=0, max_value=MAX_DAYS,
        help_text="For date fields; 0 accepts no date in the past. Empty: no limit.",
    )
    days_ahead = forms.IntegerField(
        label="At most … days after today", required=False, min_value=0, max_value=MAX_DAYS,
        help_text="For date fields; 0 accepts no date in the future. Empty: no limit.",
    )
    weekday = forms.TypedChoiceField(
        label="Only on", required=False, coerce=int, empty_value=None,
        choices=[("", "— any day —"), *Weekday.choices],
        error_messages={"invalid_choice": "%(value)s is not a weekday: choose Monday to Sunday, or any day."},
        help_text="For date fields: e.g. Sunday for a week ending.",
    )
    pattern = forms.CharField(
        required=False, max_length=200,
        help_text="For text and file fields: a regular expression the whole value must match, "
        "e.g. W\\d{6}. RE2 syntax: no backreferences or lookarounds.",
    )
    pattern_message = forms.CharField(
        label="Pattern message", required=False, max_length=200,
        help_text="What the pattern asks for, in words, e.g. \u201cW and six digits, like W104233\u201d.",
    )

    @staticmethod
    def initial_for(field: IntakeField) -> dict[str, Any]:
        return {
            "label": field.label,
            "key": field.key,
            "kind": field.kind,
            "required": field.required,
            "help_text": field.help_text,
            "choices": "\n".join(field.choices or []),
            **{name: getattr(field, name) for name in RULES},
            # 150, not the column's 150.0000
            "min_value": None if field.min_value is None else number(field.min_value),
            "max_value": None if field.max_value is None else number(field.max_value),
        }

    def data_for_action(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["choices"] = (data.get("choices") or "").splitlines()
        return data


class CutOffForm(ManageForm):
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int)
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    description = forms.CharField(
        max_length=200,
        help_text="What it is for, e.g. \u201ctimesheets for Friday's payroll\u201d.",
    )
    run_weekday = forms.TypedChoiceField(
        choices=[("", "The same day"), *Weekday.choices], coerce=int, empty_value=None, required=False,
        label="Run on", help_text="The day of the run it feeds: Friday for a payroll.",
    )
    run_name = forms.CharField(
        max_length=80, required=False, label="Run", help_text="What the run is, e.g. \u201cpayroll\u201d.",
    )


class RunFieldForm(ManageForm):
    """Which date field of the intake form names the run a request is for."""

    run_field = forms.ChoiceField(
        required=False, label="Requests name their run by",
        help_text="A request whose run's intake has closed is marked late and goes in the next; "
        "without a field, a request goes in the next run and is never late.",
    )

    def __init__(self, *args: Any, service: Service, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        dates = [(f.key, f.label) for f in service.fields.all() if f.kind == IntakeField.Kind.DATE]
        choice = self.fields["run_field"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [("", "No field: the next run"), *dates]
        self.fields["run_field"].initial = service.run_field


class RequiredSkillForm(ManageForm):
    skill = forms.ModelChoiceField(queryset=Skill.objects.all(), empty_label="— choose a skill —")
    min_level = forms.TypedChoiceField(
        choices=PersonSkill.Level.choices,
        coerce=int,
        initial=PersonSkill.Level.PRACTISED,
        label="At least",
    )


class ProcedureStepForm(ManageForm):
    text = forms.CharField(
        max_length=ProcedureStep._meta.get_field("text").max_length,
        label="Step",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


FOLLOW_UPS = 3


class ReviewForm(ManageForm):
    """A process review: who reviewed, what they found and decided, and up to three follow-up
    actions, each with an owner and a due date."""

    reviewer = OwnerChoiceField(queryset=Person.objects.none(), required=False,
                                empty_label="— who carried out the review —")
    reviewed_on = forms.DateField(widget=DATE_INPUT)
    findings = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                               help_text="What the review found: is the procedure followed, does the entry hold?")
    decisions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = Person.objects.filter(user__is_active=True).select_related("unit", "user")
        reviewer = self.fields["reviewer"]
        assert isinstance(reviewer, forms.ModelChoiceField)
        reviewer.queryset = people
        for n in range(1, FOLLOW_UPS + 1):
            self.fields[f"action_{n}"] = forms.CharField(label=f"Follow-up {n}", max_length=300, required=False)
            self.fields[f"action_{n}_owner"] = OwnerChoiceField(
                queryset=people, required=False, label=f"Owner of follow-up {n}", empty_label="— owner —")
            self.fields[f"action_{n}_due"] = forms.DateField(label=f"Due date of follow-up {n}", required=False,
                                                             widget=DATE_INPUT)

    def follow_ups(self) -> list[tuple[str, int | None, Any]]:
        out = []
        for n in range(1, FOLLOW_UPS + 1):
            text = self.cleaned_data.get(f"action_{n}") or ""
            owner = self.cleaned_data.get(f"action_{n}_owner")
            due = self.cleaned_data.get(f"action_{n}_due")
            if text or owner or due:
                out.append((text, owner.pk if owner else None, due))
        return out


NOBODY = "none"


class ApprovalRuleForm(ManageForm):
    """Who approves the service's requests before work starts (docs/approvals.md). The field
    names are the keys ``actions.set_approval`` names in its refusals, so its messages land
    beside what was typed; the rules themselves live in the action, shared with the API."""

    by = forms.ChoiceField(
        label="Who approves",
        choices=[
            (NOBODY, "Nobody: requests go straight to the team's queue"),
            ("named", "A named person"),
            ("lead", "The requester's lead"),
            ("field", "The person the requester names in an email field"),
        ],
        widget=forms.RadioSelect,
    )
    approver = OwnerChoiceField(
        queryset=Person.objects.none(), required=False, label="The named person",
        empty_label="— choose the approver —", help_text="With “a named person”: e.g. the client's account manager.",
    )
    approver_field = forms.ChoiceField(
        required=False, label="The email field naming the approver",
        help_text="With “the person the requester names”: one of the form's email fields.",
    )
    approval_field = forms.ChoiceField(
        required=False, label="Only when this number field",
        help_text="Empty: every request needs approval.",
    )
    approval_above = forms.DecimalField(
        required=False, label="is above", help_text="The amount; a value equal to it needs no approval.",
    )
    approval_remind_days = forms.IntegerField(
        label="Remind the approver after (working days)", help_text="0 never reminds; at most 30.",
    )

    def __init__(self, *args: Any, service: Service, user: AbstractBaseUser | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = (  # type: ignore[attr-defined]
            people_visible_to(user).filter(user__is_active=True)
            .select_related("user", "unit").order_by("user__first_name", "user__last_name", "pk")
        )
        fields = list(service.fields.all())
        for name, kind, empty in (("approver_field", IntakeField.Kind.EMAIL, "— no email field —"),
                                  ("approval_field", IntakeField.Kind.NUMBER, "— every request —")):
            choice = self.fields[name]
            assert isinstance(choice, forms.ChoiceField)
            choice.choices = [("", empty), *((f.key, f.label) for f in fields if f.kind == kind)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("by") == "named" and data.get("approver") is None and "approver" not in self.errors:
            self.add_error("approver", "Choose the person who approves, or choose “Nobody”.")
        return data

    @staticmethod
    def initial_for(service: Service) -> dict[str, Any]:
        above = service.approval_above
        return {
            "by": service.approval_by if service.requires_approval else NOBODY,
            "approver": service.approver_id, "approver_field": service.approver_field,
            "approval_field": service.approval_field, "approval_above": None if above is None else number(above),
            "approval_remind_days": service.approval_remind_days,
        }

    def data_for_action(self) -> dict[str, Any]:
        """``actions.set_approval``'s arguments: “nobody” is a named rule without an approver."""
        data = self.cleaned_data
        by, approver = data["by"], data.get("approver")
        # What belongs to another choice than the one ticked is not sent (a person left chosen
        # in the list when switching to "the requester's lead").
        return {
            "approver_id": approver.pk if by == "named" and approver is not None else None,
            "field": data.get("approval_field") or "", "above": data.get("approval_above"),
            "by": "named" if by == NOBODY else by,
            "approver_field": (data.get("approver_field") or "") if by == "field" else "",
            "remind_days": data.get("approval_remind_days"),
        }
