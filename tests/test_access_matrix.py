"""The access matrix, generated: every page of the URL configuration and every operation of the
OpenAPI document, for every kind of person, against one confidential HR request. New pages and
operations are covered by themselves.

What must hold, whoever asks:
- nobody outside the request's circle (the requester, the providing unit, executives for the
  path only, administrators) learns it exists: request-specific addresses answer 404, and no
  page or list shows its reference, its payload or its comments;
- executives see the path but never the payload, on no page and in no API answer; the
  requester's rating of it, their comment and the team's answer are payload too;
- without credentials, or with a revoked token, nothing answers but the sign-in page (pages)
  or 401 (API);
- nothing answers 500.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tandem.org.actions import revoke_api_tokens
from tandem.org.models import ApiToken, Person, Role
from tandem.voice import actions as voice
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tandem.work.queries import requests_visible_to
from tests.apiclient import ApiClient, token_for
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person
from tests.test_security import routes

pytestmark = pytest.mark.django_db

SECRET = "CONFIDENTIAL-PAYLOAD-7f3a"
WHISPER = "CONFIDENTIAL-COMMENT-7f3a"
VERDICT = "CONFIDENTIAL-RATING-7f3a"  # the requester's comment with their rating
REPLY = "CONFIDENTIAL-ANSWER-7f3a"  # the team's answer to it
FILENAME = "CONFIDENTIAL-FILE-7f3a"  # the name of a file attached to it
PAYLOAD = (SECRET, WHISPER, VERDICT, REPLY, FILENAME)
OUTSIDERS = ("colleague", "other_consultant", "payroll_agent", "payroll_lead")
# Signing in is public, and so is signing in through an organisation's provider (docs/sign-in.md).
PUBLIC_PAGES = ("/accounts/login/", "/accounts/logout/", "/accounts/sso/")


@pytest.fixture
def branch_lead(cast: Cast) -> Person:
    """The lead of the consultant's branch: sees the branch's requests, but a confidential one
    stays with the person who made it (a grievance may be about the lead)."""
    return make_person("branch_lead", cast.leeds, Role.LEAD)


@pytest.fixture
def secret(cast: Cast, settings, tmp_path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    sr = actions.submit_request(cast.consultant, cast.grievance, {"details": SECRET}, title="Grievance").request
    actions.add_comment(cast.hr_agent, sr.pk, WHISPER,
                        files=[SimpleUploadedFile(f"{FILENAME}.pdf", b"%PDF-1.4 " + WHISPER.encode())])
    actions.assign_request(cast.hr_agent, sr.pk, cast.hr_agent.pk)
    actions.start_request(cast.hr_agent, sr.pk)
    actions.resolve_request(cast.hr_agent, sr.pk, "Heard and settled.")
    voice.rate_request(cast.consultant, sr.pk, 2, VERDICT)
    voice.answer_rating(cast.hr_agent, sr.pk, REPLY)
    return sr.pk, sr.reference


def page_paths(pk: int) -> list[str]:
    """Every page with its first integer parameter set to the confidential request's id."""
    out = []
    for path in routes():
        out.append(re.sub(r"/1/", f"/{pk}/", path, count=1) if "/requests/1/" in path else path)
    return out


def leaks(body: str, reference: str | None) -> list[str]:
    """The markers of the confidential request in a response (its reference unless None)."""
    return [marker for marker in (*PAYLOAD, reference) if marker is not None and marker in body]


def test_outsiders_learn_nothing_from_any_page(cast: Cast, secret: tuple[int, str], branch_lead: Person) -> None:
    pk, reference = secret
    paths = [*page_paths(pk), "/requests/?whose=unit", "/cases/?whose=unit"]
    assert len(paths) > 30
    for username in (*OUTSIDERS, "branch_lead"):
        client = Client()
        assert client.login(username=username, password=PASSWORD)
        for path in paths:
            response = client.get(path)
            assert response.status_code < 500, (username, path)
            if f"/requests/{pk}/" in path:
                assert response.status_code in (404, 405), (username, path, response.status_code)
            body = response.content.decode(errors="replace")
            assert not leaks(body, reference), (username, path, leaks(body, reference))


def test_the_circle_sees_it_and_executives_see_the_path_only(cast: Cast, secret: tuple[int, str]) -> None:
    pk, reference = secret
    for username, payload in (("consultant", True), ("hr_agent", True), ("admin", True), ("executive", False)):
        client = Client()
        assert client.login(username=username, password=PASSWORD)
        body = client.get(f"/requests/{pk}/").content.decode()
        assert reference in body, username
        for marker in PAYLOAD:
            assert (marker in body) is payload, (username, marker)


def test_executives_read_no_payload_on_any_page_or_api_read(cast: Cast, secret: tuple[int, str]) -> None:
    pk, _reference = secret
    client = Client()
    assert client.login(username="executive", password=PASSWORD)
    for path in page_paths(pk):
        response = client.get(path)
        assert response.status_code < 500, path
        assert not leaks(response.content.decode(errors="replace"), None), (path, leaks(response.content.decode(), None))
    api = ApiClient(cast.executive)
    for path in [path for method, path in api_operations() if method == "GET"]:
        response = api.get(concrete(path, pk))
        assert response.status_code < 500, path
        assert not leaks(response.content.decode(errors="replace"), None), path


def test_anonymous_visitors_are_sent_to_sign_in(db, secret: tuple[int, str]) -> None:
    pk, reference = secret
    client = Client()
    for path in page_paths(pk):
        if path.startswith(PUBLIC_PAGES) or path.startswith("/pulse/link/"):
            continue
        response = client.get(path)
        if path.startswith("/approvals/"):
            # An approver's signed link needs no sign-in; a link Tandem did not sign finds nothing.
            assert response.status_code == 404 and not leaks(response.content.decode(), reference), path
            continue
        assert response.status_code in (302, 405), (path, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), path
        assert not leaks(response.content.decode(errors="replace"), reference), path


def api_operations() -> list[tuple[str, str]]:
    document = Client().get("/api/openapi.json").json()
    return [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]


def concrete(path: str, pk: int) -> str:
    path = re.sub(r"\{request_id\}", str(pk), path)
    path = re.sub(r"\{[a-z_]*slug\}", "grievance", path)
    return re.sub(r"\{[a-z_]+\}", str(pk), path)


def test_the_api_refuses_without_credentials_and_with_a_revoked_token(cast: Cast, secret: tuple[int, str]) -> None:
    pk, _reference = secret
    revoked = ApiClient(token=token_for(cast.admin))
    revoke_api_tokens(cast.admin.user, ApiToken.objects.values_list("pk", flat=True))
    anonymous = ApiClient()
    operations = api_operations()
    assert len(operations) > 40
    for method, path in operations:
        url = concrete(path, pk)
        for who, client in (("anonymous", anonymous), ("revoked", revoked)):
            response = client.client.generic(method, url, "{}", content_type="application/json")
            assert response.status_code == 401, (who, method, path, response.status_code)
            assert response.json()["detail"], (who, method, path)


def test_outsiders_learn_nothing_from_any_api_read(cast: Cast, secret: tuple[int, str], branch_lead: Person) -> None:
    pk, reference = secret
    reads = [path for method, path in api_operations() if method == "GET"]
    for username in (*OUTSIDERS, "branch_lead"):
        client = ApiClient(branch_lead if username == "branch_lead" else getattr(cast, username))
        for path in reads:
            url = concrete(path, pk)
            response = client.get(url)
            assert response.status_code < 500, (username, path)
            if "{request_id}" in path:
                assert response.status_code == 404, (username, path, response.status_code)
            assert not leaks(response.content.decode(errors="replace"), reference), (username, path)


def test_a_branch_lead_sees_the_branchs_requests_and_cases_and_nothing_more(
    cast: Cast, secret: tuple[int, str], branch_lead: Person
) -> None:
    """docs/demo.md: a front-office lead sees the branch's requests and cases. The branch's are
    those its people made (the consultant's, a colleague's, one on a colleague's case); not
    another branch's, not another unit's, and not a confidential one of the branch."""
    secret_pk, secret_reference = secret

    def ask(who: Person, title: str, case_id: int | None = None) -> ServiceRequest:
        return actions.submit_request(who, cast.timesheet, TIMESHEET_OK, title=title, case_id=case_id).request

    ours_case = actions.create_case(cast.colleague, customer_reference="ACME-1", title="Acme's new starter")
    york_case = actions.create_case(cast.other_consultant, customer_reference="YORK-1", title="York's customer")
    ours = [
        ask(cast.consultant, "The consultant's ask"),
        ask(cast.colleague, "A colleague's ask", ours_case.pk),
        ask(cast.consultant, "Another of the consultant's"),
    ]
    theirs = [ask(cast.other_consultant, "York's ask", york_case.pk), ask(cast.hr_agent, "HR's own ask")]

    # The one permission-aware query says so ...
    assert sorted(requests_visible_to(branch_lead.user).values_list("pk", flat=True)) == [sr.pk for sr in ours]

    # ... and every page and the API follow it.
    client = Client()
    assert client.login(username="branch_lead", password=PASSWORD)
    listed = client.get("/requests/?whose=unit").content.decode()
    assert re.findall(r'<span class="ref">([A-Z][A-Z0-9-]*-\d{6})</span>', listed) == [sr.reference for sr in reversed(ours)]
    assert "Leeds branch: requests" in listed and "Consultant" in listed  # whose they are
    assert re.findall(r'<span class="ref">([A-Z][A-Z0-9-]*-\d{6})</span>', client.get("/requests/").content.decode()) == []
    for sr in ours:
        assert client.get(f"/requests/{sr.pk}/").status_code == 200, sr.title
    for pk in [sr.pk for sr in theirs] + [secret_pk]:
        assert client.get(f"/requests/{pk}/").status_code == 404, pk
    assert secret_reference not in listed

    cases = client.get("/cases/?whose=unit").content.decode()
    assert ours_case.reference in cases and york_case.reference not in cases
    assert client.get(f"/cases/{ours_case.pk}/").status_code == 200
    assert client.get(f"/cases/{york_case.pk}/").status_code == 404

    api = ApiClient(branch_lead)
    for query in ("", "?requesting_unit=leeds"):
        items = api.get(f"/api/requests{query}").json()["items"]
        assert sorted(item["id"] for item in items) == [sr.pk for sr in ours], query


def test_search_finds_the_request_only_where_the_lists_show_it(cast: Cast, secret: tuple[int, str],
                                                                branch_lead: Person) -> None:
    """By its payload words only for its circle; by its reference also for executives (the path);
    never for anyone else, and never a marker in any answer."""
    pk, reference = secret
    everyone = (*OUTSIDERS, "branch_lead", "executive", "consultant", "hr_agent", "admin")
    for username in everyone:
        person = branch_lead if username == "branch_lead" else getattr(cast, username)
        api = ApiClient(person)
        client = Client()
        assert client.login(username=username, password=PASSWORD)
        for text in (*PAYLOAD, reference, "Grievance"):
            answer = api.get(f"/api/search?q={text}")
            assert answer.status_code == 200, (username, text)
            ids = [item["id"] for item in answer.json()["items"]]
            in_circle = username in ("consultant", "hr_agent", "admin")
            by_path = text in (reference, "Grievance") and username == "executive"
            if text in (VERDICT, REPLY):
                # A rating and its answer are voice's, not the request's words (docs/search.md);
                # they may not show up in an answer all the same. Its files' names are searched,
                # by the circle that sees its payload only.
                in_circle = False
            assert (pk in ids) is (in_circle or by_path), (username, text, ids)
            body = answer.content.decode() + client.get("/search/", {"q": text}).content.decode()
            shown = None if in_circle or by_path else reference
            # The query is echoed back; any other marker in an answer is a leak.
            assert not [m for m in leaks(body, shown) if m != text], (username, text)


# --- pay: nobody but HR and administrators sees a person's pay or a small group's figures --------

# Grade C2 holds two front-office people and one back-office person: under the threshold, so no
# figure of it is shown anywhere; each amount below is one person's or that small group's.
PAY_MARKERS = ("4731.00", "4917.00", "4359.00", "47.31", "49.17", "43.59", "48.24", "317.23")


@pytest.fixture
def pay_snapshot(cast: Cast) -> int:
    from datetime import date

    from tandem.pay import actions as pay
    from tandem.pay.tests.scene import BACK, FRONT, snapshot_csv, staff

    staff(cast)
    pay.grant_hr_role(cast.admin, cast.hr_agent)
    marked = {"f12": 47.31, "f13": 49.17, "b12": 43.59}
    rows = [(u, g, marked.get(u, h), 317.23 if u == "b1" else b, leave) for u, g, h, b, leave in FRONT + BACK]
    return pay.import_snapshot(cast.hr_agent, snapshot_csv(rows), date(2026, 4, 30)).pk


def pay_leaks(body: str) -> list[str]:
    """The markers found as numbers of their own: ``43.59`` inside a time (``21:13:43.592Z``) is
    not a pay figure."""
    return [marker for marker in PAY_MARKERS if re.search(rf"(?<![\d.:]){re.escape(marker)}(?!\d)", body)]


def test_no_page_api_read_or_csv_shows_individual_pay_but_to_hr_and_administrators(
    cast: Cast, pay_snapshot: int, branch_lead: Person
) -> None:
    rows_pages = [f"/pay/snapshots/{pay_snapshot}/", f"/pay/snapshots/{pay_snapshot}/?format=csv"]
    paths = [*routes(), "/pay/?format=csv", *rows_pages]
    reads = [concrete(path, pay_snapshot) for method, path in api_operations() if method == "GET"]
    everyone = (*OUTSIDERS, "branch_lead", "consultant", "executive", "hr_agent", "admin")
    for username in everyone:
        individual = username in ("hr_agent", "admin")
        client = Client()
        assert client.login(username=username, password=PASSWORD)
        for path in paths:
            response = client.get(path)
            assert response.status_code < 500, (username, path)
            body = response.content.decode(errors="replace")
            if path in rows_pages and individual:
                assert "4731.00" in body, (username, path)  # the markers are real: HR reads them here
                continue
            assert not pay_leaks(body), (username, path, pay_leaks(body))
        api = ApiClient(branch_lead if username == "branch_lead" else getattr(cast, username))
        for url in reads:
            response = api.get(url)
            assert response.status_code < 500, (username, url)
            body = response.content.decode(errors="replace")
            if url.endswith(f"/pay/snapshots/{pay_snapshot}/rows"):
                assert (response.status_code == 200) is individual, (username, url, response.status_code)
                if individual:
                    assert "4731.0" in body
                    continue
            assert not pay_leaks(body), (username, url, pay_leaks(body))


def test_the_pay_report_is_for_executives_hr_and_administrators(cast: Cast, pay_snapshot: int) -> None:
    for username, allowed in (("executive", True), ("hr_agent", True), ("admin", True), ("payroll_lead", False),
                              ("consultant", False), ("payroll_agent", False)):
        client = Client()
        assert client.login(username=username, password=PASSWORD)
        page = client.get("/pay/")
        assert (page.status_code == 200) is allowed, username
        if allowed:
            assert "Not shown" in page.content.decode()  # grade C2, and C1 beside it
