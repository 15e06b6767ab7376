"""PostgreSQL's row-level security: the backstop under the query entries (docs/isolation.md).

Every test runs as a role that owns nothing (created and granted here with ``tandem db-roles``'
own SQL), as the web server and the worker do in production; the suite's own connection is a
superuser, which row-level security never holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from tandem.catalogue.models import Contract
from tandem.catalogue.tests.test_intake_rules import TIMESHEET_OK
from tandem.isolation import no_context, organisation_context, provider_context
from tandem.org.models import Organisation, Person, Side, Unit
from tandem.work import actions
from tandem.work.models import Case, ServiceRequest
from tests.cast import build_cast, make_person

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row-level security is PostgreSQL's; on SQLite the query entries' scoping holds alone",
    ),
]

APP_ROLE = "tandem_rls_probe"
ROOTS = (ServiceRequest, Case, Person, Unit)

# Tables reached from a request, a case, a person or a unit that hold no client data and so need
# no policy. Empty: every one of them has one. A table added here must say why.
ALLOWED_WITHOUT_POLICY: dict[str, str] = {}

# Tables not reached from the roots, and why they carry no policy (docs/isolation.md says the same).
NOT_CLIENT_DATA = {
    "auth_user": "accounts: sign-in finds one by name before any organisation is known",
    "auth_user_groups": "Django's permissions, unused by Tandem's roles",
    "auth_user_user_permissions": "Django's permissions, unused by Tandem's roles",
    "auth_group": "Django's permissions",
    "auth_group_permissions": "Django's permissions",
    "auth_permission": "Django's permissions",
    "django_content_type": "Django's model registry",
    "django_admin_log": "the provider's administrators' log",
    "django_session": "read before the request's organisation is known",
    "org_apitoken": "key hashes, read before the token's person is known",
    "org_loginfailure": "sign-in lockout, before anybody is signed in",
    "org_skill": "the provider's skill names, shared",
    "outbox_message": "ids of what changed, written by every action in its own context",
    "notifications_subscriber": "the provider's webhook receivers",
    "voice_usedpulselink": "hashes of used signed links",
    "promises_enginefit": "the promise engine's nightly fits: one model over every team's history, read by the "
                          "quote, shown to the provider's administrators only",
}
# Reached from the roots only backwards (a unit names its organisation), covered all the same.
# Tables keyed on the organisation itself rather than reached from a request, case, person or unit.
EXTRA_COVERED = {"org_organisation", "voice_servicereport"}


def _label(model: Any) -> str:
    return model._meta.db_table


def client_tables() -> set[str]:
    """Every table with a foreign-key path to a request, a case, a person or a unit."""
    concrete = [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]
    reached = {_label(m) for m in ROOTS}
    grown = True
    while grown:
        grown = False
        for model in concrete:
            table = _label(model)
            if table in reached:
                continue
            if any(f.is_relation and f.related_model and _label(f.related_model) in reached
                   for f in model._meta.concrete_fields):
                reached.add(table)
                grown = True
    return reached


def _rows(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@contextmanager
def as_app_role() -> Iterator[None]:
    """The connection as a role that owns no table, granted as ``tandem db-roles`` grants it
    (inside the test's transaction: the role goes when it rolls back)."""
    from importlib import import_module

    grant_sql = import_module("tandem.org.management.commands.db-roles").grant_sql
    with connection.cursor() as cursor:
        for statement in grant_sql(APP_ROLE, connection.settings_dict["NAME"]):
            cursor.execute(statement)
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@dataclass
class Scene:
    a: Organisation
    b: Organisation
    a_person: Person
    b_person: Person


@pytest.fixture
def scene() -> Scene:
    return build_scene()


def build_scene() -> Scene:
    """Two client agencies (Leeds is A's branch, York B's) and the provider's own head office,
    each with a case and two requests with a comment each, through the actions."""
    cast = build_cast()
    a = Organisation.objects.create(name="Agency A", slug="agency-a")
    b = Organisation.objects.create(name="Agency B", slug="agency-b")
    Contract.objects.bulk_create(Contract(organisation=o, service=cast.timesheet, starts_on=date(2000, 1, 1))
                                 for o in (a, b))
    Unit.objects.filter(pk=cast.leeds.pk).update(organisation=a)
    Unit.objects.filter(pk=cast.york.pk).update(organisation=b)
    head_office = Unit.objects.create(name="Head office", slug="head-office", side=Side.FRONT)
    provider_person = make_person("head_office", head_office)
    for actor in (cast.consultant, cast.other_consultant, provider_person):
        actor.refresh_from_db()
        case = actions.create_case(actor, customer_reference=f"C-{actor.pk}", title="A customer")
        for _ in range(2):
            sr = actions.submit_request(actor, cast.timesheet, dict(TIMESHEET_OK), case_id=case.pk).request
            actions.add_comment(actor, sr.pk, "Any news?")
    return Scene(a, b, cast.consultant, cast.other_consultant)


def world_of(organisation: Organisation) -> dict[str, set[int]]:
    """The ids of an organisation's own roots, read by the ORM as the suite's superuser."""
    units = set(Unit.objects.filter(organisation=organisation).values_list("id", flat=True))
    return {
        "org_organisation": {organisation.pk},
        "org_unit": units,
        "org_person": set(Person.objects.filter(unit_id__in=units).values_list("id", flat=True)),
        "work_servicerequest": set(
            ServiceRequest.objects.filter(requesting_unit_id__in=units).values_list("id", flat=True)
        ),
        "work_case": set(Case.objects.filter(unit_id__in=units).values_list("id", flat=True)),
    }


def rows_of(world: dict[str, set[int]]) -> dict[str, int]:
    """Per client table, how many rows the connection sees that name one of ``world``'s roots
    (as the row itself or through any of its foreign keys), by raw SQL."""
    found: dict[str, int] = {}
    tables = client_tables() | EXTRA_COVERED
    for model in apps.get_models(include_auto_created=True):
        table = _label(model)
        if table not in tables:
            continue
        conditions, params = [], []
        if table in world:
            conditions.append(f'"{model._meta.pk.column}" = ANY(%s)')
            params.append(list(world[table]))
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model and _label(f.related_model) in world:
                conditions.append(f'"{f.column}" = ANY(%s)')
                params.append(list(world[_label(f.related_model)]))
        if conditions:
            found[table] = _rows(f'SELECT count(*) FROM "{table}" WHERE {" OR ".join(conditions)}', params)[0][0]
    return found


def test_it_shows_a_client_none_of_another_clients_rows_through_raw_sql(scene: Scene) -> None:
    world_b = world_of(scene.b)
    with provider_context(), as_app_role():
        b_rows_for_provider = rows_of(world_b)
    with organisation_context(scene.b.pk), as_app_role():
        b_rows_for_b = rows_of(world_b)
    with organisation_context(scene.a.pk), as_app_role():
        b_rows_for_a = rows_of(world_b)
    assert {t: n for t, n in b_rows_for_a.items() if n} == {}
    # Not vacuous: B's rows are there, and B and the provider see them.
    populated = {t for t, n in b_rows_for_provider.items() if n}
    assert {"work_servicerequest", "work_event", "work_comment", "work_case", "org_person", "org_unit",
            "search_searchdocument", "promises_promise"} <= populated
    assert b_rows_for_b == b_rows_for_provider


def test_it_shows_no_row_without_a_context_and_no_client_row_to_an_unknown_organisation(scene: Scene) -> None:
    tables = sorted(client_tables() | EXTRA_COVERED)
    with provider_context(), as_app_role():
        total = sum(_rows(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables)
    assert total > 50
    with no_context(), as_app_role():
        seen = {t: _rows(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}
    assert {t: n for t, n in seen.items() if n} == {}
    # An organisation that does not exist sees the provider's shared rows (its teams and their
    # services) and nothing of any client.
    clients = {k: world_of(scene.a)[k] | world_of(scene.b)[k] for k in world_of(scene.a)}
    with organisation_context(999_999), as_app_role():
        assert {t: n for t, n in rows_of(clients).items() if n} == {}
        assert _rows("SELECT count(*) FROM work_servicerequest")[0][0] == 0
        assert _rows("SELECT count(*) FROM work_case")[0][0] == 0


def test_it_shows_the_provider_every_row(scene: Scene) -> None:
    tables = sorted(client_tables() | EXTRA_COVERED)
    everything = {t: _rows(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}  # as the superuser
    with provider_context(), as_app_role():
        assert {t: _rows(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables} == everything


def test_it_refuses_a_client_writing_a_row_of_another_client(scene: Scene) -> None:
    york = Unit.objects.get(organisation=scene.b)
    with organisation_context(scene.a.pk), as_app_role():
        # B's unit is not even found: nothing to update.
        assert _rows("UPDATE org_unit SET organisation_id = %s WHERE id = %s RETURNING id", [scene.a.pk, york.pk]) == []
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Unit.objects.create(name="Forged", slug="forged", side=Side.FRONT, organisation=scene.b)
    assert Unit.objects.get(pk=york.pk).organisation_id == scene.b.pk
    assert not Unit.objects.filter(slug="forged").exists()


def test_every_client_table_has_a_forced_policy() -> None:
    """Fails when a table reached from a request, a case, a person or a unit (or listed as
    covered) has no policy, or row-level security is not enabled and forced on it; and when a
    table is neither covered nor said not to hold client data."""
    expected = (client_tables() - set(ALLOWED_WITHOUT_POLICY)) | EXTRA_COVERED
    flags = dict(
        ((name, (rls, force)) for name, rls, force in _rows(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        ))
    )
    policies = {name for (name,) in _rows("SELECT tablename FROM pg_policies WHERE schemaname = 'public'")}
    missing = sorted(t for t in expected if t not in policies or flags.get(t) != (True, True))
    assert missing == [], f"client tables without a forced row-level security policy: {missing}"
    every_table = {_label(m) for m in apps.get_models(include_auto_created=True) if m._meta.managed}
    undecided = sorted(every_table - expected - set(NOT_CLIENT_DATA) - set(ALLOWED_WITHOUT_POLICY))
    assert undecided == [], f"tables neither covered nor said to hold no client data: {undecided}"
