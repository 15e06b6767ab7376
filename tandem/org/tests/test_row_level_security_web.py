"""Row-level security under the web app: each request runs in the signed-in person's
organisation context, and no context outlives its request (docs/isolation.md)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client, override_settings

from tandem.catalogue.models import Service
from tandem.catalogue.tests.test_intake_rules import TIMESHEET_OK
from tandem.isolation import no_context, organisation_context
from tandem.org.models import Organisation, Person
from tandem.org.sso import password_refusal
from tandem.org.tests.test_row_level_security import Scene, as_app_role, build_scene
from tandem.org.tokens import issue_token
from tandem.search.models import SearchDocument
from tandem.work import actions
from tandem.work.models import ServiceRequest

pytestmark = pytest.mark.django_db
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-level security is PostgreSQL's; on SQLite the query entries' scoping holds alone",
)


@pytest.fixture
def scene() -> Scene:
    return build_scene()


def _requests_of(person: Person) -> int:
    organisation_id = Person.objects.values_list("unit__organisation_id", flat=True).get(pk=person.pk)
    return ServiceRequest.objects.filter(requesting_unit__organisation_id=organisation_id).count()


@on_postgres
@override_settings(ROOT_URLCONF="tandem.org.tests.rls_urls")
def test_it_runs_each_request_in_the_signed_in_persons_organisation(scene: Scene, client: Client) -> None:
    everything = ServiceRequest.objects.count()
    a_requests, b_requests = _requests_of(scene.a_person), _requests_of(scene.b_person)
    assert (a_requests, b_requests, everything) == (2, 2, 6)
    provider_person = Person.objects.get(user__username="payroll_agent")
    with as_app_role():
        for person, count, setting in (
            (scene.a_person, a_requests, str(scene.a.pk)),
            (scene.b_person, b_requests, str(scene.b.pk)),
            (provider_person, everything, "provider"),
        ):
            client.force_login(person.user)
            assert client.get("/unscoped/").json() == {"requests": count, "setting": setting}
        client.logout()
        assert client.get("/unscoped/").json() == {"requests": 0, "setting": ""}


@on_postgres
def test_it_answers_404_for_another_clients_request_as_the_app_role(scene: Scene, client: Client) -> None:
    theirs = ServiceRequest.objects.filter(requester=scene.b_person).first()
    ours = ServiceRequest.objects.filter(requester=scene.a_person).first()
    assert theirs is not None and ours is not None
    client.force_login(scene.a_person.user)
    with as_app_role():
        assert client.get(f"/requests/{ours.address_key}/").status_code == 200
        assert client.get(f"/requests/{theirs.address_key}/").status_code == 404
        listing = client.get("/requests/").content.decode()
    assert ours.reference in listing and theirs.reference not in listing


@on_postgres
def test_it_runs_an_api_token_in_its_persons_organisation(scene: Scene) -> None:
    raw = issue_token(scene.b_person.user, "script").raw
    with as_app_role():
        answer = Client().get("/api/requests?scope=mine", headers={"authorization": f"Bearer {raw}"})
    assert answer.status_code == 200, answer.content
    # A client's people read references, never the ids every client's requests share.
    references = {item["reference"] for item in answer.json()["items"]}
    assert references == set(ServiceRequest.objects.filter(requester=scene.b_person).values_list("reference", flat=True))
    assert {item["id"] for item in answer.json()["items"]} == {None}


@on_postgres
@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF="tandem.org.tests.rls_urls")
def test_it_leaves_no_organisation_on_the_connection_for_the_next_request(scene: Scene) -> None:
    """Transactions commit here as in production: what a request set ends with its transactions,
    so the same connection (as a pooler would hand it on) carries nothing into the next one."""
    a, b = Client(), Client()
    a.force_login(scene.a_person.user)
    b.force_login(scene.b_person.user)
    assert a.get("/unscoped/").json()["setting"] == str(scene.a.pk)
    raw = connection.connection  # the same connection the request used, outside Django's wrapper
    assert raw.execute("SELECT coalesce(current_setting('tandem.organisation', true), '')").fetchone() == ("",)
    assert b.get("/unscoped/").json()["setting"] == str(scene.b.pk)
    assert Client().get("/unscoped/").json()["setting"] == ""
    assert raw.execute("SELECT coalesce(current_setting('tandem.organisation', true), '')").fetchone() == ("",)


@override_settings(ROOT_URLCONF="tandem.org.tests.rls_urls")
def test_it_sets_the_context_on_either_database(scene: Scene, client: Client) -> None:
    """The same context on SQLite, where nothing reads it: the scoping layer holds alone there."""
    client.force_login(scene.a_person.user)
    assert client.get("/context/").json() == {"context": str(scene.a.pk)}
    client.force_login(Person.objects.get(user__username="payroll_agent").user)
    assert client.get("/context/").json() == {"context": "provider"}
    client.logout()
    assert client.get("/context/").json() == {"context": ""}


@on_postgres
def test_it_still_refuses_a_switched_off_password_whatever_the_context(scene: Scene) -> None:
    """Whether an organisation switched local passwords off is asked before anybody is signed
    in: with no context the person would be invisible and the password would pass."""
    Organisation.objects.filter(pk=scene.a.pk).update(local_passwords=False)
    with no_context(), as_app_role():
        assert "signs its people in through its own account" in (password_refusal(scene.a_person.user) or "")
        answer = Client().post("/accounts/login/", {"username": "consultant", "password": "pw"})
    assert "signs its people in through its own account" in answer.content.decode()


@on_postgres
def test_a_client_works_as_the_app_role_submitting_commenting_and_reading_its_pages(scene: Scene) -> None:
    """The policies let a client's own work through: its writes pass their checks (the
    reactions, run as the provider, write notifications, promises and search documents), and
    its pages answer."""
    client = Client()
    client.force_login(scene.a_person.user)
    with organisation_context(scene.a.pk), as_app_role():
        service = Service.objects.get(slug="timesheet-correction")
        sr = actions.submit_request(scene.a_person, service, dict(TIMESHEET_OK)).request
        actions.add_comment(scene.a_person, sr.pk, "Thanks")
        for path in ("/requests/", f"/requests/{sr.address_key}/", "/catalogue/", "/cases/", "/notifications/", "/pulse/"):
            assert client.get(path).status_code == 200, path
    assert ServiceRequest.objects.get(pk=sr.pk).requesting_unit.organisation_id == scene.a.pk
    assert SearchDocument.objects.filter(request_id=sr.pk).exists()


@on_postgres
def test_the_provider_works_across_clients_as_the_app_role(scene: Scene) -> None:
    lead = Person.objects.get(user__username="payroll_lead")
    theirs = ServiceRequest.objects.filter(requester=scene.b_person).first()
    assert theirs is not None
    client = Client()
    client.force_login(lead.user)
    with as_app_role():
        for path in ("/queue/", f"/requests/{theirs.pk}/", "/manage/", "/catalogue/"):
            assert client.get(path).status_code == 200, path
        queue = client.get("/queue/?status=all").content.decode()
    assert all(sr.reference in queue for sr in ServiceRequest.objects.all())
