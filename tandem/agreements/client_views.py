"""The provider's client organisations, under /manage/clients/ (docs/organisations.md)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from tandem.agreements.clients import NewClient, NewContract, NewPerson, add_client, add_contract, end_contract
from tandem.agreements.models import Agreement
from tandem.catalogue.models import Contract, Service
from tandem.org.models import Person
from tandem.org.queries import is_admin, organisations_visible_to
from tandem.org.views import manage_page, page, require
from tandem.refusal import Invalid

PROVIDER_ADMINS = "Client organisations are the provider's administrators' to see and add."
LINE_FIELD = re.compile(r"^(units|people|contracts)\[(\d+)\]\.?(.*)$")


class ClientForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(max_length=60, help_text="Lower-case letters, digits and hyphens: north-agency.")
    holiday_country = forms.CharField(
        max_length=2, required=False, help_text="The client's public holidays: an ISO code (GB). Blank: the teams'."
    )
    holiday_subdivision = forms.CharField(max_length=10, required=False, help_text="e.g. SCT for Scotland.")
    units = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One front-office unit a line: name, slug — e.g. “North Glasgow branch, north-glasgow”.",
    )
    people = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False,
        help_text="One person a line: username, first name, last name, email, unit slug, role (member, lead "
                  "or executive). Blank when they sign in through the client's identity provider.",
    )
    contracts = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One contracted service a line: its slug, and optionally the client's own targets in working "
                  "minutes and the share to meet — e.g. “payroll-query, 60, 960, 95”.",
    )


def _lines(text: str) -> list[list[str]]:
    return [[part.strip() for part in line.split(",")] for line in text.splitlines() if line.strip()]


def _number(value: str, field: str, line: int, errors: dict[str, list[str]], kind: type = int) -> Any:
    try:
        return kind(value)
    except ValueError:
        errors.setdefault(field, []).append(f"Line {line}: {value!r} is not a number.")
        return None


def parse(data: dict[str, str]) -> NewClient:
    """The form's lines as a ``NewClient``; a line of the wrong shape is refused naming it."""
    errors: dict[str, list[str]] = {}
    units = []
    for n, parts in enumerate(_lines(data["units"]), 1):
        if len(parts) != 2:
            errors.setdefault("units", []).append(f"Line {n}: give a name and a slug, separated by a comma.")
        else:
            units.append((parts[0], parts[1]))
    people = []
    for n, parts in enumerate(_lines(data.get("people") or ""), 1):
        if len(parts) != 6:
            errors.setdefault("people", []).append(
                f"Line {n}: give username, first name, last name, email, unit slug and role "
                f"(6 parts, not {len(parts)}).")
        else:
            people.append(NewPerson(*parts))
    contracts = []
    for n, parts in enumerate(_lines(data["contracts"]), 1):
        if len(parts) not in (1, 3, 4):
            errors.setdefault("contracts", []).append(
                f"Line {n}: give a service's slug, optionally followed by first response and resolution minutes "
                "and the share to meet.")
            continue
        contract = NewContract(service=parts[0])
        if len(parts) >= 3:
            contract.first_response_minutes = _number(parts[1], "contracts", n, errors)
            contract.resolution_minutes = _number(parts[2], "contracts", n, errors)
        if len(parts) == 4:
            contract.target_percent = _number(parts[3], "contracts", n, errors, float) or 0.0
        contracts.append(contract)
    if errors:
        raise Invalid("The client was not added; correct the highlighted lines and save again.", errors=errors)
    return NewClient(
        name=data["name"], slug=data["slug"], holiday_country=data.get("holiday_country") or "",
        holiday_subdivision=data.get("holiday_subdivision") or "", units=units, people=people, contracts=contracts,
    )


def by_form_field(refusal: Invalid) -> Invalid:
    """``contracts[1].service`` → the form's ``contracts`` field, as "Line 2: ..."."""
    errors: dict[str, list[str]] = {}
    for key, messages_ in refusal.errors.items():
        found = LINE_FIELD.match(key)
        name = found.group(1) if found else key
        prefix = f"Line {int(found.group(2)) + 1}: " if found else ""
        errors.setdefault(name, []).extend(prefix + m for m in messages_)
    return Invalid(refusal.message, errors=errors)


def _provider_admin(me: Person) -> None:
    require(is_admin(me) and me.unit.organisation_id is None, PROVIDER_ADMINS)


@manage_page
def clients(request: HttpRequest, me: Person) -> HttpResponse:
    _provider_admin(me)
    listed = organisations_visible_to(request.user).annotate(
        unit_count=Count("units", distinct=True), contract_count=Count("contracts", distinct=True)
    ).filter(unit_count__gt=0).order_by("name")
    return page(request, "manage/clients.html", {"clients": listed})


@manage_page
def client_new(request: HttpRequest, me: Person) -> HttpResponse:
    _provider_admin(me)
    form = ClientForm(request.POST or None)
    if request.method == "POST":
        try:
            if not form.is_valid():
                raise Invalid("Some details are missing or wrong; correct the highlighted fields and save again.",
                              errors={k: [str(e) for e in v] for k, v in form.errors.items()})
            org = add_client(me, parse(form.cleaned_data))
        except Invalid as exc:
            return page(request, "manage/client_form.html", {"form": form, "services": _catalogue()},
                        by_form_field(exc))
        messages.success(request, f"{org.name} was added.")
        return redirect("agreements:client", pk=org.pk)
    return page(request, "manage/client_form.html", {"form": form, "services": _catalogue()})


def _catalogue() -> list[Service]:
    """The services a client may contract, for the form's list of slugs."""
    return list(Service.objects.filter(active=True, unit__side="back").select_related("unit").order_by("unit__name",
                                                                                                        "name"))


class ContractForm(forms.Form):
    """One more contracted service for a client (the client's page)."""

    service = forms.ChoiceField(choices=())
    starts_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="Blank: today.")
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              help_text="The last day; blank: open-ended.")
    first_response_minutes = forms.IntegerField(required=False, min_value=0, label="First response (working minutes)")
    resolution_minutes = forms.IntegerField(required=False, min_value=1, label="Resolution (working minutes)",
                                            help_text="Both targets blank: the service's own.")
    target_percent = forms.FloatField(initial=90.0, min_value=1, max_value=100, label="Share to meet (%)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Choose a service")] + [(s.slug, f"{s.name} ({s.unit.name})") for s in _catalogue()]
        self.fields["service"].choices = choices  # type: ignore[attr-defined]

    def contract(self) -> NewContract:
        data = self.cleaned_data
        return NewContract(service=data["service"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                           first_response_minutes=data["first_response_minutes"],
                           resolution_minutes=data["resolution_minutes"], target_percent=data["target_percent"] or 90.0)


class EndContractForm(forms.Form):
    ends_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Last day")


def _client_page(request: HttpRequest, org: Any, *, form: ContractForm | None = None,
                 ending: tuple[int, EndContractForm] | None = None, refusal: Invalid | None = None) -> HttpResponse:
    if ending is not None and refusal is not None:
        for name, errors in refusal.errors.items():
            if name in ending[1].fields and name not in ending[1].errors:
                ending[1].add_error(name, list(errors))
    contracts = list(Contract.objects.filter(organisation=org).select_related("service__unit")
                     .order_by("service__name", "starts_on"))
    own = {a.service_id: a for a in Agreement.objects.filter(requesting_organisation=org, active=True)}
    today = timezone.localdate()
    rows = [{"contract": c, "agreement": own.get(c.service_id),
             "ended": c.ends_on is not None and c.ends_on < today,
             "end_form": ending[1] if ending and ending[0] == c.pk else EndContractForm(prefix=f"end-{c.pk}")}
            for c in contracts]
    teams = sorted({c.service.unit.name for c in contracts})
    units = org.units.annotate(people=Count("members")).order_by("name")
    return page(request, "manage/client.html", {
        "org": org, "rows": rows, "teams": teams, "units": units, "contract_form": form or ContractForm(),
    }, refusal)


def _client(request: HttpRequest, me: Person, pk: int) -> Any:
    _provider_admin(me)
    return get_object_or_404(organisations_visible_to(request.user), pk=pk)


@manage_page
def client(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    return _client_page(request, _client(request, me, pk))


@require_POST
@manage_page
def client_contract_add(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    org = _client(request, me, pk)
    form = ContractForm(request.POST)
    try:
        if not form.is_valid():
            raise Invalid("The contract was not added; correct the highlighted fields.",
                          errors={k: [str(e) for e in v] for k, v in form.errors.items()})
        added = add_contract(me, org, form.contract())
    except Invalid as refusal:
        return _client_page(request, org, form=form, refusal=refusal)
    messages.success(request, f"{added.service.name} is contracted from {added.starts_on:%-d %b %Y}.")
    return redirect("agreements:client", pk=org.pk)


@require_POST
@manage_page
def client_contract_end(request: HttpRequest, me: Person, pk: int, contract_pk: int) -> HttpResponse:
    org = _client(request, me, pk)
    contract = get_object_or_404(Contract.objects.select_related("service"), pk=contract_pk, organisation=org)
    form = EndContractForm(request.POST, prefix=f"end-{contract.pk}")
    try:
        if not form.is_valid():
            raise Invalid("Give the contract's last day.", errors={"ends_on": ["Give a day, e.g. 2027-01-31."]})
        ended = end_contract(me, contract, form.cleaned_data["ends_on"])
    except Invalid as refusal:
        return _client_page(request, org, ending=(contract.pk, form), refusal=refusal)
    messages.success(request, f"{ended.service.name} ends on {ended.ends_on:%-d %b %Y}.")
    return redirect("agreements:client", pk=org.pk)
