"""Pay snapshots imported from payroll, HR's explanations of the gaps, and the audit trail.

Individual rows (``PayRow``) are confidential: only people with the HR role and administrators
read them, through ``tandem.pay.actions.read_rows``, which writes a ``PayAudit`` row each time.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from tandem.org.models import Person, Side


class HrRole(models.Model):
    """The HR role: may import pay snapshots, read individual pay and explain gaps.

    Beside the person's role (member, lead, ...) rather than one more choice of it, because an
    HR lead leads the HR unit as well: the two do not exclude each other."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="hr_role")
    granted_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "HR role"

    def __str__(self) -> str:
        return f"HR: {self.person}"


class PaySnapshot(models.Model):
    """One pay period's export from payroll (the snapshot date is the period's last day)."""

    snapshot_date = models.DateField(unique=True, help_text="The last day of the relevant pay period.")
    file_name = models.CharField(max_length=200, blank=True)
    imported_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-snapshot_date"]

    def __str__(self) -> str:
        return f"Pay snapshot {self.snapshot_date:%d %b %Y}"


class PayRow(models.Model):
    """One person's pay in a snapshot. The side is the person's at the import: a later move to
    another unit does not rewrite past figures."""

    snapshot = models.ForeignKey(PaySnapshot, on_delete=models.CASCADE, related_name="rows")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=5, choices=Side.choices)
    grade = models.CharField(max_length=40)
    weekly_hours = models.DecimalField(max_digits=5, decimal_places=2, validators=[MinValueValidator(0)])
    period_days = models.PositiveSmallIntegerField()
    ordinary_pay = models.DecimalField(max_digits=12, decimal_places=2)
    period_bonus = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    bonus_12_months = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    reduced_by_leave = models.BooleanField(default=False)

    class Meta:
        ordering = ["snapshot", "grade", "person_id"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "person"], name="pay_row_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.snapshot}"


class GradeExplanation(models.Model):
    """HR's account of a grade's gap: why it is there, what is being done, when it is looked at
    again. The latest for a grade is the one the report shows; earlier ones are kept."""

    grade = models.CharField(max_length=40)
    explanation = models.TextField()
    action = models.TextField()
    review_date = models.DateField()
    by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["grade", "-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.grade}: {self.explanation[:40]}"


class AuditWhat(models.TextChoices):
    IMPORTED = "imported", "Imported a snapshot"
    READ_ROWS = "read_rows", "Read individual pay"
    DOWNLOADED_ROWS = "downloaded_rows", "Downloaded individual pay"
    EXPLAINED = "explained", "Explained a grade's gap"
    GRANTED = "granted", "Granted the HR role"
    REVOKED = "revoked", "Took the HR role away"


class PayAudit(models.Model):
    """Who did what with pay data, and when: written in the same transaction as the act."""

    actor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=16, choices=AuditWhat.choices)
    snapshot = models.ForeignKey(PaySnapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    detail = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.actor} {AuditWhat(self.what).label.lower()} at {self.at:%Y-%m-%d %H:%M}"
