"""Cases' numbers within their unit's organisation, as requests' (docs/isolation.md, "References").

The columns are added empty (NULL: the release before this one, still serving during a rolling
upgrade, opens cases without them, and the worker numbers those afterwards), every existing case
is numbered in two set-based statements (the provider's own keep their id as their number, so that
``C-000123`` still names the same case; each client's are numbered 1, 2, 3, ... in the order of
their ids, ``C-NORTHERN-000001``), then the references become unique.
"""

import django.db.models.deletion
from django.db import migrations, models


def number_existing(apps, schema_editor):
    from tandem.isolation import provider_context
    from tandem.work.numbering import CASES, number_unnumbered_sql

    # Row-level security is forced even for the tables' owner: the provider sees every row.
    with provider_context(), schema_editor.connection.cursor() as cursor:
        for statement in number_unnumbered_sql(schema_editor.connection.vendor, keep_provider_ids=True,
                                               numbering=CASES):
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0009_row_level_security'),
        ('work', '0019_request_numbers'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='organisation',
            field=models.ForeignKey(blank=True, help_text="Whose numbering its number is in (blank: the provider's own).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.organisation'),
        ),
        migrations.AddField(
            model_name='case',
            name='number',
            field=models.PositiveIntegerField(help_text="Its number within its unit's organisation.", null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='reference',
            field=models.CharField(help_text="C-000042, or C-NORTHERN-000042 for a client's.", max_length=80, null=True),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name='case',
            name='reference',
            field=models.CharField(help_text="C-000042, or C-NORTHERN-000042 for a client's.", max_length=80, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('number__isnull', True)), fields=['id'], name='case_unnumbered'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(condition=models.Q(('organisation__isnull', False)), fields=('organisation', 'number'), name='case_one_number_per_client'),
        ),
        migrations.AddConstraint(
            model_name='case',
            constraint=models.UniqueConstraint(condition=models.Q(('organisation__isnull', True)), fields=('number',), name='case_one_number_per_provider'),
        ),
    ]
