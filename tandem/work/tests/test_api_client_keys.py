"""The API keeps the shared sequence from clients (docs/isolation.md, "References"): a client's
person addresses their requests by reference, reads no id of a request, comment, event or step,
and an id answers them 404, like another client's request; the provider's people keep ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tandem.work.models import ServiceRequest
from tandem.work.schemas import SHARED_ID_KEYS
from tests.apiclient import ApiClient
from tests.cast import Cast
from tests.tenants import TwoClients, build_two_clients

pytestmark = pytest.mark.django_db

#: Where an answer names a person, unit, service or agreement: those carry their own ids (not a
#: count of anyone's work; docs/isolation.md lists them).
REFS = {"requester", "assignee", "approver", "author", "addressed_to", "acknowledged_by", "actor", "owner",
        "unit", "requesting_unit", "service", "agreement", "uploaded_by", "person", "done_by"}


@pytest.fixture
def world(cast: Cast, settings, tmp_path) -> TwoClients:  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return build_two_clients(cast)


def shared_ids(answer: Any, where: str = "") -> Iterator[str]:
    """Every place in a JSON answer that carries an id of a shared sequence: a non-null ``id`` or
    ``..._id`` outside a person's, unit's, service's or agreement's reference, an event's details
    naming a comment, case, step or request, or an address with a request's id in it."""
    if isinstance(answer, dict):
        for key, value in answer.items():
            here = f"{where}.{key}"
            if key in REFS:
                continue
            if (key == "id" or key.endswith("_id")) and value is not None:
                yield f"{here}={value}"
            elif key == "data" and isinstance(value, dict):
                yield from (f"{here}.{k}" for k in value if k in SHARED_ID_KEYS)
            else:
                yield from shared_ids(value, here)
    elif isinstance(answer, list):
        for n, item in enumerate(answer):
            yield from shared_ids(item, f"{where}[{n}]")
    elif isinstance(answer, str) and re.search(r"/requests/\d+(/|$)", answer):
        yield f"{where}={answer}"


def test_a_clients_token_reads_its_request_comments_and_events_by_reference_without_an_id(
        world: TwoClients) -> None:
    api = ApiClient(world.alpha.people["member"])
    done = world.alpha.requests[0]
    assert done.reference == "ALPHA-000001"
    # As typed: case and zeros as the person likes (the page converter's reading).
    for typed in ("ALPHA-000001", "alpha-1", "Alpha-0001"):
        answer = api.get(f"/api/requests/{typed}")
        assert answer.status_code == 200, (typed, answer.content)
        assert answer.json()["reference"] == "ALPHA-000001" and answer.json()["id"] is None
    reads = {
        "request": f"/api/requests/{done.reference}",
        "events": f"/api/requests/{done.reference}/events",
        "comments": f"/api/requests/{done.reference}/comments",
        "steps": f"/api/requests/{done.reference}/steps",
        "files": f"/api/requests/{done.reference}/attachments",
        "list": "/api/requests",
        "mine": "/api/requests?mine=true",
    }
    for name, path in reads.items():
        answer = api.get(path)
        assert answer.status_code == 200, (name, answer.content)
        assert list(shared_ids(answer.json())) == [], name
    events = api.get(reads["events"]).json()["items"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events) and events
    assert any(e["kind"] == "commented" for e in events)  # its comment's id left out, the event kept
    comments = api.get(reads["comments"]).json()["items"]
    assert [c["body"] for c in comments] == ["ALPHA note from payroll"]
    files = api.get(reads["files"]).json()
    assert [f["download"].split("/")[3] for f in files] == ["ALPHA-000001"]
    listed = api.get("/api/requests").json()["items"]
    assert sorted(r["reference"] for r in listed) == sorted(sr.reference for sr in world.alpha.requests)


def test_a_clients_list_pages_by_its_own_numbers(world: TwoClients) -> None:
    api = ApiClient(world.alpha.people["admin"])
    seen, after = [], None
    while True:
        page = api.get("/api/requests", {"limit": 1, **({"after": after} if after else {})}).json()
        seen += [r["reference"] for r in page["items"]]
        after = page["next_after"]
        if after is None:
            break
        assert after == int(seen[-1].rsplit("-", 1)[1])  # a number within Alpha, not an id
    assert seen == ["ALPHA-000003", "ALPHA-000002", "ALPHA-000001"]


def test_an_id_another_clients_reference_or_a_malformed_one_answers_a_client_404(world: TwoClients) -> None:
    api = ApiClient(world.alpha.people["member"])
    own, theirs = world.alpha.requests[0], world.bravo.requests[0]
    for path in (f"/api/requests/{own.pk}", f"/api/requests/{own.pk}/comments", f"/api/requests/{own.pk}/events",
                 f"/api/requests/{theirs.reference}", f"/api/requests/{theirs.reference}/comments",
                 f"/api/requests/{theirs.pk}", "/api/requests/ALPHA-000999", "/api/requests/ALPHA-0",
                 "/api/requests/ALPHA-", "/api/requests/-1", "/api/requests/ALPHA-1x", "/api/requests/ALPHA--1",
                 "/api/requests/" + "A" * 70 + "-1", "/api/requests/ALPHA-" + "9" * 12):
        answer = api.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
        assert set(answer.json()) == {"detail", "errors"}, path
        assert not re.search(rf"\b{theirs.pk}\b", answer.json()["detail"].replace(path, "")), path
    # A move by id or on another client's reference changes nothing.
    before = list(ServiceRequest.objects.order_by("pk").values_list("pk", "status", "is_open"))
    for path in (f"/api/requests/{own.pk}/comments", f"/api/requests/{theirs.reference}/comments"):
        assert api.post(path, {"body": "Hello?"}).status_code == 404, path
    assert api.post(f"/api/requests/{world.bravo.requests[1].reference}/cancel", {"reason": "x"}).status_code == 404
    assert list(ServiceRequest.objects.order_by("pk").values_list("pk", "status", "is_open")) == before
    assert own.comments.count() == 1


def test_a_client_moves_its_request_by_reference(world: TwoClients) -> None:
    api = ApiClient(world.alpha.people["colleague"])
    waiting = world.alpha.requests[1]
    made = api.post(f"/api/requests/{waiting.reference.lower()}/comments", {"body": "Any news?"})
    assert made.status_code == 201, made.content
    assert made.json()["id"] is None and made.json()["request_id"] is None
    assert waiting.comments.get().body == "Any news?"
    cancelled = api.post(f"/api/requests/{waiting.reference}/cancel", {"reason": "Sorted ourselves."})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert list(shared_ids(cancelled.json())) == []


def test_the_providers_people_keep_ids_and_may_use_references(cast: Cast, world: TwoClients) -> None:
    api = ApiClient(cast.payroll_agent)
    done = world.bravo.requests[0]
    by_id = api.get(f"/api/requests/{done.pk}").json()
    assert by_id["id"] == done.pk and by_id["case_id"] == done.case_id
    assert api.get(f"/api/requests/{done.reference}").json() == by_id
    comments = api.get(f"/api/requests/{done.pk}/comments").json()["items"]
    assert [c["id"] for c in comments] == [c.pk for c in world.bravo.comments]
    files = api.get(f"/api/requests/{done.pk}/attachments").json()
    assert files[0]["download"] == f"/api/requests/{done.pk}/attachments/{world.bravo.files[0].pk}"
    events = api.get(f"/api/requests/{done.pk}/events").json()["items"]
    assert any("comment" in (e["data"] or {}) for e in events)
    page = api.get("/api/requests", {"limit": 1}).json()
    assert page["next_after"] == page["items"][0]["id"]  # the back office pages by id, as before


def test_the_openapi_document_says_a_request_is_addressed_by_reference_or_id() -> None:
    document = ApiClient().get("/api/openapi.json").json()
    param = document["paths"]["/api/requests/{request_id}/comments"]["get"]["parameters"][0]
    assert param["name"] == "request_id" and "reference" in param["description"]
    kinds = [s["type"] for s in param["schema"]["anyOf"]]
    assert kinds == ["integer", "string"]
    assert re.match(param["schema"]["anyOf"][1]["pattern"], "NORTHERN-000042")
    request_out = document["components"]["schemas"]["RequestOut"]["properties"]
    assert "client" in request_out["id"]["description"]
