"""Who may see what of pay, decided in one place, and the reads through it.

- Individual rows (a person's pay): people with the HR role and administrators, nobody else.
  The pages and the API read them through ``tandem.pay.actions.read_rows``, which audits each
  read; ``rows_visible_to`` is the permission-aware query beneath it.
- The report (figures of groups at or above the threshold): executives too.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, QuerySet

from tandem.org.models import Person, Role
from tandem.org.queries import AnyUser, is_admin, person_of
from tandem.pay.models import GradeExplanation, HrRole, PayAudit, PayRow, PaySnapshot


def threshold() -> int:
    """The smallest group whose figures are shown (docs/pay.md); 5 unless configured."""
    return max(3, int(settings.TANDEM_PAY_MIN_GROUP))


def has_hr_role(person: Person | None) -> bool:
    return person is not None and HrRole.objects.filter(person_id=person.pk).exists()


def reads_individual_pay(person: Person | None) -> bool:
    """Importing snapshots, reading a person's pay, explaining gaps: HR and administrators."""
    return is_admin(person) or has_hr_role(person)


def reads_pay_report(person: Person | None) -> bool:
    """The report of the groups' figures: HR, administrators and executives."""
    return person is not None and (person.role == Role.EXECUTIVE or reads_individual_pay(person))


def snapshots_visible_to(user: AnyUser | None) -> QuerySet[PaySnapshot]:
    """The snapshots (their dates and who imported them, not their rows), for report readers."""
    if not reads_pay_report(person_of(user)):
        return PaySnapshot.objects.none()
    return PaySnapshot.objects.select_related("imported_by__user").annotate(row_count=Count("rows"))


def rows_visible_to(user: AnyUser | None) -> QuerySet[PayRow]:
    """Individual pay: HR and administrators only. Read it through ``actions.read_rows``."""
    if not reads_individual_pay(person_of(user)):
        return PayRow.objects.none()
    return PayRow.objects.select_related("person__user", "person__unit")


def explanations_visible_to(user: AnyUser | None) -> QuerySet[GradeExplanation]:
    if not reads_pay_report(person_of(user)):
        return GradeExplanation.objects.none()
    return GradeExplanation.objects.select_related("by__user")


def latest_explanations(user: AnyUser | None) -> dict[str, GradeExplanation]:
    """Each grade's latest explanation."""
    latest: dict[str, GradeExplanation] = {}
    for e in explanations_visible_to(user):  # ordered by grade, newest first
        latest.setdefault(e.grade, e)
    return latest


def audit_visible_to(user: AnyUser | None) -> QuerySet[PayAudit]:
    if not reads_individual_pay(person_of(user)):
        return PayAudit.objects.none()
    return PayAudit.objects.select_related("actor__user", "snapshot")


def hr_people() -> QuerySet[Person]:
    return Person.objects.filter(hr_role__isnull=False).select_related("user", "unit")
