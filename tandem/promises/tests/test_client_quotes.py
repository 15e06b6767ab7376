"""A quote or a promise as a client organisation's person reads it: dates and confidence, never
the hours queued or the people on shift, which add up every client's work (docs/organisations.md)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from tandem.catalogue.models import Contract
from tandem.org.models import Organisation, Side, Unit
from tandem.promises.queries import client_words, quote
from tests.apiclient import ApiClient
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db


def test_client_words_drop_the_hours_queued() -> None:
    text = ("85 % likely by Tue 09:00; 50 % by Mon 15:00. The queue ahead holds 12.5 hours of work for "
            "3 people on shift. The agreement (Standard: resolve by Mon 17:00) cannot be met today because of "
            "the backlog.")
    assert client_words(text) == ("85 % likely by Tue 09:00; 50 % by Mon 15:00. The agreement (Standard: "
                                  "resolve by Mon 17:00) cannot be met today because of the backlog.")
    assert client_words("the queue grew from 40 to 75 working hours") == "the team's queue grew"
    assert client_words("it is waiting on a third party") == "it is waiting on a third party"


def test_a_clients_person_is_quoted_without_the_queue(cast: Cast) -> None:
    client = Organisation.objects.create(name="Alpha Agency", slug="alpha")
    Contract.objects.create(organisation=client, service=cast.timesheet, starts_on=date(2000, 1, 1))
    office = Unit.objects.create(name="Alpha Front", slug="alpha-front", side=Side.FRONT, organisation=client)
    member = make_person("alpha_member", office)
    now = timezone.now()
    theirs, ours = quote(cast.timesheet, member, now=now), quote(cast.timesheet, cast.consultant, now=now)
    # (no history in the cast: both are quoted from the published turnaround)
    assert ours.queue_hours is not None and ours.people_on_shift is not None
    assert theirs.queue_hours is None and theirs.people_on_shift is None
    assert theirs.explanation == client_words(ours.explanation) and "queue" not in theirs.explanation
    assert theirs.promised_at == ours.promised_at
    answer = ApiClient(member).post("/api/quotes", {"service": "timesheet-correction"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["queue_hours"] is None and body["people_on_shift"] is None and "queue" not in body["explanation"]
    assert ApiClient(cast.consultant).post("/api/quotes", {"service": "timesheet-correction"}).json()["queue_hours"] \
        is not None
