"""Importing a pay snapshot: every row or nothing, each wrong input named by row and column,
only HR and administrators, every import and every read of rows audited."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tandem.pay import actions
from tandem.pay.models import AuditWhat, PayAudit, PayRow, PaySnapshot
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, Cast

from .scene import HEADER, snapshot_csv, staff

pytestmark = pytest.mark.django_db
DAY = date(2026, 4, 30)


@pytest.fixture
def hr(cast: Cast):
    staff(cast)
    actions.grant_hr_role(cast.admin, cast.hr_agent)
    return cast.hr_agent


def test_it_imports_every_row_with_the_persons_side_and_audits_the_import(cast: Cast, hr) -> None:
    snapshot = actions.import_snapshot(hr, snapshot_csv(), DAY, file_name="april.csv")
    assert snapshot.rows.count() == 26
    f14 = PayRow.objects.get(person__user__username="f14")
    assert (f14.side, f14.grade, f14.reduced_by_leave, str(f14.ordinary_pay)) == ("front", "C3", True, "1000.00")
    assert PayRow.objects.get(person__user__username="b12").side == "back"
    audit = PayAudit.objects.get(what=AuditWhat.IMPORTED)
    assert audit.actor == hr and audit.snapshot == snapshot and "26 rows from april.csv" in audit.detail


def refused(hr, data: bytes) -> Invalid:
    with pytest.raises(Invalid) as caught:
        actions.import_snapshot(hr, data, DAY)
    assert PaySnapshot.objects.count() == 0 and PayRow.objects.count() == 0  # nothing imported
    return caught.value


def test_a_missing_column_is_named(cast: Cast, hr) -> None:
    data = b"person,grade,weekly_hours,period_days,ordinary_pay,reduced_by_leave\nf1,C1,25,28,2000,no\n"
    refusal = refused(hr, data)
    assert set(refusal.errors) == {"row_1.period_bonus", "row_1.bonus_12_months"}
    assert "Row 1 (the header) lacks the columns period_bonus, bonus_12_months" in refusal.message


@pytest.mark.parametrize(("line", "column", "words"), [
    ("f1,C1,25,28,-2000,0,0,no", "ordinary_pay", "negative"),
    ("f1,C1,25,28,lots,0,0,no", "ordinary_pay", "not a number"),
    ("f1,C1,25,28,2000,0,-5,no", "bonus_12_months", "negative"),
    ("f1,C1,25,28,2000,NaN,0,no", "period_bonus", "not a number"),
    ("f1,C1,0,28,2000,0,0,no", "weekly_hours", "more than 0"),
    ("f1,C1,25,0,2000,0,0,no", "period_days", "whole number of days"),
    ("nobody,C1,25,28,2000,0,0,no", "person", "Nobody in Tandem"),
    ("f1,C1,25,28,2000,0,0,perhaps", "reduced_by_leave", "not yes or no"),
    ("f1,,25,28,2000,0,0,no", "grade", "blank"),
])
def test_a_wrong_value_is_named_by_row_and_column(cast: Cast, hr, line: str, column: str, words: str) -> None:
    # The good row first, so that the wrong one is row 3 (the header is row 1).
    refusal = refused(hr, f"{HEADER}\nf2,C1,25,28,2200,0,0,no\n{line}\n".encode())
    assert list(refusal.errors) == [f"row_3.{column}"]
    assert words in refusal.errors[f"row_3.{column}"][0]
    assert refusal.message.startswith(f"Nothing was imported. row 3, {column}:")


def test_a_duplicate_person_is_named_with_the_row_they_were_first_on(cast: Cast, hr) -> None:
    refusal = refused(hr, f"{HEADER}\nf1,C1,25,28,2000,0,0,no\nf2,C1,25,28,2000,0,0,no\nF1,C1,25,28,2100,0,0,no\n"
                      .encode())
    assert list(refusal.errors) == ["row_4.person"]
    assert "already on row 2" in refusal.errors["row_4.person"][0]


def test_every_wrong_row_is_listed_at_once(cast: Cast, hr) -> None:
    refusal = refused(hr, f"{HEADER}\nf1,C1,25,28,-1,0,0,no\nf2,C1,0,28,2000,0,0,no\nghost,C1,25,28,1,0,0,no\n"
                      .encode())
    assert list(refusal.errors) == ["row_2.ordinary_pay", "row_3.weekly_hours", "row_4.person"]


@pytest.mark.parametrize("data", [
    b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00 spreadsheet",  # an .xlsx is a zip
    "person;grade\n".encode("utf-16"),
    b"\xff\xfe\xfa not text",
    b"",
])
def test_a_file_that_is_not_a_csv_is_refused(cast: Cast, hr, data: bytes) -> None:
    refusal = refused(hr, data)
    assert "file" in refusal.errors


def test_only_hr_and_administrators_import_and_a_date_is_imported_once(cast: Cast, hr) -> None:
    for outsider in (cast.executive, cast.payroll_lead, cast.consultant):
        with pytest.raises(Forbidden):
            actions.import_snapshot(outsider, snapshot_csv(), DAY)
    actions.import_snapshot(cast.admin, snapshot_csv(), DAY)
    with pytest.raises(Conflict):
        actions.import_snapshot(hr, snapshot_csv(), DAY)
    assert PaySnapshot.objects.count() == 1


def test_the_import_page_refuses_with_the_row_and_column_and_imports_nothing(cast: Cast, hr) -> None:
    client = Client()
    assert client.login(username="hr_agent", password=PASSWORD)
    bad = SimpleUploadedFile("april.csv", f"{HEADER}\nf1,C1,25,28,-3,0,0,no\n".encode(), content_type="text/csv")
    response = client.post("/pay/import/", {"snapshot_date": "2026-04-30", "file": bad})
    assert response.status_code == 422
    assert "Row 2, ordinary_pay" in response.content.decode() and PayRow.objects.count() == 0
    good = SimpleUploadedFile("april.csv", snapshot_csv(), content_type="text/csv")
    response = client.post("/pay/import/", {"snapshot_date": "2026-04-30", "file": good})
    assert response.status_code == 302 and PayRow.objects.count() == 26
    template = client.get("/pay/template.csv")
    assert template.content.decode().splitlines()[0] == HEADER


def test_the_api_imports_and_refuses_the_same_way(cast: Cast, hr) -> None:
    api = ApiClient(hr)
    bad = SimpleUploadedFile("a.csv", f"{HEADER}\nf1,C1,25,28,2000,0,0,no\nf1,C1,25,28,2000,0,0,no\n".encode())
    response = api.client.post("/api/pay/snapshots", {"snapshot_date": "2026-04-30", "file": bad})
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == ["row_3.person"] and PayRow.objects.count() == 0
    good = SimpleUploadedFile("a.csv", snapshot_csv())
    response = api.client.post("/api/pay/snapshots", {"snapshot_date": "2026-04-30", "file": good})
    assert response.status_code == 201 and response.json()["rows"] == 26
    refused_exec = ApiClient(cast.executive).client.post(
        "/api/pay/snapshots", {"snapshot_date": "2026-05-31", "file": SimpleUploadedFile("a.csv", snapshot_csv())})
    assert refused_exec.status_code == 403 and PaySnapshot.objects.count() == 1


def test_every_read_of_individual_rows_is_audited_and_nobody_else_reads_them(cast: Cast, hr) -> None:
    snapshot = actions.import_snapshot(hr, snapshot_csv(), DAY)
    client = Client()
    assert client.login(username="hr_agent", password=PASSWORD)
    page = client.get(f"/pay/snapshots/{snapshot.pk}/")
    assert page.status_code == 200 and "4400.00" in page.content.decode()  # f13's ordinary pay
    assert client.get(f"/pay/snapshots/{snapshot.pk}/?format=csv").status_code == 200
    rows = ApiClient(cast.admin).get(f"/api/pay/snapshots/{snapshot.pk}/rows")
    assert rows.status_code == 200 and len(rows.json()) == 26
    reads = list(PayAudit.objects.exclude(what__in=[AuditWhat.IMPORTED, AuditWhat.GRANTED])
                 .order_by("pk").values_list("actor__user__username", "what"))
    assert reads == [("hr_agent", "read_rows"), ("hr_agent", "downloaded_rows"), ("admin", "read_rows")]
    for outsider in (cast.executive, cast.payroll_lead, cast.consultant):
        with pytest.raises(NotFound):
            actions.read_rows(outsider, snapshot.pk)
        assert ApiClient(outsider).get(f"/api/pay/snapshots/{snapshot.pk}/rows").status_code == 404
    assert PayAudit.objects.count() == 5  # the grant, the import and the three reads: refusals read nothing
