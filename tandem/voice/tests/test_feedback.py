"""Satisfaction both ways: the requester rates, the back office answers (once), the back office
rates the ask; each side sees its share."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tandem.voice import actions
from tandem.voice.models import AskRating, RequestRating
from tandem.voice.queries import ask_quality, unanswered_feedback
from tandem.work import actions as work
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def resolved(cast: Cast) -> int:
    pk = work.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk
    work.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
    work.start_request(cast.payroll_agent, pk)
    work.resolve_request(cast.payroll_agent, pk, "Corrected.")
    return pk


def test_the_requester_rates_and_the_team_answers_once(cast: Cast) -> None:
    pk = resolved(cast)
    actions.rate_request(cast.consultant, pk, 2, "Took a while.")
    actions.rate_request(cast.consultant, pk, 3, "Took a while, but right.")  # changed before any answer
    assert [r.request_id for r in unanswered_feedback(cast.payroll_lead.user)] == [pk]
    assert list(unanswered_feedback(cast.hr_agent.user)) == []
    actions.answer_rating(cast.payroll_agent, pk, "Sorry: month end. We have added a second checker.")
    rating = RequestRating.objects.get()
    assert (rating.score, rating.answered_by) == (3, cast.payroll_agent)
    with pytest.raises(Conflict, match="answered already"):
        actions.answer_rating(cast.payroll_lead, pk, "Again")
    with pytest.raises(Conflict, match="answered your rating"):
        actions.rate_request(cast.consultant, pk, 5)
    assert RequestRating.objects.get().score == 3

    client = Client()
    client.login(username="consultant", password=PASSWORD)
    page = client.get(f"/requests/{pk}/").content.decode()
    assert "We have added a second checker." in page and 'data-testid="feedback-answer"' in page


def test_bad_ratings_are_refused_and_change_nothing(cast: Cast) -> None:
    pk = resolved(cast)
    open_pk = work.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk
    with pytest.raises(Invalid, match="1 \\(poor\\) to 5"):
        actions.rate_request(cast.consultant, pk, 6)
    with pytest.raises(Forbidden):
        actions.rate_request(cast.colleague, pk, 4)
    with pytest.raises(Conflict, match="not resolved"):
        actions.rate_request(cast.consultant, open_pk, 4)
    with pytest.raises(NotFound):
        actions.rate_request(cast.other_consultant, pk, 4)
    with pytest.raises(Conflict, match="not been rated"):
        actions.answer_rating(cast.payroll_lead, pk, "Nothing to answer")
    with pytest.raises(Forbidden):
        actions.rate_ask(cast.consultant, pk, complete=True, in_time=True)
    assert not RequestRating.objects.exists() and not AskRating.objects.exists()

    client = Client()
    client.login(username="consultant", password=PASSWORD)
    client.post(f"/requests/{pk}/rating/", {"score": "9", "comment": "my careful words"})
    page = client.get(f"/requests/{pk}/").content.decode()
    assert "Rate from 1 (poor) to 5" in page and "my careful words" in page  # kept what was typed


def test_the_back_office_rates_the_ask_and_each_front_unit_sees_its_share(cast: Cast) -> None:
    first, second = resolved(cast), resolved(cast)
    actions.rate_ask(cast.payroll_agent, first, complete=True, in_time=True)
    actions.rate_ask(cast.payroll_agent, second, complete=False, in_time=True)
    [leeds] = ask_quality(cast.consultant.user)
    assert leeds == {"unit": "Leeds branch", "rated": 2, "complete_share": 0.5, "in_time_share": 1.0,
                     "complete_and_in_time_share": 0.5}
    client = Client()
    client.login(username="payroll_lead", password=PASSWORD)
    assert client.post(f"/requests/{first}/ask-rating/", {"complete": "yes"}).status_code == 302
    assert AskRating.objects.get(request_id=first).in_time is False
    assert "Leeds branch" in client.get("/feedback/").content.decode()


def test_the_api_rates_answers_and_refuses_clearly(cast: Cast) -> None:
    pk = resolved(cast)
    me = ApiClient(cast.consultant)
    assert me.post(f"/api/requests/{pk}/rating", {"score": 0}).status_code == 422
    assert me.post(f"/api/requests/{pk}/rating", {"score": 4, "comment": "Fine"}).json()["score"] == 4
    team = ApiClient(cast.payroll_agent)
    assert [r["request"] for r in team.get("/api/feedback/unanswered").json()] == [pk]
    answered = team.post(f"/api/requests/{pk}/rating/answer", {"answer": "Thanks!"})
    assert answered.status_code == 200 and answered.json()["answer"] == "Thanks!"
    again = team.post(f"/api/requests/{pk}/rating/answer", {"answer": "Twice"})
    assert again.status_code == 409 and "answered already" in again.json()["detail"]
    assert team.post(f"/api/requests/{pk}/ask-rating", {"complete": True, "in_time": False}).status_code == 200
    assert ApiClient(cast.consultant).get("/api/asks/quality").json()[0]["in_time_share"] == 0.0
    assert ApiClient(cast.other_consultant).post(f"/api/requests/{pk}/rating", {"score": 3}).status_code == 404


def test_the_executive_page_shows_both_sides_and_downloads_each_figure(cast: Cast) -> None:
    pk = resolved(cast)
    actions.rate_request(cast.consultant, pk, 4)
    actions.rate_ask(cast.payroll_agent, pk, complete=True, in_time=True)
    client = Client()
    client.login(username="executive", password=PASSWORD)
    page = client.get("/executive/").content.decode()
    assert 'data-testid="frustration"' in page and "Leeds branch" in page and "4.0/5" in page
    assert "too few answers" in page  # no pulse yet: nothing shown below the threshold
    for figure in ("frustration", "asks", "units", "reviews"):
        csv = client.get(f"/executive/?format=csv&figure={figure}")
        assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert client.get("/executive/?format=csv&figure=nope").status_code == 422
    client.login(username="payroll_lead", password=PASSWORD)
    assert client.get("/executive/").status_code == 403


def rated_grievance(cast: Cast) -> int:
    pk = work.submit_request(cast.consultant, cast.grievance, {"details": "private"}).request.pk
    work.assign_request(cast.hr_agent, pk, cast.hr_agent.pk)
    work.start_request(cast.hr_agent, pk)
    work.resolve_request(cast.hr_agent, pk, "Heard.")
    actions.rate_request(cast.consultant, pk, 2, "Nobody called me back for a week.")
    return pk


# Who reads a rating, its comment and the team's answer, by role: the payload rule of the
# request (docs/administration.md). None: the request itself answers 404.
CONFIDENTIAL = {"consultant": True, "hr_agent": True, "admin": True, "executive": False,
                "colleague": None, "other_consultant": None, "payroll_agent": None, "payroll_lead": None}
ORDINARY = {"consultant": True, "colleague": True, "payroll_agent": True, "payroll_lead": True,
            "executive": True, "admin": True, "other_consultant": None, "hr_agent": None}


@pytest.mark.parametrize(("kind", "matrix"), [("confidential", CONFIDENTIAL), ("ordinary", ORDINARY)])
def test_a_rating_and_its_answer_are_read_by_whoever_reads_the_request_s_payload(
    cast: Cast, kind: str, matrix: dict[str, bool | None]
) -> None:
    if kind == "confidential":
        pk, team = rated_grievance(cast), cast.hr_agent
    else:
        pk, team = resolved(cast), cast.payroll_agent
        actions.rate_request(cast.consultant, pk, 2, "Nobody called me back for a week.")
    unanswered = {username: [r["request"] for r in ApiClient(getattr(cast, username)).get(
        "/api/feedback/unanswered").json()] for username in matrix}
    actions.answer_rating(team, pk, "We are sorry: a new rota starts Monday.")
    for username, reads in matrix.items():
        client = Client()
        assert client.login(username=username, password=PASSWORD)
        response = client.get(f"/requests/{pk}/")
        if reads is None:
            assert response.status_code == 404, username
            continue
        page = response.content.decode()
        for words in ("Nobody called me back", "a new rota starts Monday", "Requester's rating: 2/5"):
            assert (words in page) is reads, (kind, username, words)
        assert ("Nobody called me back" in client.get("/feedback/").content.decode()) is False  # scores only there
    # The list of feedback to answer is the providing unit's (and the administrators'), and only
    # where they read the payload.
    providers = {u for u in matrix if getattr(cast, u).unit_id == team.unit_id and u != "admin"}
    assert {u for u, ids in unanswered.items() if pk in ids} == providers | {"admin"}
