"""Client isolation that does not rely on memory: the pages and the API read a client-owned model
only through its app's permission-aware query entry (``requests_visible_to``,
``cases_visible_to``, ``people_visible_to``, ``units_visible_to``, ...), where the scoping by
organisation lives (docs/architecture.md, "Client organisations").

A module that answers requests (a view, an API router, a CSV) and writes ``ServiceRequest.objects``
or ``Unit.objects`` would read past the scoping: this test fails on it, naming the line. Which
models are client-owned is not a list to keep up to date: it is every model that hangs off a
request or a case (a foreign key to one, or to a model that does, at any depth), plus the
request, the case, the person, the unit and the organisation themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from tandem.org.models import Organisation, Person, Unit
from tandem.work.models import Case, ServiceRequest

ROOT = Path(__file__).resolve().parent.parent
MANAGERS = ("objects", "_default_manager", "_base_manager")

#: Reads that are right as they are, each with why. Keep it short.
ALLOWED: dict[tuple[str, str], str] = {
    ("tandem/org/sso.py", "Person"): "signing in finds who is signing in: there is no signed-in user "
                                     "to scope by yet, and the organisation's own provider is checked there",
    ("tandem/work/views_approvals.py", "Person"): "an approver's signed link: the link names the person, "
                                                  "and nobody is signed in",
    ("tandem/work/views_approvals.py", "Event"): "why each request waits: read only for the requests "
                                                 "approvals_waiting_for already scoped to the approver",
}


def client_owned() -> set[str]:
    """The names of the models whose rows belong to a client organisation."""
    owned: set[type[models.Model]] = {ServiceRequest, Case}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model in owned or not model.__module__.startswith("tandem."):
                continue
            targets = {f.related_model for f in model._meta.get_fields() if f.concrete and f.is_relation
                       and (f.many_to_one or f.one_to_one)}
            if targets & owned:
                owned.add(model)
                grew = True
    return {m.__name__ for m in owned | {Person, Unit, Organisation}}


def surface_modules() -> list[Path]:
    """Every module that answers HTTP requests: pages, API routers, downloads."""
    found = []
    for path in sorted((ROOT / "tandem").rglob("*.py")):
        if "migrations" in path.parts or "tests" in path.parts or "management" in path.parts:
            continue
        text = path.read_text()
        named = path.stem.startswith(("views", "api")) or path.stem.endswith(("_views", "routes"))
        if named or "from django.shortcuts import" in text or "@router." in text:
            found.append(path)
    return found


def direct_reads(path: Path, owned: set[str]) -> list[tuple[int, str]]:
    """``Model.objects`` (or its default manager) of a client-owned model in a module."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Attribute) and node.attr in MANAGERS and isinstance(node.value, ast.Name)
                and node.value.id in owned):
            out.append((node.lineno, node.value.id))
    return out


@pytest.mark.django_db
def test_it_knows_what_hangs_off_a_request() -> None:
    owned = client_owned()
    # A guard on the guard: the rows the matrix seeds are all found by the closure.
    assert {"ServiceRequest", "Case", "Comment", "Attachment", "Event", "TimeEntry", "Person", "Unit",
            "RequestRating", "Promise", "SearchDocument"} <= owned, owned
    assert len(surface_modules()) > 25


@pytest.mark.django_db
def test_no_page_or_api_reads_a_client_owned_model_past_its_query_entry() -> None:
    owned = client_owned()
    found = []
    for path in surface_modules():
        module = str(path.relative_to(ROOT))
        for line, model in direct_reads(path, owned):
            if (module, model) not in ALLOWED:
                found.append(f"{module}:{line} {model}.objects (read it through the app's queries.py entry)")
    assert found == []


def test_the_guard_catches_a_direct_read(tmp_path: Path) -> None:
    sample = tmp_path / "views.py"
    sample.write_text("from tandem.work.models import ServiceRequest\n"
                      "def page(request):\n    return ServiceRequest.objects.filter(pk=1)\n")
    assert direct_reads(sample, {"ServiceRequest"}) == [(3, "ServiceRequest")]
