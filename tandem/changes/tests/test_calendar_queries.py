"""The calendar's page and API read a fixed number of queries however many changes, audiences,
people, proposals and batches there are (no query per change, cell or proposal), and the cells
and proposals the page writes out itself escape what people typed."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tandem.changes import actions
from tandem.changes.models import Blackout, Change, ChangePeriod
from tandem.org.models import Role, Side, Unit
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2027, 3, 3, 9, tzinfo=UTC)  # a Wednesday
MONDAY = date(2027, 3, 8)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def draft(cast: Cast, title: str, day: date, minutes: int, audiences: list[tuple[str, str]]) -> Change:
    return actions.draft_change(cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title=title, summary=f"{title}: what changes.", why="Because.", kind="policy", effective_on=day,
        minutes=minutes, audiences=[actions.AudienceIn(unit, role=role) for unit, role in audiences]))


def crowd(cast: Cast, units: int, changes: int, start: int) -> None:
    """More branches (each with a lead and a member), and changes for them and their leads that
    collide (so that each has a proposal, a staging and free slots)."""
    made = Unit.objects.bulk_create([Unit(name=f"Branch {start + i:02d}", slug=f"branch-{start + i:02d}",
                                          side=Side.FRONT) for i in range(units)])
    for unit in made:
        make_person(f"{unit.slug}-lead", unit, Role.LEAD)
        make_person(f"{unit.slug}-member", unit, Role.MEMBER)
    slugs = [u.slug for u in made] + ["leeds", "york"]
    for n in range(changes):
        audiences = [(slugs[(n + k) % len(slugs)], "lead" if (n + k) % 3 == 0 else "") for k in range(3)]
        draft(cast, f"Change {start + n}", MONDAY + timedelta(days=n % 10), 25 + 5 * (n % 4), audiences)


def queries(client: Client | ApiClient, path: str) -> int:
    client.get(path)  # the first call of a token or session may write (last used): not the calendar's
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def test_the_page_and_the_api_read_as_many_queries_for_many_changes_as_for_few(cast: Cast) -> None:
    ChangePeriod.objects.create(name="Spring window", starts_on=date(2027, 3, 22), ends_on=date(2027, 3, 26))
    Blackout.objects.create(starts_on=date(2027, 3, 29), ends_on=date(2027, 3, 31), reason="Month end")
    crowd(cast, 3, 6, 0)
    page, api = Client(), ApiClient(cast.executive)
    assert page.login(username=cast.executive.user.username, password=PASSWORD)
    few = (queries(page, "/changes/"), queries(api, "/api/change-calendar"))

    crowd(cast, 12, 40, 100)
    body = api.get("/api/change-calendar").json()
    assert len(body["proposals"]) > 20 and any(p["staging"] for p in body["proposals"])  # much more to show
    many = (queries(page, "/changes/"), queries(api, "/api/change-calendar"))
    assert many == few
    assert few[0] <= 40 and few[1] <= 25


def test_the_cells_and_proposals_escape_what_people_typed(cast: Cast) -> None:
    title = '<script>alert("x")</script> & Co'
    draft(cast, title, MONDAY, 50, [("leeds", "")])
    draft(cast, "Second", MONDAY, 50, [("leeds", "")])  # 100 of 60: both collide, both proposed
    page = Client()
    assert page.login(username=cast.executive.user.username, password=PASSWORD)
    text = page.get("/changes/").content.decode()
    assert "<script>alert" not in text
    shown = html.escape(title)
    assert shown in text  # in the proposals
    assert html.escape(title[:27]) + "…" in text  # in the cell, cut as the template cut it
