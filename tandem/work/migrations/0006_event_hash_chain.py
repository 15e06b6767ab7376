"""Chain every service request's events with sha256 hashes (docs/audit.md), and chain the
events already stored, so that ``tandem verify-audit`` can check an upgraded database too."""

from django.db import migrations, models

from tandem.engines.auditchain import GENESIS, event_digest

FIELDS = ("request_id", "seq", "kind", "actor_id", "at", "from_status", "to_status", "internal", "data")


def chain_existing_events(apps, schema_editor):
    Event = apps.get_model("work", "Event")
    connection = schema_editor.connection
    table = connection.ops.quote_name(Event._meta.db_table)
    sql = f"UPDATE {table} SET prev_hash = %s, hash = %s WHERE id = %s"  # noqa: S608
    rows = Event.objects.order_by("request_id", "seq").values_list("id", *FIELDS)
    current, prev, batch = None, GENESIS, []
    with connection.cursor() as cursor:
        for pk, *fields in rows.iterator(chunk_size=5000):
            if fields[0] != current:
                current, prev = fields[0], GENESIS
            digest = event_digest(prev, fields)
            batch.append((prev, digest, pk))
            prev = digest
            if len(batch) >= 5000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


class Migration(migrations.Migration):

    dependencies = [
        ("work", "0005_sla_response_missed"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="event",
            name="prev_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop, elidable=True),
    ]
