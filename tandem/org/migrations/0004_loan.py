"""The Loan model moves from allocation to org without touching the database: the table keeps
its name (``allocation_loan``), so the release still running during an upgrade reads and writes
it as before. allocation's 0002 dropped it from allocation's state just before."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("org", "0003_unit_allocation_mode"),
        ("allocation", "0002_loan_moved_to_org"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Loan",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("starts_at", models.DateTimeField()),
                        ("ends_at", models.DateTimeField()),
                        ("note", models.CharField(blank=True, max_length=200)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("ended_at", models.DateTimeField(blank=True, help_text="Set when a lead ended it early.", null=True)),
                        ("agreed_by_borrower", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="org.person")),
                        ("agreed_by_lender", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="org.person")),
                        ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="org.person")),
                        ("ended_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="org.person")),
                        ("person", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="loans", to="org.person")),
                        ("unit", models.ForeignKey(help_text="The borrowing unit.", on_delete=django.db.models.deletion.CASCADE, related_name="loans_in", to="org.unit")),
                    ],
                    options={
                        "db_table": "allocation_loan",
                        "ordering": ["-starts_at", "-id"],
                        "indexes": [models.Index(fields=["person", "ends_at"], name="loan_person_ends")],
                        "constraints": [models.CheckConstraint(condition=models.Q(("ends_at__gt", models.F("starts_at"))), name="loan_ends_after_start")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
