"""Every change to pay data, each in its own transaction, each audited: importing a snapshot,
reading individual rows, explaining a grade's gap, granting and taking away the HR role."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils import timezone

from tandem.org.models import Person
from tandem.org.queries import is_admin
from tandem.outbox.actions import action_transaction
from tandem.pay.models import AuditWhat, GradeExplanation, HrRole, PayAudit, PayRow, PaySnapshot
from tandem.pay.queries import reads_individual_pay, rows_visible_to
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound

#: The columns of a pay snapshot file, in the template's order (docs/pay.md, "The file").
COLUMNS = (
    "person", "grade", "weekly_hours", "period_days", "ordinary_pay", "period_bonus", "bonus_12_months",
    "reduced_by_leave",
)
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS = 50  # listed in one refusal; the rest are summed up
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}
MONEY = Decimal("0.01")


def template_csv() -> str:
    """The empty file HR fills in: the header and one example row (a made-up person)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(["jane.doe", "C2", "37.5", "30", "2450.00", "0.00", "1200.00", "no"])
    return out.getvalue()


def _require_hr(actor: Person) -> None:
    if not reads_individual_pay(actor):
        raise Forbidden("Only people with the HR role and administrators handle individual pay.")


def _audit(actor: Person, what: str, snapshot: PaySnapshot | None = None, detail: str = "") -> None:
    PayAudit.objects.create(actor=actor, what=what, snapshot=snapshot, detail=detail[:300], at=timezone.now())


# --- importing -------------------------------------------------------------------------------


@dataclass
class _Parsed:
    person: Person
    grade: str
    weekly_hours: Decimal
    period_days: int
    ordinary_pay: Decimal
    period_bonus: Decimal
    bonus_12_months: Decimal
    reduced_by_leave: bool


def _text_of(data: bytes) -> str:
    if not data.strip():
        raise Invalid("The file is empty: export the pay snapshot as CSV with the template's columns.",
                      errors={"file": ["The file is empty."]})
    if b"\x00" in data[:4096]:
        raise Invalid("The file is not a CSV (it looks like a spreadsheet or another binary file): save it "
                      "as 'CSV UTF-8' and import that.", errors={"file": ["Not a CSV file."]})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise Invalid("The file is not a CSV in UTF-8 text: save it as 'CSV UTF-8' and import that.",
                      errors={"file": ["Not UTF-8 text."]}) from e


def _number(raw: str) -> Decimal:
    cleaned = raw.strip().removeprefix("£").replace(",", "").strip()
    value = Decimal(cleaned)  # InvalidOperation when not a number
    if not value.is_finite():
        raise InvalidOperation(raw)
    return value


def parse_snapshot(data: bytes) -> list[_Parsed]:
    """The file's rows, checked; refuses with every problem named by row and column (the header
    is row 1, as a spreadsheet numbers it)."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", errors={"file": ["Too large."]})
    text = _text_of(data)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        records = list(reader)
    except csv.Error as e:
        raise Invalid(f"The file is not a readable CSV ({e}).", errors={"file": ["Not a CSV file."]}) from e
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise Invalid(
            f"Row 1 (the header) lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
            f"the file needs {', '.join(COLUMNS)} (download the template).",
            errors={f"row_1.{c}": ["This column is missing."] for c in missing},
        )
    if not records:
        raise Invalid("The file has a header but no rows.", errors={"file": ["No rows."]})
    if len(records) > MAX_ROWS:
        raise Invalid(f"The file has more than {MAX_ROWS} rows.", errors={"file": ["Too many rows."]})

    given = {(r.get("person") or "").strip() for r in records} - {""}
    keys = given | {k.lower() for k in given}
    found: dict[str, Person] = {}
    for p in Person.objects.select_related("user", "unit").filter(
        Q(user__username__in=keys) | Q(user__email__in=keys)
    ):
        found[p.user.username.lower()] = p
        if p.user.email:
            found.setdefault(p.user.email.lower(), p)

    problems: dict[str, list[str]] = {}
    rows: list[_Parsed] = []
    seen: dict[int, int] = {}

    def wrong(row: int, column: str, message: str) -> None:
        problems.setdefault(f"row_{row}.{column}", []).append(message)

    for number, record in enumerate(records, start=2):
        if None in record:  # more fields than the header has
            wrong(number, "row", "This row has more fields than the header.")
            continue
        values = {c: (record.get(c) or "").strip() for c in COLUMNS}
        person = found.get(values["person"].lower())
        if not values["person"]:
            wrong(number, "person", "The person is blank: give their Tandem username or email.")
        elif person is None:
            wrong(number, "person", f"Nobody in Tandem has the username or email {values['person'][:80]!r}.")
        elif person.pk in seen:
            wrong(number, "person", f"{person.display_name} is already on row {seen[person.pk]}: one row a person.")
        else:
            seen[person.pk] = number
        grade = values["grade"]
        if not grade or len(grade) > 40:
            wrong(number, "grade", "The grade is blank or longer than 40 characters.")
        parsed: dict[str, Decimal] = {}
        for column in ("weekly_hours", "period_days", "ordinary_pay", "period_bonus", "bonus_12_months"):
            try:
                value = _number(values[column])
            except (InvalidOperation, ValueError):
                wrong(number, column, f"{values[column][:40]!r} is not a number.")
                continue
            if value < 0:
                wrong(number, column, "A negative amount is not possible here.")
            elif column == "weekly_hours" and not 0 < value <= 168:
                wrong(number, column, "Weekly hours are more than 0 and at most 168.")
            elif column == "period_days" and (value != value.to_integral_value() or not 1 <= value <= 366):
                wrong(number, column, "The period's length is a whole number of days, 1 to 366.")
            elif value >= Decimal("1e10"):
                wrong(number, column, "The amount is too large.")
            else:
                parsed[column] = value
        leave = values["reduced_by_leave"].lower()
        if leave not in YES | NO:
            wrong(number, "reduced_by_leave", f"{values['reduced_by_leave'][:40]!r} is not yes or no.")
        if person is not None and len(parsed) == 5 and not any(k.startswith(f"row_{number}.") for k in problems):
            rows.append(_Parsed(
                person=person, grade=grade, weekly_hours=parsed["weekly_hours"],
                period_days=int(parsed["period_days"]), ordinary_pay=parsed["ordinary_pay"].quantize(MONEY),
                period_bonus=parsed["period_bonus"].quantize(MONEY),
                bonus_12_months=parsed["bonus_12_months"].quantize(MONEY), reduced_by_leave=leave in YES,
            ))
    if problems:
        named = list(problems)
        first = "; ".join(f"{k.replace('_', ' ', 1).replace('.', ', ', 1)}: {problems[k][0]}" for k in named[:3])
        more = f" (and {len(named) - 3} more)" if len(named) > 3 else ""
        listed = {k: problems[k] for k in named[:MAX_ERRORS]}
        raise Invalid(f"Nothing was imported. {first}{more}.", errors=listed)
    return rows


def import_snapshot(actor: Person, data: bytes, snapshot_date: date, *, file_name: str = "") -> PaySnapshot:
    """A pay snapshot from payroll's CSV: every row, or nothing."""
    _require_hr(actor)
    rows = parse_snapshot(data)
    with action_transaction():
        if PaySnapshot.objects.filter(snapshot_date=snapshot_date).exists():
            raise Conflict(f"A snapshot for {snapshot_date:%d %b %Y} is already imported.",
                           errors={"snapshot_date": ["Already imported."]})
        snapshot = PaySnapshot.objects.create(
            snapshot_date=snapshot_date, file_name=file_name[:200], imported_by=actor, imported_at=timezone.now()
        )
        PayRow.objects.bulk_create([
            PayRow(snapshot=snapshot, person=r.person, side=r.person.unit.side, grade=r.grade,
                   weekly_hours=r.weekly_hours, period_days=r.period_days, ordinary_pay=r.ordinary_pay,
                   period_bonus=r.period_bonus, bonus_12_months=r.bonus_12_months, reduced_by_leave=r.reduced_by_leave)
            for r in rows
        ])
        _audit(actor, AuditWhat.IMPORTED, snapshot, f"{len(rows)} rows from {file_name or 'a file'}")
    return snapshot


# --- reading individual pay ------------------------------------------------------------------


def read_rows(actor: Person, snapshot_id: int, *, download: bool = False) -> tuple[PaySnapshot, list[PayRow]]:
    """A snapshot's individual rows, for HR and administrators; the read is written to the audit
    trail before the rows are handed out."""
    if not reads_individual_pay(actor):
        raise NotFound("There is no such pay snapshot.")
    with action_transaction():
        snapshot = PaySnapshot.objects.filter(pk=snapshot_id).first()
        if snapshot is None:
            raise NotFound("There is no such pay snapshot.")
        rows = list(rows_visible_to(actor.user).filter(snapshot=snapshot).order_by("grade", "person__user__username"))
        _audit(actor, AuditWhat.DOWNLOADED_ROWS if download else AuditWhat.READ_ROWS, snapshot,
               f"{len(rows)} rows")
    return snapshot, rows


# --- explaining a grade's gap ----------------------------------------------------------------


def explain_grade(actor: Person, grade: str, explanation: str, action: str, review_date: date) -> GradeExplanation:
    _require_hr(actor)
    grade, explanation, action = grade.strip(), explanation.strip(), action.strip()
    errors: dict[str, list[str]] = {}
    if not grade or len(grade) > 40:
        errors["grade"] = ["Give the grade (at most 40 characters)."]
    if not explanation:
        errors["explanation"] = ["Say why the gap is there."]
    if not action:
        errors["action"] = ["Say what is being done about it."]
    if review_date <= timezone.localdate():
        errors["review_date"] = ["The review date is in the future."]
    if errors:
        raise Invalid("The explanation is incomplete: " + " ".join(m[0] for m in errors.values()), errors=errors)
    if not PayRow.objects.filter(grade=grade).exists():
        raise NotFound(f"No snapshot has the grade {grade!r}.", errors={"grade": ["Unknown grade."]})
    with action_transaction():
        e = GradeExplanation.objects.create(grade=grade, explanation=explanation, action=action,
                                            review_date=review_date, by=actor, at=timezone.now())
        _audit(actor, AuditWhat.EXPLAINED, None, f"grade {grade}")
    return e


# --- the HR role -----------------------------------------------------------------------------


def grant_hr_role(actor: Person, person: Person) -> HrRole:
    if not is_admin(actor):
        raise Forbidden("Only administrators grant the HR role.")
    with action_transaction():
        role, _ = HrRole.objects.get_or_create(person=person, defaults={"granted_by": actor})
        _audit(actor, AuditWhat.GRANTED, None, f"to {person.user.username}")
    return role


def revoke_hr_role(actor: Person, person: Person) -> None:
    if not is_admin(actor):
        raise Forbidden("Only administrators take the HR role away.")
    with action_transaction():
        HrRole.objects.filter(person=person).delete()
        _audit(actor, AuditWhat.REVOKED, None, f"from {person.user.username}")
