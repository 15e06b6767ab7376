"""The catalogue pages and the submit form, through the HTTP client against a real database."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast

SUBMIT = "/catalogue/timesheet-correction/request/"


def signed_in(client: Client, person) -> Client:
    client.force_login(person.user)
    return client


def intake(values: dict[str, str]) -> dict[str, str]:
    return {f"intake-{key}": value for key, value in values.items()}


def form_post(**overrides: str) -> dict[str, str]:
    return {
        **intake(TIMESHEET_OK),
        "title": "",
        "channel": "internal",
        "case": "",
        "token": "t-1",
        **overrides,
    }


def test_it_shows_the_catalogue_grouped_by_providing_unit(client: Client, cast: Cast) -> None:
    html = signed_in(client, cast.consultant).get("/catalogue/").content.decode()
    assert html.index(">HR</h2>") < html.index(">Payroll</h2>")
    assert "Timesheet correction" in html and "2 working days" in html
    assert "Confidential" in html  # the grievance service is marked


def test_it_filters_the_catalogue_by_text(client: Client, cast: Cast) -> None:
    html = signed_in(client, cast.consultant).get("/catalogue/?q=timesheet").content.decode()
    assert "Timesheet correction" in html and "Grievance" not in html
    html = client.get("/catalogue/?q=zzz").content.decode()
    assert "No service matches" in html


def test_it_shows_a_service_page_with_scope_fields_and_procedure(
    client: Client, cast: Cast
) -> None:
    response = signed_in(client, cast.consultant).get("/catalogue/timesheet-correction/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "What we do",
        "Rate changes",
        "Corrected hours",
        "Check the client&#x27;s approval.",
        "Payroll Lead",
        "Last reviewed",
        "Request this",
    ):
        assert text in html, text


def test_it_answers_404_for_an_unknown_service(client: Client, cast: Cast) -> None:
    signed_in(client, cast.consultant)
    assert client.get("/catalogue/no-such-thing/").status_code == 404
    assert client.get("/catalogue/no-such-thing/request/").status_code == 404
    assert client.post("/catalogue/no-such-thing/request/", form_post()).status_code == 404


def test_it_sends_anonymous_people_to_sign_in(client: Client, cast: Cast) -> None:
    response = client.get("/catalogue/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_renders_the_submit_form_with_a_token_and_the_intake_fields(
    client: Client, cast: Cast
) -> None:
    html = signed_in(client, cast.consultant).get(SUBMIT).content.decode()
    assert re.search(r'name="token" value="[0-9a-f]{32}"', html)
    for name in (
        "intake-worker",
        "intake-hours",
        "intake-week_ending",
        "intake-reason",
        "intake-notes",
    ):
        assert f'name="{name}"' in html
    assert 'value="external"' in html
    assert '<label for="id_intake-worker">Worker name</label>' in html


def test_it_hides_the_external_channel_when_the_service_does_not_take_it(
    client: Client, cast: Cast
) -> None:
    html = signed_in(client, cast.consultant).get("/catalogue/grievance/request/").content.decode()
    assert 'value="external"' not in html


def test_it_submits_a_request_and_opens_it(client: Client, cast: Cast) -> None:
    response = signed_in(client, cast.consultant).post(SUBMIT, form_post(title="Ann's overtime"))
    sr = ServiceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{sr.pk}/"
    assert (
        sr.title == "Ann's overtime"
        and sr.intake["hours"] == "37.5"
        and sr.idempotency_key == "t-1"
    )
    assert "Sent to Payroll" in client.get(response["Location"]).content.decode()


def test_it_refuses_a_missing_required_field_and_keeps_what_was_typed(
    client: Client, cast: Cast
) -> None:
    response = signed_in(client, cast.consultant).post(
        SUBMIT,
        form_post(
            **{"intake-worker": "", "intake-notes": "Client: Brightside", "title": "Keep me"}
        ),
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "This field is required." in html and 'aria-invalid="true"' in html
    assert 'value="37.5"' in html and 'value="2026-11-20"' in html and 'value="Keep me"' in html
    assert "Client: Brightside</textarea>" in html
    assert '<option value="Overtime" selected>' in html
    assert 'value="t-1"' in html  # the same token, so a corrected resend is still one request
    assert ServiceRequest.objects.count() == 0


def test_it_refuses_text_in_a_number_field(client: Client, cast: Cast) -> None:
    response = signed_in(client, cast.consultant).post(
        SUBMIT, form_post(**{"intake-hours": "lots"})
    )
    assert response.status_code == 422
    assert (
        "Enter a number." in response.content.decode()
        and 'value="lots"' in response.content.decode()
    )
    assert ServiceRequest.objects.count() == 0


def test_it_refuses_an_impossible_date(client: Client, cast: Cast) -> None:
    response = signed_in(client, cast.consultant).post(
        SUBMIT, form_post(**{"intake-week_ending": "2026-02-30"})
    )
    assert response.status_code == 422
    assert "Enter a real date as YYYY-MM-DD." in response.content.decode()
    assert ServiceRequest.objects.count() == 0


def test_it_makes_one_request_of_a_double_click(client: Client, cast: Cast) -> None:
    signed_in(client, cast.consultant)
    first = client.post(SUBMIT, form_post(token="double"))
    second = client.post(SUBMIT, form_post(token="double"), follow=True)
    assert ServiceRequest.objects.count() == 1
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "already sent" in second.content.decode()


def test_it_gives_a_new_token_when_a_spent_one_comes_back_with_other_details(
    client: Client, cast: Cast
) -> None:
    signed_in(client, cast.consultant)
    client.post(SUBMIT, form_post(token="spent"))
    response = client.post(SUBMIT, form_post(token="spent", **{"intake-hours": "40"}))
    assert response.status_code == 409 and 'value="spent"' not in response.content.decode()
    assert ServiceRequest.objects.count() == 1


def test_it_refuses_the_external_channel_for_an_internal_only_service(
    client: Client, cast: Cast
) -> None:
    response = signed_in(client, cast.consultant).post(
        "/catalogue/grievance/request/",
        {"intake-details": "private", "channel": "external", "token": "g"},
    )
    assert response.status_code == 422 and ServiceRequest.objects.count() == 0


def test_it_attaches_a_request_to_one_of_my_open_cases_only(client: Client, cast: Cast) -> None:
    mine = actions.create_case(
        cast.consultant, customer_reference="ACME-7", title="Acme onboarding"
    )
    theirs = actions.create_case(cast.colleague, customer_reference="BETA-1", title="Beta")
    signed_in(client, cast.consultant)
    # The picker's values are the cases' references (no case id on a client's page).
    html = client.get(SUBMIT + f"?case={mine.reference}").content.decode()
    assert f'<option value="{mine.reference}" selected>' in html and "BETA-1" not in html
    assert client.post(SUBMIT, form_post(case=theirs.reference)).status_code == 422
    assert client.post(SUBMIT, form_post(case=mine.reference, token="t-2")).status_code == 302
    assert ServiceRequest.objects.get().case == mine


def test_it_checks_csrf_on_the_submit_form(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.consultant.user)
    response = client.post(SUBMIT, form_post())
    assert response.status_code == 403 and ServiceRequest.objects.count() == 0
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(SUBMIT).content.decode()
    )
    assert token is not None
    assert (
        client.post(SUBMIT, {**form_post(), "csrfmiddlewaretoken": token.group(1)}).status_code
        == 302
    )


@pytest.mark.parametrize("who", ["consultant", "payroll_agent", "hr_agent", "executive", "admin"])
def test_it_shows_the_catalogue_pages_to_all_staff(client: Client, cast: Cast, who: str) -> None:
    signed_in(client, getattr(cast, who))
    for url in ("/catalogue/", "/catalogue/timesheet-correction/", SUBMIT, "/catalogue/grievance/"):
        assert client.get(url).status_code == 200, url
