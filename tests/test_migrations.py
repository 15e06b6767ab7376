"""Upgrades on populated data: the models and the migrations agree, `migrate` on a populated
database is a no-op, and unapplying then reapplying the latest migration of every Tandem app on the
demo's data loses nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import AddField, CreateModel

END = "2026-11-25T11:00:00Z"


def tandem_apps() -> set[str]:
    return {config.label for config in apps.get_app_configs() if config.name.startswith("tandem.")}


def snapshot(labels: set[str]) -> dict[str, list[dict[str, Any]]]:
    models = [m for m in apps.get_models() if m._meta.app_label in labels]
    return {m._meta.label: list(m._default_manager.order_by("pk").values()) for m in models}


def test_the_models_need_no_migration_that_is_not_written(db) -> None:
    out = io.StringIO()
    # --check exits with status 1 when a model change has no migration yet.
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_migrations_round_trip_the_demo_data_without_loss() -> None:
    call_command("demo", "--no-serve", "--weeks", "1", "--end", END, "--seed", "3", stdout=io.StringIO())
    labels = tandem_apps() | {"auth"}
    before = snapshot(labels)
    assert len(before["work.ServiceRequest"]) > 10 and len(before["work.Event"]) > 50

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    assert executor.migration_plan(leaves) == []  # `migrate` has nothing to do on a populated database
    call_command("migrate", "--check", verbosity=0)  # exits 1 if anything were unapplied

    # Each Tandem app's latest migration, unapplied then reapplied (with whatever depends on it).
    steps = []
    for app, name in leaves:
        if app in tandem_apps():
            parents = [p.key for p in executor.loader.graph.node_map[(app, name)].parents if p.key[0] == app]
            steps.extend(parents[:1])
    assert {app for app, _ in steps} >= {"work", "notifications", "agreements", "org"}
    dropped: set[str] = set()  # apps unapplied down to nothing: their tables are gone by design
    created: set[str] = set()  # models whose table an unapplied migration creates: likewise
    added: dict[str, set[str]] = {}  # columns an unapplied migration adds: refilled by the next use
    for target in steps:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan([target])
        try:
            assert plan and all(backwards for _, backwards in plan), (target, plan)
            executor.migrate([target])
            dropped |= {m.app_label for m, _ in plan if m.initial}
            created |= {f"{m.app_label}.{op.name}" for m, _ in plan for op in m.operations
                        if isinstance(op, CreateModel)}
            for m, _ in plan:
                for op in m.operations:
                    if isinstance(op, AddField):
                        model = apps.get_model(m.app_label, op.model_name)
                        added.setdefault(model._meta.label, set()).add(model._meta.get_field(op.name).attname)
        finally:
            executor = MigrationExecutor(connection)
            executor.migrate(executor.loader.graph.leaf_nodes())
    assert dropped <= tandem_apps() - {"org", "catalogue", "agreements", "work", "notifications"}
    after = snapshot(labels)
    assert after.keys() == before.keys()
    for label, rows in before.items():
        if label.split(".")[0] in dropped or label in created:
            continue
        # Every row and every value, the events' hash chain included: the hash-chain migration
        # recomputes it on the way forward exactly as the actions first wrote it.
        gone = added.get(label, set())
        assert [{k: v for k, v in r.items() if k not in gone} for r in after[label]] == [
            {k: v for k, v in r.items() if k not in gone} for r in rows
        ], label
    call_command("verify-audit", stdout=io.StringIO())


#: Migrations written before the expand/contract rule below; each was checked by hand to touch
#: tables that the running release did not write while it was applied (or was the first release).
BEFORE_THE_RULE = {
    ("catalogue", "0002_service_review_interval_months_serviceevent_and_more"),
    ("org", "0001_initial"),
    ("work", "0003_agreement_clock"),
    ("work", "0004_late_for_cutoff"),
    ("work", "0006_event_hash_chain"),
}


def test_new_migrations_keep_the_running_release_working() -> None:
    """During a rolling upgrade the previous release serves the new schema (docs/operations.md,
    "Upgrades without downtime"). So a migration only expands: a new column is nullable or has
    a database default (old code inserts rows without it), and nothing is renamed in place (old
    code would query the old name). Removing what old code still reads waits for a later release."""
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RenameField, RenameModel

    loader = MigrationLoader(None, ignore_no_migrations=True)
    problems = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in tandem_apps() or (app, name) in BEFORE_THE_RULE:
            continue
        for op in migration.operations:
            if isinstance(op, AddField):
                field = op.field
                if not (field.null or field.many_to_many or field.has_db_default()):
                    problems.append(f"{app}.{name}: {op.model_name}.{op.name} is NOT NULL without db_default")
            if isinstance(op, RenameField | RenameModel):
                problems.append(f"{app}.{name}: {op.describe()} (add the new, copy, drop the old a release later)")
    assert problems == []
