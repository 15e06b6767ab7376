""""Waiting for my approval", on its page and in the API: exactly the requests waiting for this
person's approval (not those approved, declined, below the amount, or another approver's), the
longest waiting first, with why and the hours waited recounted here in plain Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from tandem.catalogue import actions as catalogue
from tandem.org.models import Person
from tandem.work import actions
from tandem.work.models import ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def submitted(cast: Cast, hours: str, at: datetime, who: Person | None = None) -> ServiceRequest:
    with time_machine.travel(at, tick=False):
        return actions.submit_request(who or cast.consultant, cast.timesheet, {**TIMESHEET_OK, "hours": hours}).request


@pytest.fixture
def world(cast: Cast) -> dict:
    alice = make_person("account_manager", cast.leeds, first="Alice", last="Manager")
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, alice.pk, "hours", Decimal("40"))
    cast.timesheet.refresh_from_db()
    rows = {
        "old": submitted(cast, "45", START),
        "new": submitted(cast, "50", START + timedelta(hours=5), cast.colleague),
        "under": submitted(cast, "30", START + timedelta(hours=1)),  # needs no approval
        "approved": submitted(cast, "41", START + timedelta(hours=2)),
        "declined": submitted(cast, "42", START + timedelta(hours=3)),
    }
    actions.approve_request(alice, rows["approved"].pk)
    actions.decline_request(alice, rows["declined"].pk, "Not agreed with the client.")
    # Another approver's request: a second service approved by someone else.
    bob = make_person("budget_holder", cast.leeds, first="Bob", last="Holder")
    catalogue.set_approval(cast.payroll_lead, cast.timesheet.pk, bob.pk)
    cast.timesheet.refresh_from_db()
    rows["bobs"] = submitted(cast, "60", START + timedelta(hours=4))
    return {"alice": alice, "bob": bob, **rows}


def expected(world: dict, approver: Person, now: datetime) -> list[tuple[str, float]]:
    """A plain recount: every request whose approver is them and whose status is waiting, oldest first."""
    mine = [sr for sr in ServiceRequest.objects.all() if sr.approver_id == approver.pk
            and sr.status == Status.WAITING_APPROVAL]
    mine.sort(key=lambda sr: (sr.status_changed_at, sr.pk))
    return [(sr.reference, round((now - sr.status_changed_at).total_seconds() / 3600, 1)) for sr in mine]


def test_the_api_lists_exactly_what_waits_for_me_longest_first_with_the_hours(cast: Cast, world: dict) -> None:
    now = START + timedelta(days=1, hours=2)
    with time_machine.travel(now, tick=False):
        body = ApiClient(world["alice"]).get("/api/approvals/waiting").json()
        bobs = ApiClient(world["bob"]).get("/api/approvals/waiting").json()
        nobody = ApiClient(cast.consultant).get("/api/approvals/waiting").json()
    assert [(row["request"]["reference"], row["hours_waited"]) for row in body] == expected(world, world["alice"], now)
    assert [row["request"]["reference"] for row in body] == [world["old"].reference, world["new"].reference]
    assert [row["hours_waited"] for row in body] == [26.0, 21.0]
    assert body[0]["why"] == "Corrected hours 45 is above 40"
    assert [row["request"]["reference"] for row in bobs] == [world["bobs"].reference]
    assert bobs[0]["why"] == "Timesheet correction needs approval before work starts"
    assert nobody == []
    assert ApiClient().get("/api/approvals/waiting").status_code == 401


def test_the_page_shows_the_same_rows_and_figures(cast: Cast, world: dict) -> None:
    now = START + timedelta(days=2)
    client = Client()
    assert client.login(username="account_manager", password=PASSWORD)
    with time_machine.travel(now, tick=False):
        html = client.get("/my-approvals/").content.decode()
    for reference, hours in expected(world, world["alice"], now):
        assert reference in html and f'<td class="num">{hours}</td>' in html
    assert world["approved"].reference not in html and world["bobs"].reference not in html
    assert "2 requests waiting for your approval" in html
    empty = Client()
    assert empty.login(username="consultant", password=PASSWORD)
    assert "Nothing is waiting for your approval." in empty.get("/my-approvals/").content.decode()
    assert Client().get("/my-approvals/").status_code == 302  # sign in first
