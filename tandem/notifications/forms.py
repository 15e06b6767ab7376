"""The webhooks page's form. It parses what was typed; ``actions.add_subscriber`` holds the
rules (shared with the API and the admin site), so its messages land beside these fields."""

from __future__ import annotations

from typing import Any

from django import forms

from tandem.notifications.models import WEBHOOK_KINDS
from tandem.org.forms import ManageForm


class SubscriberForm(ManageForm):
    name = forms.CharField(max_length=200, help_text="The receiving system's name, e.g. “CRM”.")
    # A plain text field: the action says what is wrong with an address (and whether it is public).
    url = forms.CharField(label="Address", max_length=600, help_text="The receiver's public https:// address.")
    kinds = forms.MultipleChoiceField(
        label="Event kinds", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(k, f"{k}: {said}") for k, said in WEBHOOK_KINDS.items()],
    )

    def data_for_action(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"name": data["name"], "url": data["url"].strip(), "kinds": list(data.get("kinds") or [])}
