"""The intake form of a service, generated from its typed fields and their rules.

The same form validates the page's POST and the API's JSON, so both refuse the same input
with the same messages. The rules' wording and arithmetic are ``tandem.engines.intake_rules``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from tandem.catalogue.models import IntakeField, Service
from tandem.engines.intake_rules import date_problems, number_problems, text_problems, window

SHORT_TEXT_LIMIT = 2_000
FILE_HELP = "Attach the file."


def server_today(now: datetime | None = None) -> date:
    """The day of ``now`` (default: now) in the server's time zone (``TIME_ZONE``), whoever
    asks. Pages run in the viewer's own zone and API calls in the server's, and a date rule
    must draw the same line for both."""
    return timezone.localdate(now, timezone=timezone.get_default_timezone())


def _validator(problems: Callable[[Any], list[str]]) -> Callable[[Any], None]:
    def validate(value: Any) -> None:
        found = problems(value)
        if found:
            # No params: a lead's pattern message may hold a "%" that formatting would trip on.
            raise ValidationError(" ".join(found), code="rule")

    return validate


def form_field(spec: IntakeField, today: date) -> forms.Field:
    rules = spec.rules
    said = spec.help_text or (FILE_HELP if spec.kind == IntakeField.Kind.FILE else "")
    help_text = " ".join(part for part in (said, spec.rules_text) if part)
    common: dict[str, Any] = {"label": spec.label, "required": spec.required, "help_text": help_text}
    kind = spec.kind
    if kind == IntakeField.Kind.NUMBER:
        field: forms.Field = forms.DecimalField(
            max_digits=18, decimal_places=4,
            validators=[_validator(lambda value: number_problems(value, rules))], **common,
        )
        bounds = {"min": rules.min_value, "max": rules.max_value}
        field.widget.attrs.update({k: str(v) for k, v in bounds.items() if v is not None})
        return field
    if kind == IntakeField.Kind.DATE:
        earliest, latest = window(today, rules)
        limits = {"min": earliest, "max": latest}
        return forms.DateField(
            widget=forms.DateInput(
                attrs={"type": "date", **{k: v.isoformat() for k, v in limits.items() if v is not None}}
            ),
            error_messages={"invalid": "Enter a real date as YYYY-MM-DD."},
            validators=[_validator(lambda value: date_problems(value, today, rules))],
            **common,
        )
    if kind == IntakeField.Kind.CHOICE:
        choices = [("", "— choose —"), *((c, c) for c in spec.choices)]
        return forms.ChoiceField(choices=choices, **common)
    if kind == IntakeField.Kind.EMAIL:
        return forms.EmailField(
            max_length=254, error_messages={"invalid": "Enter an email address, such as ann.lee@example.com."},
            **common,
        )
    matches = [_validator(lambda value: text_problems(value, rules))]
    if kind == IntakeField.Kind.LONG_TEXT:
        return forms.CharField(
            max_length=settings.TANDEM_MAX_TEXT_LENGTH, widget=forms.Textarea(attrs={"rows": 4}),
            validators=matches, **common,
        )
    if kind == IntakeField.Kind.FILE:
        # The file itself; its size and kind are checked against the service's limits by the
        # submission (tandem.work.actions.attachments), its name against the field's pattern here.
        return forms.FileField(
            validators=[_validator(lambda upload: text_problems(getattr(upload, "name", ""), rules))],
            error_messages={"required": "Attach the file: this field needs one.",
                            "empty": "The file is empty; attach it again."},
            **common,
        )
    return forms.CharField(max_length=SHORT_TEXT_LIMIT, validators=matches, **common)


def intake_form_class(service: Service, *, today: date | None = None) -> type[forms.Form]:
    """The form of the service's intake; date rules count from ``today`` (the server's today
    unless given: a request submitted earlier is checked as of its own day)."""
    today = today or server_today()
    fields = {spec.key: form_field(spec, today) for spec in service.fields.all()}
    return type(f"{service.slug.title().replace('-', '')}IntakeForm", (forms.Form,), fields)


def to_json(value: Any) -> Any:
    """Cleaned form values as JSON-friendly data (dates as ISO, numbers as strings)."""
    if isinstance(value, Decimal):
        normalised = value.normalize()
        return format(normalised, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
