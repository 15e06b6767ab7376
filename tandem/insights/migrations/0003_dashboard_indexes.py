"""Covering indexes for the dashboards' reads of the requests table: the share resolved late per
unit over the last weeks (the executive page) and the people who asked each unit per period (the
pulse results). The dashboards read only these index entries, never the wide request rows, so
their cost is a range of a narrow index however large the history (docs/scaling.md).

The indexes live on ``work_servicerequest`` but belong to the dashboards, hence here, as SQL:
PostgreSQL keeps the extra columns as INCLUDE payload; SQLite has no INCLUDE, so they are
trailing key columns there, which covers the same reads.
"""

from django.db import migrations

INDEXES = {
    "insights_sr_resolved_cover": ("resolved_at", ("unit_id", "status", "resolve_by", "due_at", "id")),
    "insights_sr_submitted_cover": ("submitted_at", ("unit_id", "requester_id", "id")),
}


def create(apps, schema_editor):
    include = schema_editor.connection.vendor == "postgresql"
    for name, (key, extra) in INDEXES.items():
        columns = f"{key}) INCLUDE ({', '.join(extra)}" if include else ", ".join((key, *extra))
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON work_servicerequest ({columns})")


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("insights", "0002_team_waits"),
        ("work", "0008_waiting_team_and_steps"),
    ]

    operations = [migrations.RunPython(create, drop)]
