"""My requests, my cases and the case page, through the HTTP client."""

from __future__ import annotations

import re

from django.test import Client

from tandem.work import actions
from tandem.work.models import Case, ServiceRequest
from tests.cast import TIMESHEET_OK, Cast


def signed_in(client: Client, person) -> Client:
    client.logout()
    client.force_login(person.user)
    return client


def submit(cast: Cast, who=None, **kwargs) -> ServiceRequest:
    return actions.submit_request(
        who or cast.consultant, cast.timesheet, TIMESHEET_OK, **kwargs
    ).request


def refs(html: str) -> list[str]:
    return re.findall(r'<span class="ref">((?:SR|C)-\d{6})</span>', html)


def test_it_lists_my_own_requests_newest_first(client: Client, cast: Cast) -> None:
    first, second = submit(cast), submit(cast)
    colleague_s = submit(cast, who=cast.colleague)
    actions.start_request(cast.payroll_agent, first.pk)
    actions.resolve_request(cast.payroll_agent, first.pk, "Done")
    actions.accept_resolution(cast.consultant, first.pk)
    signed_in(client, cast.consultant)
    assert refs(client.get("/requests/").content.decode()) == [second.reference, first.reference]
    assert refs(client.get("/requests/?show=open").content.decode()) == [second.reference]
    assert colleague_s.reference not in client.get("/requests/").content.decode()


def test_it_pages_my_requests(client: Client, cast: Cast) -> None:
    made = [submit(cast).reference for _ in range(30)]
    html = signed_in(client, cast.consultant).get("/requests/").content.decode()
    page_one = refs(html)
    after = re.search(r'rel="next" href="\?after=(\d+)"', html)
    assert after is not None
    page_two = refs(client.get(f"/requests/?after={after.group(1)}").content.decode())
    assert page_one + page_two == made[::-1]


def test_it_pages_the_units_requests_keeping_to_the_unit(client: Client, cast: Cast) -> None:
    made = [submit(cast, who=[cast.consultant, cast.colleague][i % 2]).reference for i in range(30)]
    york = submit(cast, who=cast.other_consultant)
    html = signed_in(client, cast.colleague).get("/requests/?whose=unit&show=open").content.decode()
    after = re.search(r'rel="next" href="\?whose=unit&amp;show=open&amp;after=(\d+)"', html)
    assert after is not None
    page_two = client.get(f"/requests/?whose=unit&show=open&after={after.group(1)}").content.decode()
    assert refs(html) + refs(page_two) == made[::-1] and york.reference not in html + page_two


def test_it_opens_a_case_attaches_requests_and_closes_it(client: Client, cast: Cast) -> None:
    signed_in(client, cast.consultant)
    response = client.post(
        "/cases/new/", {"customer_reference": "ACME-42", "title": "Acme: new starter"}
    )
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/" and case.owner == cast.consultant
    sr = submit(cast, case_id=case.pk)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert sr.reference in html and "ACME-42" in html and "Close case" in html
    assert case.reference in client.get("/cases/").content.decode()
    response = client.post(f"/cases/{case.pk}/close/")
    assert (
        response.status_code == 409
        and "still has open service requests" in response.content.decode()
    )
    actions.cancel_request(cast.consultant, sr.pk, "Not needed")
    assert client.post(f"/cases/{case.pk}/close/").status_code == 302
    assert Case.objects.get().status == Case.CaseStatus.CLOSED


def test_it_refuses_an_empty_case_form_and_keeps_what_was_typed(client: Client, cast: Cast) -> None:
    response = signed_in(client, cast.consultant).post(
        "/cases/new/", {"customer_reference": "ACME-1", "title": ""}
    )
    assert response.status_code == 422 and 'value="ACME-1"' in response.content.decode()
    assert Case.objects.count() == 0


def test_it_hides_a_case_from_other_branches_and_lets_only_the_owner_close_it(
    client: Client, cast: Cast
) -> None:
    case = actions.create_case(cast.consultant, customer_reference="ACME-9", title="Acme")
    assert signed_in(client, cast.other_consultant).get(f"/cases/{case.pk}/").status_code == 404
    assert client.post(f"/cases/{case.pk}/close/").status_code == 404
    signed_in(client, cast.colleague)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Close case" not in html
    assert client.post(f"/cases/{case.pk}/close/").status_code == 403
    assert Case.objects.get().status == Case.CaseStatus.OPEN


def test_it_renders_every_page_for_each_kind_of_person(client: Client, cast: Cast) -> None:
    sr = submit(cast)
    case = actions.create_case(cast.consultant, customer_reference="A-1", title="A")
    pages = [
        "/",
        "/catalogue/",
        "/requests/",
        "/cases/",
        "/cases/new/",
        "/notifications/",
        f"/requests/{sr.pk}/",
    ]
    for who in ("consultant", "colleague", "payroll_agent", "payroll_lead", "executive", "admin"):
        signed_in(client, getattr(cast, who))
        for url in pages:
            assert client.get(url, follow=True).status_code == 200, (who, url)
    assert signed_in(client, cast.consultant).get(f"/cases/{case.pk}/").status_code == 200
    for who in ("payroll_agent", "payroll_lead", "hr_agent", "admin"):
        assert signed_in(client, getattr(cast, who)).get("/queue/").status_code == 200, who


def test_it_signs_in_and_out_with_the_forms(client: Client, cast: Cast) -> None:
    response = client.post("/accounts/login/", {"username": "consultant", "password": "wrong"})
    assert (
        response.status_code == 200
        and "Check the username and password" in response.content.decode()
    )
    response = client.post("/accounts/login/", {"username": "consultant", "password": "pw"})
    assert response["Location"] == "/"
    html = client.get("/requests/").content.decode()
    assert 'action="/accounts/logout/"' in html and "Consultant" in html
    client.post("/accounts/logout/")
    assert client.get("/requests/").status_code == 302


def test_it_shows_the_team_queue_and_management_only_to_those_who_use_them(
    client: Client, cast: Cast
) -> None:
    nav = {
        who: signed_in(client, getattr(cast, who)).get("/catalogue/").content.decode()
        for who in ("consultant", "payroll_agent", "payroll_lead")
    }
    assert ">Team queue<" not in nav["consultant"] and ">Manage<" not in nav["consultant"]
    assert ">Team queue<" in nav["payroll_agent"] and ">Manage<" not in nav["payroll_agent"]
    assert ">Team queue<" in nav["payroll_lead"] and ">Manage<" in nav["payroll_lead"]
