"""The two-client matrix, generated: every page of the URL configuration (and its CSV), and every
operation of the OpenAPI document, as every role of client A, with client B's objects in every
address. New pages and operations are covered by themselves.

What must hold (docs/organisations.md):
- no answer to A says anything of B: not its organisation, units or people (every text of B
  holds "bravo"), not its requests' references, titles, payloads, comments, files or ratings,
  not its cases;
- B's objects answer 404 (not 403) at their addresses, and a command on them changes nothing;
- A's pages do not change when B's volume does: the same pages rendered before and after B
  makes more requests are the same, so no count, chart bar or id of B's shows through;
- nothing answers 500.
"""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tandem.org.models import Person
from tandem.work import actions
from tandem.work.models import Event, ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast
from tests.tenants import ROLES, TwoClients, build_two_clients
from tests.test_security import routes

pytestmark = pytest.mark.django_db

PUBLIC = ("/accounts/", "/approvals/", "/pulse/link/")
#: The asking page quotes a promise from the queue that serves the client, which holds every
#: client's work: its date moves with the provider's whole load (docs/organisations.md says so),
#: so it is left out of the volume comparison, not out of the markers' check.
ASKING = "/catalogue/timesheet-correction/request/"



@pytest.fixture
def world(cast: Cast, settings, tmp_path) -> TwoClients:  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    return build_two_clients(cast)


def page_routes() -> list[str]:
    """Every page route with its converters kept: ``/requests/<int:pk>/files/<int:file_id>/``."""
    return routes(filled=False)


def bravo_ids(world: TwoClients) -> dict[str, str]:
    b = world.bravo
    return {"request": str(b.requests[0].pk), "reference": b.requests[0].reference, "case": str(b.cases[0].pk),
            "case_reference": b.cases[0].reference, "file": str(b.files[0].pk),
            "comment": str(b.comments[0].pk), "unit": b.unit.slug, "person": str(b.people["member"].pk),
            "unit_id": str(b.unit.pk)}


def fill(route: str, ids: dict[str, str]) -> str:
    """A page route with B's objects in it: its request, case, file, comment, unit, person."""
    def value(match: re.Match[str]) -> str:
        kind, name = match.group(1) or "str", match.group(2)
        head = route[: match.start()]
        if name == "file_id":
            return ids["file"]
        if name in ("comment_id",):
            return ids["comment"]
        if kind in ("int", "request") and head.endswith("/requests/"):
            return ids["request"]
        if kind in ("int", "case") and head.endswith("/cases/"):
            return ids["case"]
        if kind == "int" and head.endswith("/people/"):
            return ids["person"]
        if kind == "int" and head.endswith("/units/"):
            return ids["unit_id"]
        if kind == "slug" and "calendars" in head:
            return ids["unit"]
        return "1" if kind == "int" else "x"

    return re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def b_leaks(body: str, world: TwoClients, asked: str = "") -> list[str]:
    """B's markers in an answer, less the address asked for and its words, which a page may
    echo ("no page /manage/calendars/bravo-front/", "results for bravo")."""
    text = body.lower()
    path, _, query = asked.lower().partition("?")
    for echoed in (path, *re.findall(r"=([^&]+)", query)):
        text = text.replace(echoed, "") if echoed else text
    return [m for m in world.bravo.markers if m.lower() in text]


def a_client(world: TwoClients, role: str) -> Client:
    client = Client()
    assert client.login(username=world.alpha.people[role].user.username, password=PASSWORD)
    return client


def pages(world: TwoClients) -> list[str]:
    ids = bravo_ids(world)
    out = []
    # A request's and a case's address take an id or a reference (tandem.work.addresses): B's under both.
    by_reference = {**ids, "request": ids["reference"], "case": ids["case_reference"]}
    for route in page_routes():
        for filled in {fill(route, ids), fill(route, by_reference)}:
            out += [filled, f"{filled}?format=csv"]
    a = world.alpha
    out += [f"/requests/{sr.address_key}/" for sr in a.requests] + [f"/requests/{sr.pk}/" for sr in a.requests]
    out += [f"/cases/{a.cases[0].address_key}/", f"/cases/{a.cases[0].pk}/", "/catalogue/timesheet-correction/", "/catalogue/grievance/", ASKING, "/requests/?show=open"]
    out += ["/requests/?whose=unit", "/cases/?whose=unit", f"/manage/people/?unit={ids['unit']}",
            "/evidence/?format=csv&figure=conformance", "/search/?q=bravo", f"/search/?q={world.bravo.requests[0].reference}"]
    return out


def test_it_covers_every_page_and_operation(world: TwoClients) -> None:
    # A guard on the generators: if they found little, every test below would pass vacuously.
    assert len(page_routes()) > 60 and len(api_operations()) > 80
    ids = bravo_ids(world)
    assert fill("/requests/<int:pk>/files/<int:file_id>/", ids) == f"/requests/{ids['request']}/files/{ids['file']}/"
    assert ids["file"] == str(world.bravo.files[0].pk)


@pytest.mark.parametrize("role", ROLES)
def test_no_page_or_csv_shows_client_b_to_any_role_of_client_a(world: TwoClients, role: str) -> None:
    client = a_client(world, role)
    own = {f"/requests/{sr.address_key}/" for sr in world.alpha.requests} | {f"/cases/{world.alpha.cases[0].address_key}/"}
    for path in pages(world):
        if path.startswith(PUBLIC):
            continue
        response = client.get(path)
        assert response.status_code < 500, (role, path)
        body = response.content.decode(errors="replace")
        assert not b_leaks(body, world, path), (role, path, b_leaks(body, world, path))
        # Another client's request by id or reference, and A's own by id (which would show where
        # A's requests sit in the sequence every client shares): 404.
        if re.match(r"^/(requests/[^/?]+|cases/(?!new/)[^/?]+)/", path) and path not in own:
            assert response.status_code in (404, 405), (role, path, response.status_code)


def api_operations() -> list[tuple[str, str]]:
    document = Client().get("/api/openapi.json").json()
    return [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]


def concrete(path: str, world: TwoClients, *, by_reference: bool = False) -> str:
    ids = bravo_ids(world)
    request, case = (ids["reference"], ids["case_reference"]) if by_reference else (ids["request"], ids["case"])
    path = path.replace("{request_id}", request).replace("{case_id}", case)
    path = path.replace("{file_id}", ids["file"]).replace("{comment_id}", ids["comment"])
    path = path.replace("{unit_slug}", ids["unit"])
    path = re.sub(r"\{[a-z_]*slug\}", "timesheet-correction", path)
    return re.sub(r"\{[a-z_]+\}", "1", path)


@pytest.mark.parametrize("role", ROLES)
def test_no_api_read_shows_client_b_and_bs_objects_answer_404(world: TwoClients, role: str) -> None:
    api = ApiClient(world.alpha.people[role])
    reads = [path for method, path in api_operations() if method == "GET"]
    extra = [f"/api/requests?requesting_unit={world.bravo.unit.slug}", "/api/search?q=bravo",
             f"/api/search?q={world.bravo.requests[0].reference}", "/api/units", "/api/cases", "/api/requests"]
    for path in [*reads, *extra]:
        for url in {concrete(path, world), concrete(path, world, by_reference=True)}:
            response = api.get(url)
            assert response.status_code < 500, (role, url)
            assert not b_leaks(response.content.decode(errors="replace"), world, url), (role, url)
            if "{request_id}" in path or "{case_id}" in path:
                assert response.status_code == 404, (role, url, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_a_command_on_client_bs_objects_answers_404_and_changes_nothing(world: TwoClients, role: str) -> None:
    api = ApiClient(world.alpha.people[role])
    before = list(Event.objects.order_by("pk").values_list("pk", flat=True))
    rows = list(ServiceRequest.objects.order_by("pk").values_list("pk", "status", "assignee_id", "is_open"))
    for method, path in api_operations():
        if method == "GET" or not ("{request_id}" in path or "{case_id}" in path):
            continue
        url = concrete(path, world)
        response = api.client.generic(method, url, "{}", content_type="application/json")
        # 422 is a body refused before any object is looked up (it names the fields, not B's).
        assert response.status_code in (404, 422), (role, method, url, response.status_code)
        assert not b_leaks(response.content.decode(errors="replace"), world, url), (role, method, url)
    client = a_client(world, role)
    b_request, b_case = world.bravo.requests[1].pk, world.bravo.cases[0].pk
    b_reference = world.bravo.requests[1].reference
    for path in (f"/requests/{b_request}/", f"/cases/{b_case}/close/", f"/requests/{b_request}/rating/",
                 f"/requests/{b_reference}/cancel/", f"/requests/{b_reference}/rating/"):
        response = client.post(path, {"move": "cancel", "text": "x", "score": "1", "reason": "x"})
        assert response.status_code == 404, (role, path, response.status_code)
    assert list(Event.objects.order_by("pk").values_list("pk", flat=True)) == before
    assert list(ServiceRequest.objects.order_by("pk").values_list("pk", "status", "assignee_id", "is_open")) == rows


def normalised(body: str) -> str:
    """A page without what differs between two renderings of the same data (tokens, nonces)."""
    body = re.sub(r'(csrfmiddlewaretoken" value=|nonce=|X-CSRFToken": )"[^"]*"', r"\1", body)
    return re.sub(r'name="csrf-token" content="[^"]*"', "", body)


@pytest.mark.parametrize("role", ROLES)
def test_client_as_pages_do_not_change_when_client_bs_volume_does(world: TwoClients, cast: Cast, role: str) -> None:
    """Counts, chart bars, positions in a queue, ids: whatever of B's volume shows through a
    page of A's makes the page differ once B has made more requests."""
    client = a_client(world, role)
    paths = [p for p in pages(world) if not p.startswith(PUBLIC) and p != ASKING]
    with time_machine.travel(timezone.now(), tick=False):
        for path in paths:  # a first round settles what A's own visits change (notifications read)
            client.get(path)
        first = {path: normalised(client.get(path).content.decode(errors="replace")) for path in paths}
        bravo: Person = world.bravo.people["member"]
        for n in range(3):
            actions.submit_request(bravo, cast.timesheet, TIMESHEET_OK, title=f"more {n}")
        for path in paths:
            again = normalised(client.get(path).content.decode(errors="replace"))
            assert again == first[path], (role, path, _first_difference(first[path], again))


def _first_difference(a: str, b: str) -> str:
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"...{a[max(0, index - 80): index + 40]!r} vs {b[max(0, index - 80): index + 40]!r}"
    return f"lengths {len(a)} vs {len(b)}"


@pytest.mark.parametrize("role", ("member", "executive"))
def test_another_clients_object_answers_as_one_that_never_existed(world: TwoClients, role: str) -> None:
    """404, not 403, and the same 404: nothing tells A that B's request or case exists."""
    client, api = a_client(world, role), ApiClient(world.alpha.people[role])
    missing = 987654321
    b_request, b_case = world.bravo.requests[0].pk, world.bravo.cases[0].pk
    pairs = [(f"/requests/{b_request}/", f"/requests/{missing}/"), (f"/cases/{b_case}/", f"/cases/{missing}/")]
    for real_path, fake_path in pairs:
        real, fake = client.get(real_path), client.get(fake_path)
        assert real.status_code == fake.status_code == 404, real_path
        assert (normalised(real.content.decode()).replace(real_path, "P")
                == normalised(fake.content.decode()).replace(fake_path, "P")), real_path
    for path in ("/api/requests/{}", "/api/cases/{}", "/api/requests/{}/comments", "/api/requests/{}/events"):
        pk = b_case if "cases" in path else b_request
        real, fake = api.get(path.format(pk)), api.get(path.format(missing))
        assert real.status_code == fake.status_code == 404, path
        assert re.sub(rf"\b{pk}\b", "N", real.content.decode()) == re.sub(rf"\b{missing}\b", "N",
                                                                            fake.content.decode()), path


def test_the_markers_are_real(world: TwoClients, cast: Cast) -> None:
    """B's markers do show where B's world is visible: to the provider's agent, and to B."""
    agent = Client()
    assert agent.login(username="payroll_agent", password=PASSWORD)
    queue = agent.get("/queue/?status=all").content.decode()
    assert world.bravo.requests[0].reference in queue and world.alpha.requests[0].reference in queue
    page = agent.get(f"/requests/{world.bravo.requests[0].pk}/").content.decode()
    assert "bravo" in page.lower()
    bravo = Client()
    assert bravo.login(username="bravo_member", password=PASSWORD)
    mine = bravo.get("/requests/").content.decode()
    assert world.bravo.requests[0].reference in mine and world.alpha.requests[0].reference not in mine
    alpha = a_client(world, "executive")
    theirs = alpha.get("/requests/?whose=unit").content.decode()
    assert all(sr.reference in theirs for sr in world.alpha.requests)
