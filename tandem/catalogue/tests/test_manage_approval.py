"""The approval rule on the service editor (/manage/services/<id>/approval/): the providing
unit's lead or an administrator says who approves, with the API's rules and messages (one
action); a bad value re-shows the form as typed with what to fix (422) and saves nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tandem.catalogue.approvals import rule_in_words
from tandem.catalogue.models import ApprovalBy, IntakeField, Service
from tandem.org.models import Person, Role
from tests.apiclient import ApiClient
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def rule(**overrides: Any) -> dict[str, Any]:
    data = {"by": "named", "approver": "", "approver_field": "", "approval_field": "", "approval_above": "",
            "approval_remind_days": "2", **overrides}
    return {f"approval-{k}": v for k, v in data.items()}


def saved(service: Service) -> tuple[Any, ...]:
    s = Service.objects.get(pk=service.pk)
    return s.approval_by, s.approver_id, s.approver_field, s.approval_field, s.approval_above, s.approval_remind_days


def post(person: Person, service: Service, data: dict[str, Any]) -> Any:
    return client_for(person).post(f"/manage/services/{service.pk}/approval/", data)


def test_the_lead_names_an_approver_above_an_amount_and_the_editor_says_the_rule(cast: Cast) -> None:
    dana = make_person("dana", cast.leeds, first="Dana", last="Reyes")
    response = post(cast.payroll_lead, cast.timesheet,
                    rule(approver=dana.pk, approval_field="hours", approval_above="40", approval_remind_days="3"))
    assert response.status_code == 302 and response["Location"].endswith("#approval")
    assert saved(cast.timesheet) == (ApprovalBy.NAMED, dana.pk, "", "hours", Decimal("40"), 3)
    body = client_for(cast.payroll_lead).get(f"/manage/services/{cast.timesheet.pk}/").content.decode()
    assert "Dana Reyes approves only above 40 in Corrected hours; reminded after 3 working days." in body
    # The form shows the rule as saved.
    assert re.search(rf'<option value="{dana.pk}" selected>', body)
    assert 'name="approval-approval_above" value="40"' in body


def test_the_lead_the_person_named_in_a_field_and_nobody(cast: Cast) -> None:
    IntakeField.objects.create(service=cast.timesheet, position=9, key="holder", label="Budget holder",
                               kind=IntakeField.Kind.EMAIL, required=False)
    dana = make_person("dana", cast.leeds, first="Dana", last="Reyes")
    # A person left chosen in the list when switching to "the requester's lead" is not sent.
    assert post(cast.payroll_lead, cast.timesheet, rule(by="lead", approver=dana.pk)).status_code == 302
    assert saved(cast.timesheet)[:2] == (ApprovalBy.LEAD, None)
    assert rule_in_words(Service.objects.get(pk=cast.timesheet.pk)) == (
        "The requester's lead approves every request; reminded after 2 working days.")
    assert post(cast.admin, cast.timesheet, rule(by="field", approver_field="holder",
                                                 approval_remind_days="0")).status_code == 302
    assert saved(cast.timesheet)[:3] == (ApprovalBy.FIELD, None, "holder")
    assert rule_in_words(Service.objects.get(pk=cast.timesheet.pk)) == (
        "The person the requester names in Budget holder approves every request; never reminded.")
    assert post(cast.payroll_lead, cast.timesheet, rule(by="none", approver=dana.pk)).status_code == 302
    service = Service.objects.get(pk=cast.timesheet.pk)
    assert not service.requires_approval and saved(service)[:3] == (ApprovalBy.NAMED, None, "")
    assert rule_in_words(service) == "Nobody: requests go straight to the team's queue."


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"approval_above": "5000"}, "approval_field",
         "Give both the number field and the amount above which approval is needed, or neither."),
        ({"approval_remind_days": "31"}, "approval_remind_days", "Remind after 0 (never) to 30 working days."),
        ({"approval_above": "99999999999999", "approval_field": "hours"}, "approval_above",
         "Give an amount of at most 13 digits."),
        ({"by": "field"}, "approver_field", "Name the email address field of Timesheet correction"),
        ({"approver": ""}, "approver", "Choose the person who approves, or choose “Nobody”."),
        ({"approval_above": "lots", "approval_field": "hours"}, "approval_above", "Enter a number."),
        ({"by": "none", "approval_field": "hours", "approval_above": "40"}, "approver",
         "Name the approver the amount rule sends requests to."),
    ],
)
def test_a_bad_value_is_refused_beside_its_field_as_typed_and_nothing_is_saved(
    cast: Cast, typed: dict[str, str], field: str, message: str
) -> None:
    dana = make_person("dana", cast.leeds, first="Dana", last="Reyes")
    before = saved(cast.timesheet)
    data = rule(**{"approver": dana.pk, **typed})
    response = post(cast.payroll_lead, cast.timesheet, data)
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    # The message stands beside the field it is about (the field's block is marked invalid).
    block = body.split(f'id="id_approval-{field}')[0].rsplit('class="field', 1)[1]
    assert "field--invalid" in block
    for key, value in typed.items():
        if key not in ("by", "approver") and value:
            assert f'value="{value}"' in body  # what was typed is kept
    assert saved(cast.timesheet) == before


def test_the_page_and_the_api_refuse_with_the_same_message(cast: Cast) -> None:
    dana = make_person("dana", cast.leeds, first="Dana", last="Reyes")
    page = post(cast.payroll_lead, cast.timesheet, rule(approver=dana.pk, approval_above="3"))
    api = ApiClient(cast.payroll_lead).post(f"/api/services/{cast.timesheet.slug}/approval",
                                            {"approver": dana.pk, "above": "3"})
    assert page.status_code == api.status_code == 422
    said = api.json()["errors"]["approval_field"][0]
    assert said.startswith("Give both the number field and the amount")
    assert said in page.content.decode()


def test_only_the_units_lead_or_an_administrator_sets_it(cast: Cast) -> None:
    dana = make_person("dana", cast.leeds, first="Dana", last="Reyes")
    hr_lead = make_person("hr_lead", cast.hr, Role.LEAD)
    before = saved(cast.timesheet)
    for outsider, status in ((hr_lead, 403), (cast.payroll_agent, 403), (cast.consultant, 403)):
        assert post(outsider, cast.timesheet, rule(approver=dana.pk)).status_code == status
    assert saved(cast.timesheet) == before
    assert client_for(cast.payroll_lead).get(f"/manage/services/{cast.timesheet.pk}/approval/").status_code == 405
