"""Search across requests: what it finds, in what order, and what it never finds for whom
(the lists' rules, docs/search.md), on the database under test (SQLite FTS5 or PostgreSQL)."""

from __future__ import annotations

import re

import pytest

from tandem.org.models import Role
from tandem.org.queries import AnyUser
from tandem.refusal import Invalid
from tandem.search.documents import rebuild
from tandem.search.queries import search_requests
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.cast import TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db


def ask(cast: Cast, title: str, **intake: str) -> ServiceRequest:
    return actions.submit_request(cast.consultant, cast.timesheet, {**TIMESHEET_OK, **intake}, title=title).request


def found(user: AnyUser, text: str) -> list[int]:
    return [hit.request.pk for hit in search_requests(user, text).hits]


def test_it_finds_a_request_by_title_intake_comment_requester_and_reference(cast: Cast) -> None:
    sr = ask(cast, "Overtime for the Harrogate warehouse", notes="Forklift certificate attached")
    other = ask(cast, "Something else entirely")
    actions.add_comment(cast.payroll_agent, sr.pk, "The client confirmed the kilimanjaro shift.")
    agent = cast.payroll_agent.user
    assert found(agent, "harrogate") == [sr.pk]
    assert found(agent, "forklift certificate") == [sr.pk]  # intake values
    assert found(agent, "Kilimanjaro") == [sr.pk]  # a comment, written after submission
    assert found(agent, "warehouses") == [sr.pk]  # stemmed
    assert set(found(agent, "consultant")) == {sr.pk, other.pk}  # the requester
    assert found(agent, sr.reference) == [sr.pk]
    assert found(agent, sr.reference.lower().replace("-0000", "-")) == [sr.pk]
    assert found(agent, "harrogate nonexistentword") == []  # every word must be there


def test_it_ranks_a_title_match_above_a_comment_match(cast: Cast) -> None:
    in_comment = ask(cast, "Hours for week 12")
    actions.add_comment(cast.payroll_agent, in_comment.pk, "Mentions zanzibar once.")
    in_title = ask(cast, "Zanzibar office timesheet")
    assert found(cast.payroll_agent.user, "zanzibar") == [in_title.pk, in_comment.pk]


def test_it_marks_the_words_found_in_a_snippet_and_escapes_the_text(cast: Cast) -> None:
    sr = ask(cast, "Plain title")
    actions.add_comment(cast.payroll_agent, sr.pk, "<script>alert(1)</script> the quokka arrived late")
    hit = search_requests(cast.payroll_agent.user, "quokka").hits[0]
    assert hit.snippet is not None
    assert "<mark>quokka</mark>" in hit.snippet and "<script>" not in hit.snippet
    assert "&lt;script&gt;" in hit.snippet and hit.found_in == "Intake or comments"


def test_outsiders_never_find_another_teams_or_a_confidential_request(cast: Cast) -> None:
    secret = actions.submit_request(cast.consultant, cast.grievance, {"details": "wombat grievance"},
                                    title="Grievance about the wombat").request
    actions.add_comment(cast.hr_agent, secret.pk, "Spoke to the pangolin", internal=True)
    timesheet = ask(cast, "Wombat timesheet")
    for who in ("colleague", "other_consultant", "payroll_agent", "payroll_lead"):
        user = getattr(cast, who).user
        assert secret.pk not in found(user, "wombat"), who
        assert found(user, secret.reference) == [], who
        assert found(user, "pangolin") == [], who
    assert found(cast.other_consultant.user, "wombat") == []  # another branch's request
    assert found(cast.hr_agent.user, "wombat") == [secret.pk]  # HR works the grievance, not the timesheet
    assert found(cast.hr_agent.user, "pangolin") == [secret.pk]
    assert found(cast.consultant.user, "pangolin") == []  # an internal note: not for the requester
    assert set(found(cast.consultant.user, "wombat")) == {secret.pk, timesheet.pk}
    assert set(found(cast.admin.user, "pangolin")) == {secret.pk}


def test_an_executive_finds_a_confidential_request_by_its_path_never_by_its_payload(cast: Cast) -> None:
    secret = actions.submit_request(cast.consultant, cast.grievance, {"details": "okapi harassment"},
                                    title="Grievance").request
    actions.add_comment(cast.consultant, secret.pk, "The aardvark said so")
    actions.add_comment(cast.hr_agent, secret.pk, "Spoke to the pangolin", internal=True)
    open_one = ask(cast, "Timesheet", notes="okapi overtime")
    executive = cast.executive.user
    assert found(executive, "okapi") == [open_one.pk]  # the open request's payload, not the secret's
    assert found(executive, "aardvark") == []
    assert found(executive, "pangolin") == []
    assert found(executive, "grievance") == [secret.pk]  # its title: lists show executives that
    assert found(executive, secret.reference) == [secret.pk]


def test_a_lent_person_finds_the_borrowing_units_internal_notes_only_while_lent(cast: Cast) -> None:
    sr = ask(cast, "Timesheet")
    actions.add_comment(cast.payroll_agent, sr.pk, "Ledger mismatch noted", internal=True)
    assert found(cast.colleague.user, "ledger") == []


def test_search_follows_requests_visible_to_exactly(cast: Cast) -> None:
    """Whatever the lists show a person, search finds; nothing else."""
    from tandem.work.queries import requests_visible_to

    branch_lead = make_person("branch_lead", cast.leeds, Role.LEAD)
    mine = [ask(cast, f"Gazebo {n}") for n in range(3)]
    theirs = actions.submit_request(cast.other_consultant, cast.timesheet, TIMESHEET_OK, title="Gazebo York").request
    hr_own = actions.submit_request(cast.hr_agent, cast.timesheet, TIMESHEET_OK, title="Gazebo HR").request
    everyone = [*mine, theirs, hr_own]
    for person in (cast.consultant, cast.colleague, cast.other_consultant, cast.payroll_agent, cast.hr_agent,
                   cast.executive, cast.admin, branch_lead):
        visible = set(requests_visible_to(person.user).filter(pk__in=[s.pk for s in everyone])
                      .values_list("pk", flat=True))
        assert set(found(person.user, "gazebo")) == visible, person.user.username


@pytest.mark.parametrize("text", ["", "   ", "x" * 201, "!!! ((( ***", '"', "\x00"])
def test_it_refuses_a_text_with_nothing_to_search_for_or_too_long(cast: Cast, text: str) -> None:
    with pytest.raises(Invalid) as refusal:
        search_requests(cast.payroll_agent.user, text)
    assert str(refusal.value)


@pytest.mark.parametrize("text", ['"unbalanced', "NEAR(a b)", "a* OR b", "col:value", "a AND NOT b",
                                  "'; DROP TABLE x; --", "^start", "a - b", "{heading}: x", "x:*AB & y"])
def test_it_reads_query_syntax_as_plain_words(cast: Cast, text: str) -> None:
    ask(cast, "Near the start value drop table")
    search_requests(cast.payroll_agent.user, text)  # never an error of the database


def test_the_rebuild_writes_every_document_again(cast: Cast) -> None:
    sr = ask(cast, "Marmalade")
    cast.consultant.user.first_name = "Paddington"
    cast.consultant.user.save()
    assert found(cast.payroll_agent.user, "paddington") == []
    assert rebuild() == 1
    assert found(cast.payroll_agent.user, "paddington") == [sr.pk]
    assert found(cast.payroll_agent.user, "marmalade") == [sr.pk]


# --- the page and the API ---------------------------------------------------------------------


def test_the_page_shows_ranked_hits_with_marked_snippets_and_pages(cast: Cast, client) -> None:
    from django.test import Client

    made = [ask(cast, f"Capybara {n}") for n in range(27)]
    actions.add_comment(cast.payroll_agent, made[0].pk, "A <b>bold</b> capybara note")
    browser = Client()
    browser.force_login(cast.payroll_agent.user)
    first = browser.get("/search/", {"q": "capybara"}).content.decode()
    assert "Results 1–25 for “capybara”" in first and 'rel="next"' in first
    second = browser.get("/search/", {"q": "capybara", "page": "2"}).content.decode()
    assert "<mark>Capybara</mark>" in first and "&lt;b&gt;bold&lt;/b&gt; <mark>capybara</mark>" in first + second
    assert "Results 26–27" in second and 'rel="prev"' in second
    refs = set(re.findall(r'<span class="ref">([A-Z][A-Z0-9-]*-\d{6})</span>', first + second))
    assert refs == {sr.reference for sr in made}
    assert browser.get("/search/").status_code == 200  # the box alone


@pytest.mark.parametrize("text", ["", "x" * 10_000, "*** ((( ", '"'])
def test_the_page_answers_bad_input_with_its_message_and_keeps_the_text(cast: Cast, text: str) -> None:
    from django.test import Client

    browser = Client()
    browser.force_login(cast.payroll_agent.user)
    response = browser.get("/search/", {"q": text})
    assert response.status_code == 422
    body = response.content.decode()
    assert 'role="alert"' in body and ("Type a word" in body or "limit is 200" in body or "punctuation" in body)
    if text.strip():
        assert f'value="{text[:50]}' in body.replace("&quot;", '"')


def test_the_api_searches_and_refuses_bad_input(cast: Cast) -> None:
    from tests.apiclient import ApiClient

    sr = ask(cast, "Armadillo overtime")
    api = ApiClient(cast.payroll_agent)
    answer = api.get("/api/search?q=armadillo").json()
    assert [item["reference"] for item in answer["items"]] == [sr.reference]
    assert answer["next_page"] is None and answer["reference"] is False
    assert api.get(f"/api/search?q={sr.reference}").json()["reference"] is True
    for bad in ("", "%22", "*" * 5, "a" * 10_000):
        response = api.get(f"/api/search?q={bad}")
        assert response.status_code == 422, bad
        assert response.json()["detail"]
    assert api.get("/api/search").status_code == 422
    assert ApiClient(cast.other_consultant).get("/api/search?q=armadillo").json()["items"] == []


def test_the_index_command_indexes_what_is_missing(cast: Cast) -> None:
    import io

    from django.core.management import call_command

    from tandem.search.models import SearchDocument

    sr = ask(cast, "Narwhal")
    SearchDocument.objects.all().delete()
    assert found(cast.payroll_agent.user, "narwhal") == []
    out = io.StringIO()
    call_command("search-index", stdout=out)
    assert "Indexed 1 request" in out.getvalue()
    assert found(cast.payroll_agent.user, "narwhal") == [sr.pk]


def test_it_finds_a_request_by_its_files_names_following_who_may_read_them(cast: Cast) -> None:
    from django.core.files.base import ContentFile

    pdf = b"%PDF-1.4\n%%EOF\n"
    sr = actions.submit_request(cast.consultant, cast.timesheet, dict(TIMESHEET_OK), title="Hours",
                                files=[ContentFile(pdf, name="zanzibar-timesheet.pdf")]).request
    actions.add_comment(cast.payroll_agent, sr.pk, "Checked against the payslip.", internal=True,
                        files=[ContentFile(pdf, name="quixotic-payslip.pdf")])
    actions.add_comment(cast.consultant, sr.pk, "Here is the rota.", files=[ContentFile(pdf, name="velvet-rota.pdf")])
    agent, requester = cast.payroll_agent.user, cast.consultant.user
    assert found(agent, "zanzibar") == [sr.pk] == found(requester, "zanzibar")  # the request's file
    assert found(requester, "velvet rota") == [sr.pk]  # a comment's file, added later
    assert found(agent, "quixotic") == [sr.pk]  # an internal note's file: the team only
    assert found(requester, "quixotic") == []


def test_a_search_reads_in_a_fixed_number_of_statements_however_many_hits(cast: Cast) -> None:
    """The page's hits, their state and their passages come in a fixed number of statements,
    and on PostgreSQL all of them in one transaction (no round trips of a transaction a
    statement): one search used to take 19-20."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(text: str) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as ctx:
            results = search_requests(cast.payroll_agent.user, text)
        return len(results.hits), [q["sql"] for q in ctx.captured_queries]

    first = ask(cast, "Wombat timesheet")
    actions.add_comment(cast.payroll_agent, first.pk, "a wombat comment")
    one, few = statements("wombat")
    for n in range(6):
        sr = ask(cast, f"Wombat timesheet {n}")
        actions.add_comment(cast.payroll_agent, sr.pk, "another wombat comment")
    seven, more = statements("wombat")
    assert (one, seven) == (1, 7)
    assert len(more) == len(few) <= 12
    if connection.vendor == "postgresql":  # the settings and the newest document: once a search
        assert sum("set_config" in sql for sql in more) == 1
        assert not any("ORDER BY" in sql and "search_searchdocument" in sql.split("FROM")[1][:40] for sql in more)
