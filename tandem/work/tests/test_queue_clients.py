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
    return re.findall(r'<span class="ref">([A-Z][A-Z0-9-]*-\d{6})</span>', body)


def test_one_queue_holds_every_clients_requests_each_with_its_client(cast: Cast, world: TwoClients) -> None:
    own = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title="Leeds ask").request
    agent = Client()
    assert agent.login(username="payroll_agent", password=PASSWORD)
    # payroll's requests not closed: each client's two (one resolved, one new), and the provider's own
    alpha = {sr.reference for sr in world.alpha.requests[:2]}
    bravo = {sr.reference for sr in world.bravo.requests[:2]}
    wanted = alpha | bravo | {own.reference}
    body = agent.get("/queue/").content.decode()
    assert set(refs(body)) == wanted
    assert body.count('<span class="client">Alpha Agency</span>') == 2
    assert body.count('<span class="client">Bravo Agency</span>') == 2
    assert '<label for="id_client">Client' in body

    for value, expected in ((str(world.alpha.organisation.pk), alpha), (str(world.bravo.organisation.pk), bravo),
                            ("own", {own.reference}), ("", wanted)):
        shown = agent.get("/queue/", {"client": value}).content.decode()
        assert set(refs(shown)) == expected, value
    # with another filter beside it
    resolved = agent.get("/queue/", {"client": str(world.alpha.organisation.pk), "status": "resolved"}).content.decode()
    assert set(refs(resolved)) == {world.alpha.requests[0].reference}


def test_an_unknown_client_is_said_and_ignored(cast: Cast, world: TwoClients) -> None:
    agent = Client()
    assert agent.login(username="payroll_agent", password=PASSWORD)
    response = agent.get("/queue/", {"client": "999999"})
    body = response.content.decode()
    assert response.status_code == 200 and "This filter is ignored." in body
    assert len(refs(body)) == 4  # both clients' payroll requests, as with no filter


def test_without_clients_the_queue_offers_no_client_filter(cast: Cast) -> None:
    actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, title="Leeds ask")
    agent = Client()
    assert agent.login(username="payroll_agent", password=PASSWORD)
    body = agent.get("/queue/").content.decode()
    assert 'id="id_client"' not in body and 'class="client"' not in body
