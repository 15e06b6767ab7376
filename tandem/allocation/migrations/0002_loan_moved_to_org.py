"""The Loan model moves to org (org's 0004 takes it up); its table stays where it is."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("allocation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Loan")],
            database_operations=[],
        ),
    ]
