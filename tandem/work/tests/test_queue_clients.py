"""The provider's agents work one queue across client organisations: each request shows its
client, and the queue filters by client (docs/organisations.md)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tandem.work import actions
from tests.cast import PASSWORD, TIMESHEET_OK, Cast
from tests.tenants import TwoClients, build_two_clients

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast: Cast, settings, tmp_path) -> TwoClients:  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return build_two_clients(cast)


def refs(body: str) -> list[str]:
    return re.findall(r'<span class="ref">(SR-\d{6})</span>', body)


def test_one_queue_holds_every_clients_requests_each_with_its_client(cast: Cast, world: TwoClients) -> None:
    own = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title="Leeds ask").request
    agent = Client()
    assert agent.login(username="payroll_agent", password=PASSWORD)
    # open payroll requests: each client's second ask (the first is resolved), and the provider's own
    wanted = {world.alpha.requests[1].reference, world.bravo.requests[1].reference, own.reference}
    body = agent.get("/queue/").content.decode()
    assert set(refs(body)) == wanted
    assert body.count('<span class="client">Alpha Agency</span>') == 1
    assert body.count('<span class="client">Bravo Agency</span>') == 1
    assert '<label for="id_client">Client' in body

    for value, expected in ((str(world.alpha.organisation.pk), {world.alpha.requests[1].reference}),
                            (str(world.bravo.organisation.pk), {world.bravo.requests[1].reference}),
                            ("own", {own.reference}), ("", wanted)):
        shown = agent.get("/queue/", {"client": value}).content.decode()
        assert set(refs(shown)) == expected, value
    # finished work filters the same way
    done = agent.get("/queue/", {"client": str(world.alpha.organisation.pk), "status": "all"}).content.decode()
    assert set(refs(done)) == {world.alpha.requests[0].reference, world.alpha.requests[1].reference}


def test_an_unknown_client_is_said_and_ignored(cast: Cast, world: TwoClients) -> None:
    agent = Client()
    assert agent.login(username="payroll_agent", password=PASSWORD)
    response = agent.get("/queue/", {"client": "999999"})
    body = response.content.decode()
    assert response.status_code == 200 and "This filter is ignored." in body
    assert len(refs(body)) == 2  # both clients' open asks, as with no filter


def test_without_clients_the_queue_offers_no_client_filter(cast: Cast) -> None:
    actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title="Leeds ask")
    agent = Client()
    assert agent.login(username="payroll_agent", password=PASSWORD)
    body = agent.get("/queue/").content.decode()
    assert 'id="id_client"' not in body and 'class="client"' not in body
