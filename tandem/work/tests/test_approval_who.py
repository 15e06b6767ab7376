"""Who approves: the named approver, the requester's lead, or the person the requester names in
an email field of the form. Nobody to ask refuses the submission (422, nothing created), from
the action, the page (which keeps what was typed) and the API."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.catalogue import actions as catalogue
from tandem.catalogue.models import IntakeField, Service
from tandem.org.models import Person, Role
from tandem.refusal import Invalid
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(person: Person) -> Client:
    client = Client()
    assert client.login(username=person.user.username, password=PASSWORD)
    return client


def counts() -> tuple[int, int]:
    return ServiceRequest.objects.count(), Event.objects.count()


def by_lead(cast: Cast) -> Service:
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, None, by="lead")
    return Service.objects.get(pk=cast.timesheet.pk)


def by_field(cast: Cast) -> Service:
    IntakeField.objects.create(service=cast.timesheet, position=9, key="approver", label="Who approves",
                               kind=IntakeField.Kind.EMAIL, required=False)
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, None, by="field", approver_field="approver")
    return Service.objects.get(pk=cast.timesheet.pk)


def test_the_requesters_lead_approves_and_a_unit_without_one_is_refused(cast: Cast) -> None:
    service = by_lead(cast)
    before = counts()
    with pytest.raises(Invalid) as refused:
        actions.submit_request(cast.consultant, service, TIMESHEET_OK)
    assert refused.value.status == 422
    assert "Leeds branch has no lead" in refused.value.message and "approver" in refused.value.errors
    assert counts() == before  # nothing created
    # The API says the same, and creates nothing either.
    body = {"service": service.slug, "intake": TIMESHEET_OK}
    response = ApiClient(cast.consultant).post("/api/requests", body)
    assert response.status_code == 422 and "has no lead" in response.json()["detail"]
    assert counts() == before

    zed = make_person("zed_lead", cast.leeds, Role.LEAD, first="Zed", last="Lead")
    ann = make_person("ann_lead", cast.leeds, Role.LEAD, first="Ann", last="Lead")
    sr = actions.submit_request(cast.consultant, service, TIMESHEET_OK).request
    sr.refresh_from_db()
    assert sr.status == Status.WAITING_APPROVAL and sr.approver == ann  # the first lead by name
    # A York consultant's request goes to York's lead, not Leeds'.
    york_lead = make_person("york_lead", cast.york, Role.LEAD)
    other = actions.submit_request(cast.other_consultant, service, TIMESHEET_OK).request
    assert ServiceRequest.objects.get(pk=other.pk).approver == york_lead
    # An inactive lead is nobody to ask.
    ann.user.is_active = False
    ann.user.save()
    assert ServiceRequest.objects.get(
        pk=actions.submit_request(cast.consultant, service, TIMESHEET_OK).request.pk).approver == zed
    # A lead's own request: nobody approves their own, none is asked.
    own = actions.submit_request(zed, service, TIMESHEET_OK).request
    assert ServiceRequest.objects.get(pk=own.pk).status == Status.NEW


def test_the_person_named_in_the_field_approves(cast: Cast) -> None:
    service = by_field(cast)
    manager = make_person("alice", cast.york, first="Alice", last="Manager")
    sr = actions.submit_request(cast.consultant, service, {**TIMESHEET_OK, "approver": "ALICE@example.test"}).request
    sr.refresh_from_db()
    assert sr.status == Status.WAITING_APPROVAL and sr.approver == manager
    asked = Event.objects.get(request=sr, kind=Event.Kind.APPROVAL_ASKED)
    assert asked.data["approver"] == manager.pk


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("", "give the email address of the person who approves"),
        ("nobody@example.test", "nobody active in Tandem has the address nobody@example.test"),
        ("consultant@example.test", "you cannot approve your own request"),
        ("gone@example.test", "nobody active in Tandem has the address gone@example.test"),
    ],
)
def test_a_bad_approver_in_the_field_is_refused_naming_the_field(cast: Cast, given: str, said: str) -> None:
    service = by_field(cast)
    gone = make_person("gone", cast.york)
    gone.user.is_active = False
    gone.user.save()
    before = counts()
    with pytest.raises(Invalid) as refused:
        actions.submit_request(cast.consultant, service, {**TIMESHEET_OK, "approver": given})
    assert refused.value.status == 422 and refused.value.message.startswith("Who approves: ")
    assert said in refused.value.message and said in refused.value.errors["approver"][0]
    assert counts() == before
    # The API names the field as it names every intake field.
    response = ApiClient(cast.consultant).post(
        "/api/requests", {"service": service.slug, "intake": {**TIMESHEET_OK, "approver": given}})
    assert response.status_code == 422 and said in response.json()["detail"]
    assert said in str(response.json()["errors"]["intake.approver"])
    assert counts() == before


def test_the_page_refuses_a_bad_approver_and_keeps_what_was_typed(cast: Cast) -> None:
    service = by_field(cast)
    page = signed_in(cast.consultant)
    form = {f"intake-{k}": v for k, v in {**TIMESHEET_OK, "approver": "nobody@example.test"}.items()}
    form.update({"intake-worker": "Priya Shah (typed)", "title": "", "channel": "internal", "case": "", "token": "t-1"})
    response = page.post(f"/catalogue/{service.slug}/request/", form)
    assert response.status_code == 422, response.text[:500]
    assert "nobody active in Tandem has the address nobody@example.test" in response.text
    assert 'value="nobody@example.test"' in response.text and "Priya Shah (typed)" in response.text
    assert ServiceRequest.objects.count() == 0
    # A malformed address is the form's own check.
    form["intake-approver"] = "not an address"
    response = page.post(f"/catalogue/{service.slug}/request/", form)
    assert response.status_code == 422 and "Enter an email address" in response.text
    assert ServiceRequest.objects.count() == 0


def test_an_approval_rule_by_lead_or_field_is_refused_when_it_cannot_work(cast: Cast) -> None:
    service = cast.timesheet
    with pytest.raises(Invalid) as refused:
        catalogue.set_approval(cast.payroll_lead, service.pk, None, by="field", approver_field="worker")
    assert "no email address field 'worker'" in refused.value.message
    with pytest.raises(Invalid) as refused:
        catalogue.set_approval(cast.payroll_lead, service.pk, None, by="field")
    assert "Name the email address field" in refused.value.message
    with pytest.raises(Invalid) as refused:
        catalogue.set_approval(cast.payroll_lead, service.pk, cast.colleague.pk, by="lead")
    assert "Leave the approver empty" in refused.value.message
    api = ApiClient(cast.payroll_lead)
    response = api.post(f"/api/services/{service.slug}/approval", {"by": "anyone"})
    assert response.status_code == 422
    service.refresh_from_db()
    assert service.approval_by == "named" and service.approver is None and not service.requires_approval
    response = api.post(f"/api/services/{service.slug}/approval", {"by": "lead", "field": "hours", "above": "40"})
    assert response.status_code == 200, response.json()
    assert response.json() == {"by": "lead", "approver": None, "approver_field": "", "remind_after_days": 2,
                               "field": "hours", "above": "40"}
    assert api.get(f"/api/services/{service.slug}").json()["approval"]["by"] == "lead"
