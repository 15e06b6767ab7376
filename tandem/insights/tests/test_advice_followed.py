"""Advice and the choice to follow it: the requester accepts advice or declines it with a reason
(required, at most 1,000 characters); both stay on the record as events; the evidence page shows
per team how often its advice is followed, recounted here in plain Python."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client

from tandem.insights.advice import advice_followed
from tandem.insights.queries import Filters, evidence
from tandem.refusal import Conflict, Forbidden, Invalid
from tandem.work import actions
from tandem.work.models import Comment, Event
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def advice(cast: Cast, body: str = "Send the client's approval email first.", service=None) -> Comment:  # type: ignore[no-untyped-def]
    service = service or cast.timesheet
    agent = cast.payroll_agent if service == cast.timesheet else cast.hr_agent
    sr = actions.submit_request(cast.consultant, service, dict(TIMESHEET_OK) if service == cast.timesheet
                                else {"details": "x"}, title="Hours").request
    return actions.add_comment(agent, sr.pk, body, advice=True)


def scattered_advice(cast: Cast, rng: random.Random, n: int, *, timesheet_share: float) -> dict[str, list[str]]:
    """Advice given on ``n`` requests to Payroll or (confidential) HR, each accepted, declined or
    left undecided at random; per providing unit, what became of each (the truth to recount)."""
    truth: dict[str, list[str]] = defaultdict(list)
    for i in range(n):
        service = cast.timesheet if rng.random() < timesheet_share else cast.grievance
        given = advice(cast, f"Advice {i}", service)
        choice = rng.choice(["accept", "decline", "none"])
        if choice == "accept":
            actions.decide_advice(cast.consultant, given.pk, follow=True)
        elif choice == "decline":
            actions.decide_advice(cast.consultant, given.pk, follow=False, reason="No.")
        truth[service.unit.name].append(choice)
    return truth


def test_the_requester_accepts_or_declines_advice_with_a_reason_on_the_record(cast: Cast) -> None:
    given = advice(cast)
    api = ApiClient(cast.consultant)
    url = f"/api/comments/{given.pk}/decision"
    refusals = [
        (api, {"follow": False}, 422, "Say why"),
        (api, {"follow": False, "reason": "   "}, 422, "Say why"),
        (api, {"follow": False, "reason": "x" * 1001}, 422, "1001 characters"),
        (api, {"follow": "maybe"}, 422, ""),
        (ApiClient(cast.payroll_agent2), {"follow": True}, 403, "Only the person"),
        (ApiClient(cast.hr_agent), {"follow": True}, 404, ""),
    ]
    for client, body, status, says in refusals:
        response = client.post(url, body)
        assert response.status_code == status, (body, response.json())
        assert says in str(response.json())
    given.refresh_from_db()
    assert given.advice_outcome == "" and not Event.objects.filter(kind__in=["advice_accepted", "advice_declined"])

    response = api.post(url, {"follow": False, "reason": "The client approves by phone, not by email."})
    assert response.status_code == 200, response.json()
    assert response.json()["advice_outcome"] == "declined"
    event = Event.objects.get(request=given.request, kind=Event.Kind.ADVICE_DECLINED)
    assert event.data == {"comment": given.pk, "reason": "The client approves by phone, not by email."}
    assert api.post(url, {"follow": True}).status_code == 409  # decided once
    given.refresh_from_db()
    assert given.acknowledged_at is not None  # declining it says it was read

    other = advice(cast, "Attach the timesheet.")
    actions.decide_advice(cast.consultant, other.pk, follow=True)
    assert Event.objects.filter(kind=Event.Kind.ADVICE_ACCEPTED, request=other.request).count() == 1
    with pytest.raises(Conflict):
        actions.decide_advice(cast.consultant, other.pk, follow=False, reason="changed my mind")
    with pytest.raises(Forbidden):
        actions.decide_advice(cast.colleague, advice(cast).pk, follow=True)
    with pytest.raises(Invalid):
        actions.decide_advice(cast.consultant, advice(cast).pk, follow=False)


def test_the_request_page_declines_advice_and_keeps_what_was_typed_when_refused(cast: Cast) -> None:
    given = advice(cast)
    client = Client()
    assert client.login(username="consultant", password=PASSWORD)
    page = f"/requests/{given.request_id}/"
    assert "I will follow it" in client.get(page).content.decode()
    url = f"/requests/{given.request_id}/advice/{given.pk}/"
    refused = client.post(url, {"follow": "no", "reason": "y" * 1200})
    assert refused.status_code == 422
    body = refused.content.decode()
    assert "1200 characters" in body and "y" * 1200 in body
    assert client.post(url, {"follow": "no", "reason": "We already sent it."}).status_code == 302
    assert "Declined" in client.get(page).content.decode() and "We already sent it." in client.get(page).content.decode()


def share_followed(choices: list[str]) -> float | None:
    """Accepted of decided, counted by hand; undecided advice is left out."""
    decided = choices.count("accept") + choices.count("decline")
    return choices.count("accept") / decided if decided else None


def test_the_evidence_shows_per_team_how_often_its_advice_is_followed(cast: Cast) -> None:
    truth = scattered_advice(cast, random.Random(18), 30, timesheet_share=0.7)
    # A plain recount, from what was done above.
    expected: list[dict[str, Any]] = [{"unit": unit, "given": len(c), "accepted": c.count("accept"), "declined": c.count("decline"),
                 "undecided": c.count("none"), "followed": share_followed(c)}
                for unit, c in sorted(truth.items())]
    data = evidence(cast.admin.user, Filters(weeks=12))
    assert data["advice"] == expected
    # Confidential HR advice is not counted for someone outside HR.
    outsider = advice_followed(cast.payroll_agent.user, data["weeks"])
    assert [r["unit"] for r in outsider] == ["Payroll"]
    client = Client()
    assert client.login(username="admin", password=PASSWORD)
    page = client.get("/evidence/").content.decode()
    payroll = expected[[r["unit"] for r in expected].index("Payroll")]
    decided = payroll["accepted"] + payroll["declined"]
    assert f"({payroll['accepted']} of {decided} decided)" in page
    assert f"{round(100 * payroll['accepted'] / decided)} %" in page


def test_the_advice_csv_and_the_api_give_a_plain_recount(cast: Cast) -> None:
    truth = scattered_advice(cast, random.Random(7), 17, timesheet_share=0.6)
    recount = {unit: (len(c), c.count("accept"), c.count("decline"), c.count("none"), share_followed(c))
               for unit, c in truth.items()}

    body = ApiClient(cast.admin).get("/api/evidence?weeks=12").json()
    assert {a["unit"]: (a["given"], a["accepted"], a["declined"], a["undecided"], a["followed"])
            for a in body["advice"]} == recount

    client = Client()
    assert client.login(username="admin", password=PASSWORD)
    response = client.get("/evidence/?weeks=12&format=csv&figure=advice")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["unit", "given", "accepted", "declined", "undecided", "followed"]
    assert {r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4]), float(r[5]) if r[5] else None) for r in rows[1:]} == {
        unit: (g, a, d, u, None if f is None else round(f, 3)) for unit, (g, a, d, u, f) in recount.items()}


def test_advice_nobody_has_decided_is_not_shown_as_ignored(cast: Cast) -> None:
    """Two pieces of advice still waiting on their requester: the team has given advice, none of
    it decided, so the share is a dash, not 0 %."""
    advice(cast, "First"), advice(cast, "Second")
    client = Client()
    assert client.login(username="admin", password=PASSWORD)
    page = client.get("/evidence/").content.decode()
    row = page[page.index('<tr data-unit="Payroll">'):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">2</td>' in row and "— (none decided)" in row and "0 %" not in row
    assert ApiClient(cast.admin).get("/api/evidence").json()["advice"][0]["followed"] is None
    # Confidential HR advice stays out of an outsider's API answer.
    outsider = ApiClient(cast.payroll_agent).get("/api/evidence?weeks=12").json()
    assert [a["unit"] for a in outsider["advice"]] == ["Payroll"]
