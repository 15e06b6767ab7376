"""Requests' numbers within their requesting organisation (docs/isolation.md, "References").

The columns are added empty (NULL: the release before this one, still serving during a rolling
upgrade, writes requests without them, and the worker numbers those afterwards), every existing
request is numbered in three set-based statements (the provider's own keep their id as their number, so that their references do not
change; each client's are numbered 1, 2, 3, ... in the order of their ids), then the references
become unique. ``bench/request_numbers.py`` times it at a million requests.
"""

import django.db.models.deletion
from django.db import migrations, models


def number_existing(apps, schema_editor):
    from tandem.isolation import provider_context
    from tandem.work.numbering import number_unnumbered_sql

    # Row-level security is forced even for the tables' owner: the provider sees every row.
    with provider_context(), schema_editor.connection.cursor() as cursor:
        for statement in number_unnumbered_sql(schema_editor.connection.vendor, keep_provider_ids=True):
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0009_row_level_security'),
        ('work', '0018_queue_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='servicerequest',
            name='organisation',
            field=models.ForeignKey(blank=True, help_text="Whose numbering its number is in (blank: the provider's own).", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.organisation'),
        ),
        migrations.AddField(
            model_name='servicerequest',
            name='number',
            field=models.PositiveIntegerField(null=True, help_text='Its number within its requesting organisation.'),
        ),
        migrations.AddField(
            model_name='servicerequest',
            name='reference',
            field=models.CharField(null=True, max_length=80, help_text="SR-000042, or NORTHERN-000042 for a client's."),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name='servicerequest',
            name='reference',
            field=models.CharField(help_text="SR-000042, or NORTHERN-000042 for a client's.", max_length=80, unique=True, null=True),
        ),
        migrations.AddIndex(
            model_name='servicerequest',
            index=models.Index(condition=models.Q(('number__isnull', True)), fields=['id'], name='sr_unnumbered'),
        ),
        migrations.AddConstraint(
            model_name='servicerequest',
            constraint=models.UniqueConstraint(condition=models.Q(('organisation__isnull', False)), fields=('organisation', 'number'), name='sr_one_number_per_client'),
        ),
        migrations.AddConstraint(
            model_name='servicerequest',
            constraint=models.UniqueConstraint(condition=models.Q(('organisation__isnull', True)), fields=('number',), name='sr_one_number_per_provider'),
        ),
    ]
