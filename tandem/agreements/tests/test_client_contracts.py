"""A client's contracts changed after it was added: another service contracted, a contract ended
(docs/organisations.md, "Contracts"), by the page, the API and the action, with their refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tandem.agreements.clients import NewContract, add_client, add_contract, end_contract
from tandem.agreements.models import Agreement
from tandem.agreements.tests.test_clients import scots, with_password
from tandem.catalogue.models import Contract
from tandem.catalogue.queries import services_visible_to
from tandem.org.models import Organisation, Role, Unit
from tandem.refusal import Forbidden, Invalid
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, Cast, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def highland(cast: Cast) -> Organisation:
    """A client with Timesheet correction contracted (and its own targets) from a month ago."""
    return add_client(cast.admin, scots(cast), today=timezone.localdate() - timedelta(days=30))


def contracts_of(org: Organisation) -> list[tuple[str, date, date | None]]:
    return list(Contract.objects.filter(organisation=org).order_by("service__slug", "starts_on")
                .values_list("service__slug", "starts_on", "ends_on"))


def test_another_service_contracted_with_its_own_targets_is_one_the_clients_people_ask_for(
        cast: Cast, highland: Organisation) -> None:
    hilda = with_password("hilda")
    assert [s.slug for s in services_visible_to(hilda.user)] == ["timesheet-correction"]
    today = timezone.localdate()
    add_contract(cast.admin, highland, NewContract("grievance", first_response_minutes=30, resolution_minutes=600,
                                                   target_percent=80))
    assert ("grievance", today, None) in contracts_of(highland)
    own = Agreement.objects.get(requesting_organisation=highland, service=cast.grievance)
    assert (own.first_response_minutes, own.resolution_minutes, float(own.target_percent)) == (30, 600, 80.0)
    assert {s.slug for s in services_visible_to(hilda.user)} == {"timesheet-correction", "grievance"}


def test_ending_a_contract_keeps_it_until_its_last_day_then_the_service_is_not_theirs(
        cast: Cast, highland: Organisation) -> None:
    today = timezone.localdate()
    contract = Contract.objects.get(organisation=highland)
    end_contract(cast.admin, contract, today)
    assert contracts_of(highland) == [("timesheet-correction", today - timedelta(days=30), today)]
    # In force on its last day, not on the next one.
    assert Contract.objects.filter(organisation=highland).current(today).count() == 1
    assert Contract.objects.filter(organisation=highland).current(today + timedelta(days=1)).count() == 0
    # Once it has ended a new contract for the same service may start after it.
    add_contract(cast.admin, highland, NewContract("timesheet-correction", starts_on=today + timedelta(days=1)))
    assert len(contracts_of(highland)) == 2


@pytest.mark.parametrize("contract, field, says", [
    (NewContract("no-such-service"), "service", "is not a published service"),
    (NewContract("timesheet-correction"), "service", "contracted already"),
    (NewContract("grievance", starts_on=date(2030, 5, 2), ends_on=date(2030, 5, 1)), "ends_on", "on or after"),
    (NewContract("grievance", first_response_minutes=30), "resolution_minutes", "Give both targets"),
])
def test_a_refused_contract_names_its_field_and_saves_nothing(
        cast: Cast, highland: Organisation, contract: NewContract, field: str, says: str) -> None:
    before = (contracts_of(highland), Agreement.objects.count())
    with pytest.raises(Invalid) as refused:
        add_contract(cast.admin, highland, contract)
    assert says in refused.value.errors[field][0]
    assert (contracts_of(highland), Agreement.objects.count()) == before


def test_targets_where_the_client_has_its_own_already_are_refused(cast: Cast, highland: Organisation) -> None:
    contract = Contract.objects.get(organisation=highland)
    end_contract(cast.admin, contract, timezone.localdate())
    again = NewContract("timesheet-correction", starts_on=timezone.localdate() + timedelta(days=1),
                        first_response_minutes=10, resolution_minutes=100)
    with pytest.raises(Invalid) as refused:
        add_contract(cast.admin, highland, again)
    assert "own targets for Timesheet correction already" in refused.value.errors["resolution_minutes"][0]
    assert len(contracts_of(highland)) == 1


def test_a_contract_cannot_end_in_the_past_before_it_starts_or_into_a_later_one(
        cast: Cast, highland: Organisation) -> None:
    today = timezone.localdate()
    contract = Contract.objects.get(organisation=highland)
    for day, says in [(today - timedelta(days=1), "not in the past")]:
        with pytest.raises(Invalid, match=says):
            end_contract(cast.admin, contract, day)
    later = add_contract(cast.admin, highland, NewContract("grievance", starts_on=today + timedelta(days=10)))
    with pytest.raises(Invalid, match="ends on or after the day it starts"):
        end_contract(cast.admin, later, today + timedelta(days=5))
    end_contract(cast.admin, contract, today + timedelta(days=3))
    add_contract(cast.admin, highland, NewContract("timesheet-correction", starts_on=today + timedelta(days=20)))
    with pytest.raises(Invalid, match="Another contract for this service starts on"):
        end_contract(cast.admin, contract, today + timedelta(days=25))
    assert Contract.objects.get(pk=contract.pk).ends_on == today + timedelta(days=3)


def test_only_the_providers_administrators_change_contracts(cast: Cast, highland: Organisation) -> None:
    client_admin = make_person("highland_admin", Unit.objects.get(organisation=highland), Role.ADMIN)
    contract = Contract.objects.get(organisation=highland)
    for who in (cast.payroll_lead, client_admin):
        with pytest.raises(Forbidden):
            add_contract(who, highland, NewContract("grievance"))
        with pytest.raises(Forbidden):
            end_contract(who, contract, timezone.localdate())
    assert contracts_of(highland) == [("timesheet-correction", contract.starts_on, None)]


def test_the_client_page_adds_and_ends_contracts_and_keeps_what_was_typed(
        cast: Cast, highland: Organisation) -> None:
    browser = Client()
    browser.login(username="admin", password=PASSWORD)
    page = f"/manage/clients/{highland.pk}/"
    shown = browser.get(page).content.decode()
    assert "Contract another service" in shown and "Grievance (HR)" in shown
    typed = {"service": "grievance", "starts_on": "2030-05-02", "ends_on": "2030-05-01",
             "first_response_minutes": "45", "resolution_minutes": "700", "target_percent": "85"}
    refused = browser.post(f"{page}contracts/", typed)
    body = refused.content.decode()
    assert refused.status_code == 422 and "A contract ends on or after the day it starts." in body
    assert 'value="700"' in body and 'value="2030-05-02"' in body  # what was typed is kept
    assert len(contracts_of(highland)) == 1
    done = browser.post(f"{page}contracts/", {**typed, "ends_on": ""})
    assert done.status_code == 302 and done["Location"] == page
    assert ("grievance", date(2030, 5, 2), None) in contracts_of(highland)
    assert "resolve in 700 min" in browser.get(page).content.decode()

    contract = Contract.objects.get(organisation=highland, service=cast.timesheet)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    past = browser.post(f"{page}contracts/{contract.pk}/end/", {f"end-{contract.pk}-ends_on": yesterday})
    assert past.status_code == 422 and "not in the past" in past.content.decode()
    assert yesterday in past.content.decode()
    assert Contract.objects.get(pk=contract.pk).ends_on is None
    last_day = timezone.localdate() + timedelta(days=7)
    ended = browser.post(f"{page}contracts/{contract.pk}/end/", {f"end-{contract.pk}-ends_on": last_day.isoformat()})
    assert ended.status_code == 302
    assert Contract.objects.get(pk=contract.pk).ends_on == last_day
    other = add_client(cast.admin, scots(cast, name="Other", slug="other", units=[("Other branch", "other")],
                                         people=[]))
    elsewhere = Contract.objects.get(organisation=other)
    assert browser.post(f"{page}contracts/{elsewhere.pk}/end/",
                        {f"end-{elsewhere.pk}-ends_on": last_day.isoformat()}).status_code == 404
    lead = Client()
    lead.login(username="payroll_lead", password=PASSWORD)
    assert lead.post(f"{page}contracts/", {**typed, "ends_on": ""}).status_code == 403


def test_the_api_adds_and_ends_contracts_and_answers_422_naming_the_field(
        cast: Cast, highland: Organisation) -> None:
    api = ApiClient(cast.admin)
    base = f"/api/clients/{highland.pk}/contracts"
    bad = api.post(base, {"service": "timesheet-correction"})
    assert bad.status_code == 422 and "contracted already" in bad.json()["errors"]["service"][0]
    made = api.post(base, {"service": "grievance", "starts_on": "2030-01-01"})
    assert made.status_code == 201, made.json()
    listed = {c["service"]["slug"]: c for c in made.json()["contracts"]}
    assert listed["grievance"]["starts_on"] == "2030-01-01" and listed["grievance"]["resolution_minutes"] is None
    timesheet = listed["timesheet-correction"]["id"]
    past = api.post(f"{base}/{timesheet}/end", {"ends_on": "2020-01-01"})
    assert past.status_code == 422 and "ends_on" in past.json()["errors"]
    last_day = (timezone.localdate() + timedelta(days=3)).isoformat()
    ended = api.post(f"{base}/{timesheet}/end", {"ends_on": last_day})
    assert ended.status_code == 200
    assert {c["service"]["slug"]: c["ends_on"] for c in ended.json()["contracts"]}["timesheet-correction"] == last_day
    assert api.post(f"{base}/999999/end", {"ends_on": last_day}).status_code == 404
    assert api.post("/api/clients/999999/contracts", {"service": "grievance"}).status_code == 404
    assert ApiClient(cast.payroll_lead).post(base, {"service": "grievance"}).status_code == 403
