"""The evidence filters, shared by the page and its CSV downloads."""

from __future__ import annotations

from django import forms

from tandem.catalogue.models import Service
from tandem.insights.queries import PERIODS, Filters, client_units
from tandem.org.models import Organisation, Side, Unit
from tandem.work.models import Channel


class EvidenceFilterForm(forms.Form):
    weeks = forms.TypedChoiceField(choices=[(p, f"{p} weeks") for p in PERIODS], coerce=int, initial=26,
                                   required=False)
    unit = forms.ModelChoiceField(Unit.objects.filter(side=Side.BACK), to_field_name="slug", required=False,
                                  empty_label="All back-office units")
    requesting_unit = forms.ModelChoiceField(Unit.objects.all(), to_field_name="slug", required=False,
                                             empty_label="All requesting units")
    service = forms.ModelChoiceField(Service.objects.all(), to_field_name="slug", required=False,
                                     empty_label="All services")
    channel = forms.ChoiceField(choices=[("", "Both channels"), *Channel.choices], required=False)
    client = forms.ChoiceField(label="Client", required=False)

    def __init__(self, *args: object, services: object = None, clients: list[Organisation] | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if services is not None:
            self.fields["service"].queryset = services  # type: ignore[attr-defined]
        #: The client organisations the provider's staff may filter by (none: the filter is not shown).
        self.clients = list(clients or [])
        self.fields["client"].choices = ([("", "Every organisation"), ("own", "Our own units")]  # type: ignore[attr-defined]
                                         + [(o.slug, o.name) for o in self.clients])

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            weeks=data.get("weeks") or 26, unit=data.get("unit"), requesting_unit=data.get("requesting_unit"),
            service=data.get("service"), channel=data.get("channel") or "",
            requesting_units=client_units(data.get("client") or "", self.clients),
        )
