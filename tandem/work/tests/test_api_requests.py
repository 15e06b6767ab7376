"""The service-request API through HTTP with personal tokens, against a real database."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from tandem.work import actions
from tandem.work.models import Case, Comment, Event, ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db


def submit_body(**overrides) -> dict:
    return {"service": "timesheet-correction", "intake": dict(TIMESHEET_OK), **overrides}


def submitted(cast: Cast) -> ServiceRequest:
    return actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request


def kinds(sr: ServiceRequest) -> list[str]:
    return list(Event.objects.filter(request=sr).order_by("seq").values_list("kind", flat=True))


def assert_refusal(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"], body
    return body


# --- happy paths -------------------------------------------------------------------------------


def test_it_submits_a_request_and_shows_it_back(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    # The clock held from the submission to the read-back: the agreement's figures (working time
    # used so far) move with every minute that passes between the two calls.
    with time_machine.travel(timezone.now(), tick=False):
        response = api.post("/api/requests", submit_body(title="Ann's overtime"))
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "new" and body["title"] == "Ann's overtime"
        assert body["service"]["slug"] == "timesheet-correction" and body["unit"]["slug"] == "payroll"
        assert body["intake"] == {**TIMESHEET_OK, "hours": "37.5"}
        assert body["requester"] == {"id": cast.consultant.pk, "name": cast.consultant.display_name}
        assert body["submitted_at"].endswith("Z") and body["due_at"].endswith("Z")
        assert api.get(f"/api/requests/{body['id']}").json() == body


def test_it_walks_a_request_through_every_move(cast: Cast) -> None:
    consultant, agent, lead = (
        ApiClient(cast.consultant),
        ApiClient(cast.payroll_agent),
        ApiClient(cast.payroll_lead),
    )
    rid = consultant.post("/api/requests", submit_body()).json()["id"]
    steps = [
        (lead, "assign", {"assignee": cast.payroll_agent.pk}, "assigned"),
        (agent, "unassign", None, "new"),
        (agent, "assign", {"assignee": "me"}, "assigned"),
        (agent, "start", None, "in_progress"),
        (agent, "ask", {"question": "Which client approved it?"}, "waiting_requester"),
        (consultant, "answer", {"answer": "Acme Ltd."}, "in_progress"),
        (
            agent,
            "wait",
            {"party": "Acme Ltd accounts", "note": "Asked by phone"},
            "waiting_third_party",
        ),
        (agent, "resume", None, "in_progress"),
        (agent, "resolve", {"resolution": "Hours corrected."}, "resolved"),
        (consultant, "reopen", {"reason": "Still 35 on my payslip."}, "reopened"),
        (agent, "start", None, "in_progress"),
        (agent, "resolve", {"resolution": "Corrected again."}, "resolved"),
        (consultant, "accept", None, "closed"),
    ]
    for client, move, body, status in steps:
        response = client.post(f"/api/requests/{rid}/{move}", body)
        assert response.status_code == 200, (move, response.json())
        assert response.json()["status"] == status, move
    final = consultant.get(f"/api/requests/{rid}").json()
    assert final["is_open"] is False and final["resolution"] == "Corrected again."
    timeline = consultant.get(f"/api/requests/{rid}/events").json()
    assert [e["kind"] for e in timeline["items"]] == [
        "submitted",
        "assigned",
        "unassigned",
        "assigned",
        "started",
        "asked_requester",
        "information_provided",
        "waiting_third_party",
        "resumed",
        "resolved",
        "reopened",
        "started",
        "resolved",
        "accepted",
    ]
    assert timeline["next_after"] is None
    assert timeline["items"][-1]["actor"]["id"] == cast.consultant.pk


def test_it_cancels_a_request_for_its_requester(cast: Cast) -> None:
    sr = submitted(cast)
    response = ApiClient(cast.consultant).post(
        f"/api/requests/{sr.pk}/cancel", {"reason": "Not needed."}
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_it_keeps_a_conversation_with_internal_notes_and_advice(cast: Cast) -> None:
    sr = submitted(cast)
    consultant, agent = ApiClient(cast.consultant), ApiClient(cast.payroll_agent)
    assert (
        consultant.post(f"/api/requests/{sr.pk}/comments", {"body": "Any news?"}).status_code == 201
    )
    assert (
        agent.post(
            f"/api/requests/{sr.pk}/comments", {"body": "Client slow", "internal": True}
        ).status_code
        == 201
    )
    advice = agent.post(
        f"/api/requests/{sr.pk}/comments", {"body": "Send the approval", "advice": True}
    )
    assert advice.status_code == 201 and advice.json()["addressed_to"]["id"] == cast.consultant.pk
    assert [
        c["body"] for c in consultant.get(f"/api/requests/{sr.pk}/comments").json()["items"]
    ] == [
        "Any news?",
        "Send the approval",
    ]
    assert len(agent.get(f"/api/requests/{sr.pk}/comments").json()["items"]) == 3
    ack = consultant.post(f"/api/comments/{advice.json()['id']}/acknowledge")
    assert ack.status_code == 200 and ack.json()["acknowledged_by"]["id"] == cast.consultant.pk
    assert_refusal(consultant.post(f"/api/comments/{advice.json()['id']}/acknowledge"), 409)
    # The requester cannot write internal notes.
    assert_refusal(
        consultant.post(f"/api/requests/{sr.pk}/comments", {"body": "x", "internal": True}), 403
    )


def test_it_opens_lists_and_closes_cases(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    case = api.post("/api/cases", {"customer_reference": "ACME-42", "title": "Acme payroll query"})
    assert case.status_code == 201 and case.json()["reference"].startswith("C-")
    case_id = case.json()["id"]
    rid = api.post("/api/requests", submit_body(case=case_id)).json()["id"]
    assert [r["id"] for r in api.get("/api/requests", {"case": case_id}).json()["items"]] == [rid]
    assert [c["id"] for c in api.get("/api/cases", {"mine": "true"}).json()["items"]] == [case_id]
    assert_refusal(api.post(f"/api/cases/{case_id}/close"), 409)  # its request is still open
    api.post(f"/api/requests/{rid}/cancel", {"reason": "Customer withdrew."})
    closed = api.post(f"/api/cases/{case_id}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert api.get(f"/api/cases/{case_id}").json()["closed_at"] is not None
    assert_refusal(ApiClient(cast.other_consultant).get(f"/api/cases/{case_id}"), 404)


def test_it_filters_the_request_list(cast: Cast) -> None:
    mine = submitted(cast)
    colleagues = actions.submit_request(cast.colleague, cast.timesheet, TIMESHEET_OK).request
    actions.start_request(cast.payroll_agent, colleagues.pk, reason="The scene: taken ahead of the queue")
    api = ApiClient(cast.payroll_agent)

    def ids(**params) -> list[int]:
        response = api.get("/api/requests", params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["items"]]

    assert ids() == [colleagues.pk, mine.pk]
    assert ids(assignee="me") == [colleagues.pk]
    assert ids(assignee="none") == [mine.pk]
    assert ids(assignee=str(cast.payroll_agent.pk)) == [colleagues.pk]
    assert ids(status="new") == [mine.pk]
    assert ids(unit="payroll", channel="internal", open="true") == [colleagues.pk, mine.pk]
    assert ids(unit="hr") == []
    assert ids(service="timesheet-correction", requesting_unit="leeds") == [colleagues.pk, mine.pk]
    assert ids(open="false") == []
    assert (
        ApiClient(cast.consultant).get("/api/requests", {"mine": "true"}).json()["items"][0]["id"]
        == mine.pk
    )


# --- keyset pagination -------------------------------------------------------------------------


def test_it_pages_through_every_request_exactly_once_in_a_stable_order(cast: Cast) -> None:
    created = [submitted(cast).pk for _ in range(7)]
    api = ApiClient(cast.consultant)
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        params = {"limit": 3, **({"after": after} if after is not None else {})}
        page = api.get("/api/requests", params).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        after = page["next_after"]
        if after is None:
            break
        # A request submitted while paging does not shift the pages that follow.
        if pages == 1:
            submitted(cast)
    assert seen == sorted(created, reverse=True) and pages == 3


def test_it_refuses_a_limit_out_of_range(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    body = assert_refusal(api.get("/api/requests", {"limit": 500}), 422)
    assert "limit" in body["errors"]
    assert_refusal(api.get("/api/requests", {"limit": 0}), 422)
    assert_refusal(api.get("/api/requests", {"after": "abc"}), 422)


def test_it_lists_a_page_in_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries
) -> None:
    for _ in range(5):
        sr = submitted(cast)
        actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
    api = ApiClient(cast.payroll_lead)
    # The token with its person (1), its first-use stamp (1), the page's ids (1), the page's
    # rows with their units, service and people (1): no query per row.
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/requests").json()["items"]) == 5


def test_it_reads_a_request_with_its_clock_and_submits_in_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries
) -> None:
    api = ApiClient(cast.consultant)
    sr = submitted(cast)
    # The token with its person (1), its first-use stamp (1), the consultant's loans (1), the
    # request with its units, service, people, agreement and both calendars (1).
    with django_assert_max_num_queries(4):
        assert api.get(f"/api/requests/{sr.pk}").json()["sla"]["summary"]
    # Token and stamp (2), the service with its calendars (1) and intake fields (1), the key's
    # replay check, agreement and cut-offs (3), then the transaction (begin on SQLite, request,
    # first event, its outbox message, its sequence, commit: 6), and in it the reactions in the
    # transaction: the webhook subscribers the event may owe a hook (none here), read in the
    # reactions' savepoint (savepoint, read, release: 3). Once committed, the promise,
    # quoted from the request the submission holds: the message claimed (1), the queue counted
    # (1), the promise written (1) and the message marked handled (1). Inside the transaction the
    # search document is written (a savepoint, the request's words and its comments, the old
    # document deleted, the new one inserted, released: 6) and the webhook subscribers are read
    # (a savepoint, the read, the release: 3). Its number in its organisation's numbering is
    # the highest so far plus one (1; on PostgreSQL after its numbering's lock: 1 more). The
    # answer reads nothing more.
    with django_assert_max_num_queries(27):
        assert api.post("/api/requests", submit_body(), headers={"Idempotency-Key": "q-1"}).status_code == 201


# --- idempotency -------------------------------------------------------------------------------


def test_it_replays_a_submission_with_the_same_idempotency_key(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    first = api.post("/api/requests", submit_body(), headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/requests", submit_body(), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert ServiceRequest.objects.count() == 1


def test_it_refuses_an_idempotency_key_reused_with_a_different_body(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    api.post("/api/requests", submit_body(), headers={"Idempotency-Key": "k-1"})
    changed = submit_body(intake={**TIMESHEET_OK, "hours": "40"})
    body = assert_refusal(
        api.post("/api/requests", changed, headers={"Idempotency-Key": "k-1"}), 409
    )
    assert "different details" in body["detail"]
    assert ServiceRequest.objects.count() == 1


# --- bad input: submissions --------------------------------------------------------------------


def test_it_refuses_a_missing_required_intake_field_per_field(cast: Cast) -> None:
    intake = {k: v for k, v in TIMESHEET_OK.items() if k != "worker"}
    body = assert_refusal(
        ApiClient(cast.consultant).post("/api/requests", submit_body(intake=intake)), 422
    )
    assert body["errors"] == {"intake.worker": ["This field is required."]}
    assert body["detail"] == (
        "Some details are missing or wrong. Worker name: This field is required. Correct them and "
        "submit again."
    )
    assert ServiceRequest.objects.count() == 0


def test_it_refuses_text_in_a_number_field_and_an_impossible_date(cast: Cast) -> None:
    intake = {**TIMESHEET_OK, "hours": "lots", "week_ending": "2026-02-30"}
    body = assert_refusal(
        ApiClient(cast.consultant).post("/api/requests", submit_body(intake=intake)), 422
    )
    assert set(body["errors"]) == {"intake.hours", "intake.week_ending"}
    assert "real date" in body["errors"]["intake.week_ending"][0]
    # The message names the fields as the requester knows them: by their labels.
    assert body["detail"] == (
        "Some details are missing or wrong. Corrected hours: Enter a number. Week ending: Enter a "
        "real date as YYYY-MM-DD. Correct them and submit again."
    )
    assert ServiceRequest.objects.count() == 0


def test_it_takes_json_numbers_and_refuses_nested_values_in_the_intake(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    assert (
        api.post("/api/requests", submit_body(intake={**TIMESHEET_OK, "hours": 37.5})).status_code
        == 201
    )
    for wrong in ([37.5], {"h": 1}, True):
        body = assert_refusal(
            api.post("/api/requests", submit_body(intake={**TIMESHEET_OK, "hours": wrong})), 422
        )
        assert set(body["errors"]) == {"intake.hours"}
        assert body["detail"] == (
            "Give text, a number or a YYYY-MM-DD date for Corrected hours, not a list, object or boolean."
        )
    body = assert_refusal(
        api.post("/api/requests", submit_body(intake={**TIMESHEET_OK, "week_ending": 20261120})),
        422,
    )
    assert set(body["errors"]) == {"intake.week_ending"}
    assert ServiceRequest.objects.count() == 1


def test_it_refuses_an_unknown_intake_field(cast: Cast) -> None:
    intake = {**TIMESHEET_OK, "favourite_colour": "red"}
    body = assert_refusal(
        ApiClient(cast.consultant).post("/api/requests", submit_body(intake=intake)), 422
    )
    assert set(body["errors"]) == {"intake.favourite_colour"}
    # The caller's unknown key is echoed; the fields the service asks for are named by label.
    assert body["detail"] == (
        "Some details are missing or wrong. Unknown field: Timesheet correction has no field "
        "'favourite_colour'; it asks for: Worker name, Corrected hours, Week ending, Reason, Notes "
        "(GET /api/services/timesheet-correction gives their keys). Correct them and submit again."
    )


def test_it_refuses_an_unknown_service_clearly(cast: Cast) -> None:
    body = assert_refusal(
        ApiClient(cast.consultant).post("/api/requests", submit_body(service="no-such")), 422
    )
    assert (
        body["errors"] == {"service": ["Unknown service."]}
        and "GET /api/services" in body["detail"]
    )
    assert_refusal(ApiClient(cast.consultant).get("/api/services/no-such"), 404)


def test_it_refuses_unknown_fields_in_a_body(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    body = assert_refusal(api.post("/api/requests", submit_body(priority="urgent")), 422)
    assert list(body["errors"]) == ["priority"] and "Unknown field" in body["errors"]["priority"][0]
    sr = submitted(cast)
    body = assert_refusal(
        api.post(f"/api/requests/{sr.pk}/cancel", {"reason": "x", "why": "y"}), 422
    )
    assert list(body["errors"]) == ["why"]
    assert ServiceRequest.objects.get(pk=sr.pk).status == Status.NEW


def test_it_refuses_malformed_json_with_400(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    body = assert_refusal(
        api.raw("POST", "/api/requests", b'{"service": "timesheet-correction",'), 400
    )
    assert "not valid JSON" in body["detail"]
    assert_refusal(api.raw("POST", "/api/requests", b"\xff\xfe"), 400)
    assert_refusal(api.raw("POST", "/api/requests", '{"service": "a\\u0000b"}'), 400)
    assert_refusal(api.raw("POST", "/api/requests", '{"service": "\\ud800"}'), 400)
    assert ServiceRequest.objects.count() == 0


def test_it_refuses_a_body_that_is_not_an_object(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    for body in ("[]", '"text"', "42", "null"):
        assert_refusal(api.raw("POST", "/api/requests", body), 422)


def test_it_refuses_a_closed_case_and_a_case_it_cannot_see(cast: Cast) -> None:
    case = actions.create_case(cast.other_consultant, customer_reference="Y-1", title="York matter")
    body = assert_refusal(
        ApiClient(cast.consultant).post("/api/requests", submit_body(case=case.pk)), 422
    )
    assert list(body["errors"]) == ["case"]
    assert Case.objects.count() == 1 and ServiceRequest.objects.count() == 0


# --- bad input: moves --------------------------------------------------------------------------


def test_it_refuses_a_move_from_the_wrong_state_and_changes_nothing(cast: Cast) -> None:
    sr = submitted(cast)
    body = assert_refusal(
        ApiClient(cast.payroll_agent).post(
            f"/api/requests/{sr.pk}/resolve", {"resolution": "Done"}
        ),
        409,
    )
    assert "cannot become resolved" in body["detail"]
    sr.refresh_from_db()
    assert sr.status == Status.NEW and kinds(sr) == ["submitted"]
    assert_refusal(ApiClient(cast.payroll_agent).post(f"/api/requests/{sr.pk}/resume"), 409)
    assert_refusal(ApiClient(cast.consultant).post(f"/api/requests/{sr.pk}/accept"), 409)


def test_it_refuses_a_second_resolve(cast: Cast) -> None:
    sr = submitted(cast)
    agent = ApiClient(cast.payroll_agent)
    agent.post(f"/api/requests/{sr.pk}/start")
    assert agent.post(f"/api/requests/{sr.pk}/resolve", {"resolution": "Done"}).status_code == 200
    body = assert_refusal(
        agent.post(f"/api/requests/{sr.pk}/resolve", {"resolution": "Again"}), 409
    )
    assert "already resolved" in body["detail"]
    assert kinds(sr).count("resolved") == 1
    assert ServiceRequest.objects.get(pk=sr.pk).resolution == "Done"


def test_it_answers_403_to_those_who_see_a_request_and_404_to_those_who_cannot(cast: Cast) -> None:
    sr = submitted(cast)
    # The requester's colleague sees it (front office covers for each other) but cannot work it.
    body = assert_refusal(ApiClient(cast.colleague).post(f"/api/requests/{sr.pk}/start"), 403)
    assert "Only Payroll" in body["detail"]
    # Another back-office unit and another branch do not even know it exists.
    for outsider in (cast.hr_agent, cast.other_consultant):
        client = ApiClient(outsider)
        assert_refusal(client.post(f"/api/requests/{sr.pk}/start"), 404)
        assert_refusal(client.get(f"/api/requests/{sr.pk}"), 404)
    # An agent may pick work but not give it to someone else.
    body = assert_refusal(
        ApiClient(cast.payroll_agent).post(
            f"/api/requests/{sr.pk}/assign", {"assignee": cast.payroll_agent2.pk}
        ),
        403,
    )
    assert "pick it yourself" in body["detail"]
    assert_refusal(
        ApiClient(cast.payroll_lead).post(
            f"/api/requests/{sr.pk}/assign", {"assignee": cast.hr_agent.pk}
        ),
        422,
    )
    sr.refresh_from_db()
    assert sr.status == Status.NEW and sr.assignee_id is None


def test_it_answers_404_to_an_outsider_reading_a_confidential_request(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    rid = api.post(
        "/api/requests", {"service": "grievance", "intake": {"details": "private"}}
    ).json()["id"]
    for outsider in (cast.colleague, cast.payroll_agent, cast.other_consultant):
        client = ApiClient(outsider)
        assert_refusal(client.get(f"/api/requests/{rid}"), 404)
        assert_refusal(client.get(f"/api/requests/{rid}/events"), 404)
        assert_refusal(client.get(f"/api/requests/{rid}/comments"), 404)
        assert_refusal(client.post(f"/api/requests/{rid}/comments", {"body": "hello"}), 404)
        assert rid not in [r["id"] for r in client.get("/api/requests").json()["items"]]
    # An executive sees that it exists and where it is, but not what it says.
    seen = ApiClient(cast.executive).get(f"/api/requests/{rid}").json()
    assert (
        seen["payload_visible"] is False and seen["intake"] is None and seen["resolution"] is None
    )
    # The providing unit sees it all.
    assert ApiClient(cast.hr_agent).get(f"/api/requests/{rid}").json()["intake"] == {
        "details": "private"
    }


def test_it_hides_confidential_event_details_from_executives(cast: Cast) -> None:
    sr = actions.submit_request(cast.consultant, cast.grievance, {"details": "private"}).request
    actions.start_request(cast.hr_agent, sr.pk)
    actions.ask_requester(cast.hr_agent, sr.pk, "Who was involved?")
    events = ApiClient(cast.executive).get(f"/api/requests/{sr.pk}/events").json()["items"]
    assert [e["kind"] for e in events] == ["submitted", "started", "asked_requester"]
    assert all(e["data"] is None for e in events)
    assert ApiClient(cast.executive).get(f"/api/requests/{sr.pk}/comments").json()["items"] == []


def test_it_refuses_a_megabyte_comment_and_saves_nothing(cast: Cast) -> None:
    sr = submitted(cast)
    body = assert_refusal(
        ApiClient(cast.consultant).post(
            f"/api/requests/{sr.pk}/comments", {"body": "x" * 1_000_000}
        ),
        422,
    )
    assert list(body["errors"]) == ["body"]
    assert Comment.objects.count() == 0 and kinds(sr) == ["submitted"]


def test_it_refuses_blank_text(cast: Cast) -> None:
    sr = submitted(cast)
    body = assert_refusal(
        ApiClient(cast.consultant).post(f"/api/requests/{sr.pk}/cancel", {"reason": "   "}), 422
    )
    assert body["errors"] == {"reason": ["This field is required: write a few words."]}
    body = assert_refusal(ApiClient(cast.consultant).post(f"/api/requests/{sr.pk}/cancel"), 422)
    assert body["errors"] == {"reason": ["This field is required."]}
