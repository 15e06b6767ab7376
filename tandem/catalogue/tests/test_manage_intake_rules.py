"""Rules on intake fields, as a lead sets them in the service editor (and an administrator in
Django's admin): sound rules are kept and then hold on submission; rules that contradict each
other, a pattern RE2 cannot use or an unknown weekday are refused, saying why, changing nothing."""

from __future__ import annotations

import html
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tandem.catalogue import actions
from tandem.catalogue.models import IntakeField
from tandem.refusal import Invalid
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db


def client_for(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def field_data(**overrides: str) -> dict[str, str]:
    data = {
        "label": "Hours claimed", "key": "", "kind": "number", "required": "on", "help_text": "",
        "choices": "", "min_value": "", "max_value": "", "days_past": "", "days_ahead": "",
        "weekday": "", "pattern": "", "pattern_message": "", **overrides,
    }
    return {f"field-{k}": v for k, v in data.items()}


def snapshot(cast: Cast) -> list[Any]:
    return list(IntakeField.objects.filter(service=cast.timesheet).order_by("pk").values())


def test_a_lead_sets_rules_that_then_hold_on_submission(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    hours = cast.timesheet.fields.get(key="hours")
    url = f"/manage/services/{cast.timesheet.pk}/fields/{hours.pk}/"
    response = client.post(url, field_data(label="Corrected hours", key="hours", min_value="0", max_value="80"))
    assert response.status_code == 302
    hours.refresh_from_db()
    assert (hours.min_value, hours.max_value) == (Decimal(0), Decimal(80))
    assert "From 0 to 80." in client.get(f"/manage/services/{cast.timesheet.pk}/").content.decode()
    assert 'value="80"' in client.get(url).content.decode()  # as typed, not 80.0000
    api = ApiClient(cast.consultant)
    refused = api.post("/api/requests", {"service": "timesheet-correction", "intake": {**TIMESHEET_OK, "hours": "81"}})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"intake.hours": ["Enter a number from 0 to 80."]}
    assert api.post("/api/requests", {"service": "timesheet-correction", "intake": TIMESHEET_OK}).status_code == 201


def test_a_lead_adds_a_date_field_with_a_window_and_a_weekday(cast: Cast) -> None:
    response = client_for(cast.payroll_lead).post(
        f"/manage/services/{cast.timesheet.pk}/fields/",
        field_data(label="Pay date", kind="date", days_past="0", days_ahead="28", weekday="4"),
    )
    assert response.status_code == 302
    field = cast.timesheet.fields.get(key="pay_date")
    assert (field.days_past, field.days_ahead, field.weekday) == (0, 28, 4)
    assert field.rules_text == "A Friday, not in the past, at most 28 days ahead."


REFUSED = [
    ({"min_value": "100", "max_value": "0"}, "min_value", "The minimum 100 is above the maximum 0"),
    ({"kind": "text", "pattern": "[A-Z", "pattern_message": "Capitals"}, "pattern",
     "The pattern cannot be used: missing ]: [A-Z."),
    ({"kind": "text", "pattern": r"(?=W)W\d+", "pattern_message": "A W-number"}, "pattern",
     "without backreferences or lookarounds"),
    ({"kind": "text", "pattern": r"W\d{6}"}, "pattern_message", "Say in words what the pattern asks for"),
    ({"kind": "date", "weekday": "8"}, "weekday", "8 is not a weekday: choose Monday to Sunday, or any day."),
    ({"kind": "date", "weekday": "Sundy"}, "weekday", "Sundy is not a weekday"),
    ({"kind": "date", "days_past": "-3"}, "days_past", "greater than or equal to 0"),
    ({"kind": "text", "min_value": "0"}, "min_value", "apply to number fields only"),
    ({"kind": "number", "weekday": "6"}, "weekday", "apply to date fields only"),
    ({"kind": "choice", "choices": "Yes\nNo", "pattern": "Yes", "pattern_message": "Yes"}, "pattern",
     "A pattern applies to text, long text and file fields (their names) only"),
]


@pytest.mark.parametrize("typed, name, told", REFUSED)
def test_it_refuses_unsound_rules_saying_why_keeping_what_was_typed_changing_nothing(
    cast: Cast, typed: dict[str, str], name: str, told: str
) -> None:
    before = snapshot(cast)
    client = client_for(cast.payroll_lead)
    hours = cast.timesheet.fields.get(key="hours")
    for url in (f"/manage/services/{cast.timesheet.pk}/fields/",
                f"/manage/services/{cast.timesheet.pk}/fields/{hours.pk}/"):
        response = client.post(url, field_data(label="Hours claimed", help_text="Keep me", **typed))
        assert response.status_code == 422, url
        body = html.unescape(response.content.decode())
        assert told in body, url
        assert f'id="id_field-{name}_error"' in body, url  # beside the field at fault
        assert 'value="Hours claimed"' in body and 'value="Keep me"' in body, url
        if name != "weekday":  # a weekday that is not one has no option to show selected
            for value in typed.values():
                assert any(kept in body for kept in (f'value="{value}"', f"{value}</textarea>",
                                                     f'"{value}" selected')), (url, value)
    assert snapshot(cast) == before


def test_the_action_refuses_an_unknown_weekday_and_a_bad_pattern_whoever_calls_it(cast: Cast) -> None:
    before = snapshot(cast)
    with pytest.raises(Invalid) as refused:
        actions.save_intake_field(cast.payroll_lead, cast.timesheet.pk, None, key="", label="Paid on",
                                  kind="date", weekday=9)
    assert refused.value.errors == {"weekday": ["9 is not a weekday: choose Monday to Sunday, or any day."]}
    with pytest.raises(Invalid) as refused:
        actions.save_intake_field(cast.payroll_lead, cast.timesheet.pk, None, key="", label="Worker number",
                                  kind="text", pattern="(W", pattern_message="A W-number")
    assert refused.value.message.startswith("The intake field was not saved: The pattern cannot be used: missing )")
    assert snapshot(cast) == before


class FormValues(HTMLParser):
    """The values a browser would post from a page's forms (inputs, selects, text areas)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.values[name] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data.lstrip("\n")


def test_djangos_admin_refuses_unsound_rules_too(cast: Cast) -> None:
    root = get_user_model().objects.create_superuser("root", "root@example.test", "pw")
    client = Client()
    client.force_login(root)
    url = f"/admin/catalogue/service/{cast.timesheet.pk}/change/"
    parser = FormValues()
    parser.feed(client.get(url).content.decode())
    row = next(k[: -len("-key")] for k, v in parser.values.items() if k.startswith("fields-") and v == "hours")
    before = snapshot(cast)
    response = client.post(url, {**parser.values, f"{row}-min_value": "100", f"{row}-max_value": "0"})
    assert response.status_code == 200  # the admin shows its form again, with the errors
    assert "The minimum 100 is above the maximum 0" in html.unescape(response.content.decode())
    assert snapshot(cast) == before
    response = client.post(url, {**parser.values, f"{row}-min_value": "0", f"{row}-max_value": "100"})
    assert response.status_code == 302
    hours = cast.timesheet.fields.get(key="hours")
    assert (hours.min_value, hours.max_value) == (Decimal(0), Decimal(100))
