"""The pulse results read settled months from summary rows: the same figures as from the
requests, checked against a recomputation from the requests in plain Python, before and after
the worker summarises, and after an import forgets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tandem.org.models import Person
from tandem.outbox.actions import action_transaction, publish
from tandem.promises.models import Promise
from tandem.voice import actions, months
from tandem.voice.models import PulseAsker, PulseMonth
from tandem.voice.queries import period_start, results
from tandem.work import actions as work
from tandem.work.models import ServiceRequest, Status
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)

READ_AT = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
PERIODS = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]


def history(cast: Cast) -> list[Person]:
    """Requests to Payroll over three months, some resolved within the day, some a month later
    (late: two working days is the turnaround), one reopened and resolved again, one
    cancelled; six Leeds people answer the pulse in each month."""
    people = [make_person(f"asker{i}", cast.leeds) for i in range(6)]
    for month in PERIODS:
        at = datetime(month.year, month.month, 3, 9, tzinfo=UTC)
        for i, person in enumerate(people):
            with time_machine.travel(at + timedelta(hours=i), tick=False):
                pk = work.submit_request(person, cast.timesheet, TIMESHEET_OK).request.pk
                actions.answer_pulse(person, cast.payroll.pk, period_start(month), 1 + i % 5)
            if i == 5:
                with time_machine.travel(at + timedelta(hours=8), tick=False):
                    work.cancel_request(person, pk, "Sorted it myself.")
                continue
            done_at = at + timedelta(hours=i + 1) if i % 2 == 0 else at + timedelta(days=20)
            with time_machine.travel(done_at, tick=False):
                work.assign_request(cast.payroll_lead, pk, cast.payroll_agent.pk)
                work.start_request(cast.payroll_agent, pk)
                work.resolve_request(cast.payroll_agent, pk, "Done.")
            if i == 0:
                with time_machine.travel(done_at + timedelta(days=1), tick=False):
                    work.reopen_request(person, pk, "Still wrong.")
                with time_machine.travel(done_at + timedelta(days=2), tick=False):
                    work.start_request(cast.payroll_agent, pk)
                    work.resolve_request(cast.payroll_agent, pk, "Done now.")
    return people


def late_by(done: datetime | None, due: datetime | None) -> bool:
    return done is not None and due is not None and done > due


def by(done: datetime | None, due: datetime | None) -> bool:
    return done is not None and due is not None and done <= due


def recomputed(cast: Cast) -> dict[date, dict[str, Any]]:
    """Per month: people who asked, share resolved late, share of promises kept, from the rows
    of the requests and promises one by one."""
    zone = timezone.get_default_timezone()
    out = {}
    for month in PERIODS:
        def within(at: datetime | None, month: date = month) -> bool:
            return at is not None and (at.astimezone(zone).year, at.astimezone(zone).month) == (month.year, month.month)

        requests = list(ServiceRequest.objects.filter(unit=cast.payroll))
        asked = {r.requester_id for r in requests if within(r.submitted_at)}
        resolved = [r for r in requests if within(r.resolved_at) and r.status != Status.CANCELLED]
        late = [r for r in resolved if late_by(r.resolved_at, r.resolve_by or r.due_at)]
        promises = [p for p in Promise.objects.select_related("request") if p.request in resolved]
        kept = [p for p in promises if by(p.request.resolved_at, p.promised_at)]
        out[month] = {"asked": len(asked), "late_rate": len(late) / len(resolved) if resolved else None,
                      "promises_kept": len(kept) / len(promises) if promises else None}
    return out


def published(cast: Cast) -> dict[date, dict[str, Any]]:
    data = results(cast.payroll_lead.user, unit=cast.payroll, periods=3, now=READ_AT)
    [row] = data["units"]
    return {c["period"]: {"asked": c["asked"], "late_rate": c["evidence"]["late_rate"],
                          "promises_kept": c["evidence"]["promises_kept"]} for c in row["cells"]}


def test_the_summary_rows_give_the_figures_the_requests_give(cast: Cast) -> None:
    history(cast)
    truth = recomputed(cast)
    assert truth[PERIODS[0]]["asked"] == 6 and truth[PERIODS[0]]["late_rate"] not in (None, 0.0)
    assert published(cast) == truth  # nothing summarised: every month from the requests

    assert months.summarise(READ_AT) == 4  # September and October of Payroll and HR
    assert months.summarise(READ_AT) == 0
    assert set(PulseMonth.objects.values_list("month", flat=True)) == {date(2026, 9, 1), date(2026, 10, 1)}
    assert PulseAsker.objects.filter(unit=cast.payroll, month=date(2026, 9, 1)).count() == 6
    assert published(cast) == truth  # September and October from their rows, November from the requests

    # The rows are read, not the requests: a row changed by hand changes the figure.
    PulseMonth.objects.filter(unit=cast.payroll, month=date(2026, 9, 1)).update(late=0)
    assert published(cast)[PERIODS[0]]["late_rate"] == 0.0


def test_a_month_settles_when_its_resolutions_can_no_longer_be_reopened(cast: Cast, settings) -> None:
    settings.TANDEM_REOPEN_WINDOW_DAYS = 5
    with time_machine.travel(datetime(2026, 10, 20, 9, tzinfo=UTC), tick=False):
        work.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK)
    assert months.summarise(datetime(2026, 11, 5, 12, tzinfo=UTC)) == 0  # October's can still be reopened
    assert months.summarise(datetime(2026, 11, 7, 12, tzinfo=UTC)) == 2  # October, Payroll and HR
    assert months.unsettled_from(datetime(2026, 11, 7, 12, tzinfo=UTC)) == date(2026, 11, 1)


def test_an_import_forgets_the_units_summaries(cast: Cast) -> None:
    with time_machine.travel(datetime(2026, 10, 20, 9, tzinfo=UTC), tick=False):
        work.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK)
    months.summarise(READ_AT)
    assert PulseMonth.objects.filter(unit=cast.payroll).exists()
    with action_transaction():
        publish("history.imported", f"unit:{cast.payroll.pk}", {"unit": cast.payroll.pk, "service": cast.timesheet.pk})
    assert not PulseMonth.objects.filter(unit=cast.payroll).exists()
    assert not PulseAsker.objects.filter(unit=cast.payroll).exists()
    assert PulseMonth.objects.filter(unit=cast.hr).exists()  # another unit's stay


def test_the_page_and_the_api_show_the_summarised_figures(cast: Cast) -> None:
    history(cast)
    truth = recomputed(cast)
    months.summarise(READ_AT)
    with time_machine.travel(READ_AT, tick=False):
        api = ApiClient(cast.payroll_lead)
        body = api.get("/api/pulse/results", {"unit": "payroll", "periods": 3}).json()
        cells = {c["period"]: c for c in body["units"][0]["periods"]}
        for month, figures in truth.items():
            cell = cells[month.isoformat()]
            assert cell["asked"] == figures["asked"] and cell["shown"], month
            assert cell["late_rate"] == pytest.approx(figures["late_rate"]), month
        client = Client()
        assert client.login(username="payroll_lead", password=PASSWORD)
        page = client.get("/pulse/results/?unit=payroll&periods=3").content.decode()
        assert page.count("6 of 6 answered") == 3


def test_a_quarter_counts_each_person_once_across_summarised_and_live_months(cast: Cast, settings) -> None:
    settings.TANDEM_PULSE_PERIOD = "quarter"
    history(cast)

    def quarters() -> list[tuple[date, int, object]]:
        [row] = results(cast.payroll_lead.user, unit=cast.payroll, periods=2, now=READ_AT)["units"]
        return [(c["period"], c["asked"], c["evidence"]["late_rate"]) for c in row["cells"]]

    live = quarters()
    # The same six people asked in each month: six per quarter, not twelve.
    assert [(q, asked) for q, asked, _late in live] == [(date(2026, 7, 1), 6), (date(2026, 10, 1), 6)]
    months.summarise(READ_AT)  # October summarised, November still from the requests
    assert quarters() == live
