"""The loan proposal form: it only parses what was typed; the rules live in the actions."""

from __future__ import annotations

from django import forms

from tandem.org.models import Person, Side

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LoanForm(forms.Form):
    label_suffix = ""

    person = forms.ModelChoiceField(
        queryset=Person.objects.filter(unit__side=Side.FRONT, user__is_active=True).select_related("user", "unit"),
        help_text="A front-office person; the candidates above hold the skills the unit needs.",
    )
    starts_at = forms.DateTimeField(label="From", widget=DATETIME_INPUT, input_formats=["%Y-%m-%dT%H:%M"])
    ends_at = forms.DateTimeField(label="Until", widget=DATETIME_INPUT, input_formats=["%Y-%m-%dT%H:%M"])
    note = forms.CharField(max_length=200, required=False)
