"""The submit form says who approves before anything is sent, from the same rule the submission
applies (``approval_reason``/``approver_for``): a small catalogue of services, each with its
rule, against what submitting them then does."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.test import Client

from tandem.catalogue import actions as catalogue
from tandem.catalogue.models import IntakeField, Service
from tandem.org.models import Person, Role
from tandem.work import actions
from tandem.work.models import ServiceRequest, Status
from tests.cast import TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)


def notice(person: Person, service: Service) -> str | None:
    client = Client()
    client.force_login(person.user)
    body = client.get(f"/catalogue/{service.slug}/request/").content.decode()
    if 'data-testid="approval-notice"' not in body:
        return None
    return html.unescape(body.split('data-testid="approval-notice">')[1].split("</p>")[0])


def purchase(cast: Cast, slug: str) -> Service:
    """A small service with an Amount and a Budget holder, as a spending approval has."""
    service = Service.objects.create(
        unit=cast.payroll, name=f"Purchase {slug}", slug=slug, summary="Buy something.", scope_includes="Buying.",
        owner=cast.payroll_lead, turnaround_days=2, active=True,
    )
    IntakeField.objects.create(service=service, position=1, key="amount", label="Amount", kind="number")
    IntakeField.objects.create(service=service, position=2, key="holder", label="Budget holder", kind="email",
                               required=False)
    return service


def test_the_form_says_who_approves_as_the_submission_then_does(cast: Cast) -> None:
    dana = make_person("dana", cast.york, first="Dana", last="Reyes")
    sam = make_person("sam", cast.leeds, Role.LEAD, first="Sam", last="Patel")
    plain, named, lead, field, above = (purchase(cast, s) for s in ("plain", "named", "lead", "field", "above"))
    catalogue.set_approval(cast.payroll_lead, named.pk, dana.pk)
    catalogue.set_approval(cast.payroll_lead, lead.pk, None, by="lead")
    catalogue.set_approval(cast.payroll_lead, field.pk, None, by="field", approver_field="holder")
    catalogue.set_approval(cast.payroll_lead, above.pk, dana.pk, "amount", Decimal("5000"))
    tail = " It waits for that yes before Payroll starts; the turnaround counts from the approval."

    assert notice(cast.consultant, plain) is None
    assert notice(cast.consultant, named) == "Needs approval by Dana Reyes." + tail
    assert notice(cast.consultant, lead) == "Needs approval by your lead, Sam Patel." + tail
    assert notice(cast.consultant, field) == "Needs approval by the person you name in Budget holder." + tail
    assert notice(cast.consultant, above) == "Needs approval by Dana Reyes only above 5,000 in Amount." + tail
    # Nobody approves their own request: the approver and the lead are told nothing.
    assert notice(dana, named) is None and notice(dana, above) is None
    assert notice(sam, lead) is None

    # What submitting does matches what the form said, service by service.
    def sent(service: Service, by: Person, values: dict[str, str]) -> ServiceRequest:
        return actions.submit_request(by, Service.objects.get(pk=service.pk), values).request

    assert sent(plain, cast.consultant, {"amount": "9000"}).status == Status.NEW
    assert sent(named, cast.consultant, {"amount": "1"}).approver == dana
    assert sent(lead, cast.consultant, {"amount": "1"}).approver == sam
    assert sent(field, cast.consultant, {"amount": "1", "holder": "dana@example.test"}).approver == dana
    assert sent(above, cast.consultant, {"amount": "5000"}).status == Status.NEW  # not above
    assert sent(above, cast.consultant, {"amount": "5000.01"}).approver == dana
    assert sent(named, dana, {"amount": "1"}).status == Status.NEW
    assert sent(lead, sam, {"amount": "1"}).status == Status.NEW


def test_a_requester_whose_unit_has_no_lead_is_told_on_the_form_what_submitting_would_say(cast: Cast) -> None:
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, None, by="lead")
    said = notice(cast.consultant, cast.timesheet)
    assert said is not None and said.startswith(
        "Timesheet correction is approved by the requester's lead, and Leeds branch has no lead in Tandem."
    )
    assert "the turnaround counts" not in said
    client = Client()
    client.force_login(cast.consultant.user)
    data = {f"intake-{k}": v for k, v in TIMESHEET_OK.items()} | {"title": "Hours", "channel": "internal"}
    page = client.post(f"/catalogue/{cast.timesheet.slug}/request/", data)
    assert page.status_code == 422 and said in html.unescape(page.content.decode())
    assert ServiceRequest.objects.count() == 0
