"""The intake form of a service, generated from its typed fields.

The same form validates the page's POST and the API's JSON, so both refuse the same input
with the same messages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from tandem.catalogue.models import IntakeField, Service

SHORT_TEXT_LIMIT = 2_000


def form_field(spec: IntakeField) -> forms.Field:
    common: dict[str, Any] = {
        "label": spec.label,
        "required": spec.required,
        "help_text": spec.help_text,
    }
    kind = spec.kind
    if kind == IntakeField.Kind.NUMBER:
        return forms.DecimalField(max_digits=18, decimal_places=4, **common)
    if kind == IntakeField.Kind.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}),
            error_messages={"invalid": "Enter a real date as YYYY-MM-DD."},
            **common,
        )
    if kind == IntakeField.Kind.CHOICE:
        choices = [("", "— choose —"), *((c, c) for c in spec.choices)]
        return forms.ChoiceField(choices=choices, **common)
    if kind == IntakeField.Kind.LONG_TEXT:
        return forms.CharField(
            max_length=settings.TANDEM_MAX_TEXT_LENGTH, widget=forms.Textarea(attrs={"rows": 4}), **common
        )
    if kind == IntakeField.Kind.FILE:
        common["help_text"] = spec.help_text or "A document reference or link (the file stays where it is)."
        return forms.CharField(max_length=500, **common)
    return forms.CharField(max_length=SHORT_TEXT_LIMIT, **common)


def intake_form_class(service: Service) -> type[forms.Form]:
    fields = {spec.key: form_field(spec) for spec in service.fields.all()}
    return type(f"{service.slug.title().replace('-', '')}IntakeForm", (forms.Form,), fields)


def to_json(value: Any) -> Any:
    """Cleaned form values as JSON-friendly data (dates as ISO, numbers as strings)."""
    if isinstance(value, Decimal):
        normalised = value.normalize()
        return format(normalised, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
