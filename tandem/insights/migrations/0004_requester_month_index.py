"""A covering index for "which units did this person ask something of this month", asked on
every page a front-office person opens (the pulse prompt): a range of the person's own
submissions, however many requests the organisation holds. SQL for the reason given in 0003."""

from django.db import migrations

NAME = "insights_sr_requester_submitted"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        columns = "requester_id, submitted_at) INCLUDE (unit_id"
    else:
        columns = "requester_id, submitted_at, unit_id"
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON work_servicerequest ({columns})")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):

    dependencies = [("insights", "0003_dashboard_indexes")]

    operations = [migrations.RunPython(create, drop)]
