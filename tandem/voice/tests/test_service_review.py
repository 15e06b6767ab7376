"""The client's service review and monthly service report: every figure against a recount in
plain Python from a small history with known answers, over the client's own requests only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from tandem.agreements.clients import NewClient, NewContract, NewPerson, add_client
from tandem.org.models import Organisation, Person, Role
from tandem.promises.models import Promise
from tandem.voice import actions as voice
from tandem.voice.models import PulseAnswer, RequestRating, ServiceReport
from tandem.voice.service_reports import STALE, make_service_reports
from tandem.voice.service_review import csv_rows, review
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOV = date(2026, 11, 1)
SINCE, UNTIL = datetime(2026, 11, 1, tzinfo=LONDON), datetime(2026, 12, 1, tzinfo=LONDON)
TARGET_MINUTES = 480


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def working_minutes(start: datetime, end: datetime, paused: list[tuple[datetime, datetime]]) -> int:
    """Minute by minute: Monday to Friday, 09:00–12:30 and 13:30–17:30 London, no holiday in
    the weeks used, minus the paused spans."""
    minutes, t = 0, start
    while t < end:
        local = t.astimezone(LONDON)
        clock = local.hour * 60 + local.minute
        open_now = local.weekday() < 5 and (540 <= clock < 750 or 810 <= clock < 1050)
        if open_now and not any(a <= t < b for a, b in paused):
            minutes += 1
        t += timedelta(minutes=1)
    return minutes


def client(cast: Cast, name: str, slug: str, people: list[str]) -> Organisation:
    unit = f"{slug}-branch"
    return add_client(cast.admin, NewClient(
        name=name, slug=slug, units=[(f"{name} branch", unit)],
        people=[NewPerson(p, p.title(), "X", f"{p}@{slug}.test", unit, Role.EXECUTIVE if p.startswith("exec")
                          else Role.MEMBER) for p in people],
        contracts=[NewContract("timesheet-correction", first_response_minutes=60,
                               resolution_minutes=TARGET_MINUTES, target_percent=95)],
    ), today=date(2026, 10, 1))


@pytest.fixture
def history(cast: Cast, settings) -> dict:  # type: ignore[no-untyped-def]
    settings.TANDEM_PULSE_MIN_ANSWERS = 3  # the client's three people answer about Payroll
    highland = client(cast, "Highland Staffing", "highland", ["hilda", "exec_hamish", "hugh"])
    lowland = client(cast, "Lowland Temps", "lowland", ["lena", "exec_lars", "lou"])
    hilda = Person.objects.get(user__username="hilda")
    lena = Person.objects.get(user__username="lena")
    agent = cast.payroll_agent

    def submit(person: Person, when: datetime) -> int:
        return actions.submit_request(person, cast.timesheet, TIMESHEET_OK, now=when).request.pk

    def work(pk: int, when: datetime) -> None:
        actions.assign_request(agent, pk, agent.pk, now=when)
        actions.start_request(agent, pk, now=when)

    r1 = submit(hilda, at(2, 9))  # resolved the same morning: met
    work(r1, at(2, 9))
    actions.resolve_request(agent, r1, "Done.", now=at(2, 11))
    r2 = submit(hilda, at(3, 9))  # a question to the requester, then a third party: missed
    work(r2, at(3, 9))
    actions.ask_requester(agent, r2, "Which week?", now=at(3, 10))
    actions.provide_information(hilda, r2, "The 20th.", now=at(4, 10))
    actions.wait_third_party(agent, r2, "HMRC", now=at(4, 11))
    actions.resume_request(agent, r2, now=at(5, 11))
    actions.resolve_request(agent, r2, "Done.", now=at(13, 9))
    r3 = submit(hilda, at(9, 9))  # still open at the month's end
    r4 = submit(hilda, at(30, 9, month=10))  # October's, resolved in November
    work(r4, at(30, 9, month=10))
    actions.resolve_request(agent, r4, "Done.", now=at(2, 10))
    other = submit(lena, at(2, 9))  # the other client's: never counted
    work(other, at(2, 9))
    actions.resolve_request(agent, other, "Done.", now=at(2, 9) + timedelta(minutes=5))
    ours = submit(cast.consultant, at(2, 9))  # the provider's own: never counted
    work(ours, at(2, 9))
    actions.resolve_request(agent, ours, "Done.", now=at(20, 9))
    voice.rate_request(hilda, r1, 4, now=at(2, 12))
    voice.rate_request(hilda, r2, 2, now=at(13, 12))
    voice.rate_request(lena, other, 5, now=at(2, 12))
    highland_people = Person.objects.filter(unit__organisation=highland)
    for person, answer in zip(highland_people.order_by("pk"), (4, 2, 5), strict=True):
        PulseAnswer.objects.create(person=person, unit=cast.payroll, period=NOV, answer=answer)
    for person in Person.objects.filter(unit__organisation=lowland):
        PulseAnswer.objects.create(person=person, unit=cast.payroll, period=NOV, answer=1)
    return {"highland": highland, "lowland": lowland, "r1": r1, "r2": r2, "r3": r3, "r4": r4}


def expected(history: dict) -> dict:
    """The same figures recounted from the raw rows, by hand-written rules."""
    ids = [history[k] for k in ("r1", "r2", "r3", "r4")]
    rows = {sr.pk: sr for sr in ServiceRequest.objects.filter(pk__in=ids)}
    paused = {history["r2"]: [(at(3, 10), at(4, 10))]}  # only waiting on the requester stops the clock
    resolved = [sr for sr in rows.values() if sr.resolved_at and SINCE <= sr.resolved_at < UNTIL]
    met = [sr for sr in resolved
           if working_minutes(sr.submitted_at, sr.resolved_at or UNTIL, paused.get(sr.pk, [])) <= TARGET_MINUTES]
    kept = known = 0
    for p in Promise.objects.filter(request_id__in=ids, quoted_at__gte=SINCE, quoted_at__lt=UNTIL):
        resolved_at = p.request.resolved_at
        done = resolved_at is not None and resolved_at < UNTIL
        if done or p.promised_at < UNTIL:
            known += 1
            kept += resolved_at is not None and done and resolved_at <= p.promised_at
    return {"submitted": sum(SINCE <= sr.submitted_at < UNTIL for sr in rows.values()),
            "resolved": len(resolved), "met": len(met), "known": known, "kept": kept}


def test_every_figure_of_the_review_matches_a_recount_and_only_the_clients_requests_count(
    cast: Cast, history: dict
) -> None:
    f = review(history["highland"], NOV)
    e = expected(history)
    assert (e["submitted"], e["resolved"], e["met"]) == (3, 3, 1)  # the known answers
    assert f["volumes"]["submitted"] == e["submitted"]
    assert f["volumes"]["resolved"] == e["resolved"]
    assert f["volumes"]["open_at_end"] == 1
    assert f["volumes"]["services"] == [{"service": "Timesheet correction", "submitted": 3, "resolved": 3}]
    assert (f["attainment"]["resolved"], f["attainment"]["met"]) == (e["resolved"], e["met"])
    assert f["attainment"]["percent"] == round(100 * e["met"] / e["resolved"], 1) == 33.3
    [agreement] = f["attainment"]["agreements"]
    assert (agreement["name"], agreement["target_percent"], agreement["meets_target"]) == (
        "Highland Staffing: Timesheet correction", 95.0, False)
    assert (f["promises"]["known"], f["promises"]["kept"]) == (e["known"], e["kept"])
    assert e["known"] >= 3  # every resolved request had a promise
    assert f["satisfaction"] == {"ratings": 2, "mean": 3.0}
    assert f["pulse"] == [{"team": "Payroll", "shown": True, "answers": 3, "frustration_percent": 66.7, "months": 1}]
    assert f["waits"] == [
        {"reason": "Third party: HMRC", "waits": 1, "hours": 24.0},
        {"reason": "Your people: a question to the requester", "waits": 1, "hours": 24.0},
    ]
    lowland = review(history["lowland"], NOV)
    assert (lowland["volumes"]["submitted"], lowland["attainment"]["met"], lowland["satisfaction"]["mean"]) == (
        1, 1, 5.0)
    assert lowland["pulse"][0]["frustration_percent"] == 0.0


def test_the_pulse_is_withheld_with_too_few_answers(cast: Cast, history: dict) -> None:
    PulseAnswer.objects.filter(person__unit__organisation=history["highland"]).first().delete()  # type: ignore[union-attr]
    assert review(history["highland"], NOV)["pulse"] == [
        {"team": "Payroll", "shown": False, "answers": None, "frustration_percent": None, "months": None}]


OCT, DEC = date(2026, 10, 1), date(2026, 12, 1)


def pooled_by_hand(months: dict[date, list[int]], month: date, threshold: int) -> tuple[int, float, int] | None:
    """The rule restated: the month alone when it has the threshold; at a quarter's last month
    (December here), the quarter when the months under the threshold add up to it; else None."""
    alone = months.get(month, [])
    if len(alone) >= threshold:
        chosen, span = alone, 1
    elif month == DEC and sum(len(a) for a in months.values() if len(a) < threshold) >= threshold:
        chosen, span = [x for a in months.values() for x in a], 3
    else:
        return None
    return len(chosen), round(100 * sum(1 for x in chosen if x >= 4) / len(chosen), 1), span


@pytest.mark.parametrize("answers, december", [
    ({OCT: [4], NOV: [1], DEC: [5, 2]}, (4, 50.0, 3)),  # every month too small: the quarter together
    ({OCT: [4, 4, 1], NOV: [2], DEC: [5]}, None),  # October shown alone: the other two (2) would give one away
    ({OCT: [4, 4, 1], NOV: [2, 5], DEC: [5]}, (6, 66.7, 3)),  # the two small months hold 3: the quarter shown
    ({OCT: [], NOV: [], DEC: [1, 2, 5]}, (3, 33.3, 1)),  # December has enough on its own
])
def test_a_small_clients_pulse_is_pooled_over_the_quarter_where_no_month_can_be_worked_out(
    cast: Cast, settings, answers: dict[date, list[int]], december: tuple | None  # type: ignore[no-untyped-def]
) -> None:
    settings.TANDEM_PULSE_MIN_ANSWERS = 3
    org = client(cast, "Skye Staff", "skye", ["sam", "exec_sue", "sid"])
    people = list(Person.objects.filter(unit__organisation=org).order_by("pk"))
    for month, given in answers.items():
        for i, answer in enumerate(given):  # one answer a person a period: periods on the 1st and the 15th
            PulseAnswer.objects.create(person=people[i % 3], unit=cast.payroll, answer=answer,
                                       period=month.replace(day=1 + 14 * (i // 3)))
    for month in (OCT, NOV, DEC):
        [row] = review(org, month)["pulse"]
        want = pooled_by_hand(answers, month, 3)
        got = (row["answers"], row["frustration_percent"], row["months"]) if row["shown"] else None
        assert got == want, (month, row)
    assert pooled_by_hand(answers, DEC, 3) == december


def test_the_clients_executive_reads_the_page_the_csv_and_the_api_and_nobody_else_does(
    cast: Cast, history: dict
) -> None:
    browser = Client()
    exec_hamish = Person.objects.get(user__username="exec_hamish")
    exec_hamish.user.set_password(PASSWORD)
    exec_hamish.user.save()
    browser.login(username="exec_hamish", password=PASSWORD)
    page = browser.get("/service-review/?month=2026-11")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Service review: Highland Staffing, November 2026" in body and "33.3 %" in body
    assert "Lowland" not in body
    # Another client's review is not found, whether named by id or by slug.
    assert browser.get(f"/service-review/?client={history['lowland'].pk}").status_code == 404
    assert browser.get("/service-review/?client=lowland").status_code == 404
    assert browser.get("/service-review/?month=November").status_code == 422
    assert browser.get("/service-review/?client=%00").status_code == 404
    download = browser.get("/service-review/?month=2026-11&format=csv")
    table = list(csv.reader(io.StringIO(download.content.decode())))
    assert table == [[str(c) for c in row] for row in csv_rows(review(history["highland"], NOV))]
    assert ["2026-11", "attainment", "all agreements", "met", "1"] in table
    api = ApiClient(exec_hamish).get("/api/service-review", {"month": "2026-11"}).json()
    assert (api["client"], api["attainment"]["met"], api["promises"]["kept"]) == (
        "highland", 1, review(history["highland"], NOV)["promises"]["kept"])
    member = Person.objects.get(user__username="hilda")
    assert ApiClient(member).get("/api/service-review").status_code == 404  # a member, not a lead
    assert ApiClient(cast.payroll_agent).get("/api/service-review").status_code == 404
    assert ApiClient(cast.admin).get("/api/service-review", {"client": "lowland", "month": "2026-11"}).json()[
        "volumes"]["submitted"] == 1


def test_the_worker_makes_each_clients_monthly_report_once_and_it_downloads(cast: Cast, history: dict) -> None:
    december = datetime(2026, 12, 2, 6, tzinfo=UTC)
    assert make_service_reports(december) == 2
    assert make_service_reports(december) == 0  # made once per client and month
    report = ServiceReport.objects.get(organisation=history["highland"], month=NOV)
    assert "# Service report: Highland Staffing, November 2026" in report.markdown
    assert "1 of 3 resolved requests met their targets (33.3 %)" in report.markdown
    assert "| Payroll | 3 | 66.7 % |" in report.markdown and "Lowland" not in report.markdown
    assert list(csv.reader(io.StringIO(report.csv))) == [
        [str(c) for c in row] for row in csv_rows(review(history["highland"], NOV))]
    browser = Client()
    lars = Person.objects.get(user__username="exec_lars")
    lars.user.set_password(PASSWORD)
    lars.user.save()
    browser.login(username="exec_lars", password=PASSWORD)
    assert browser.get(f"/service-review/reports/{report.pk}/").status_code == 404  # not Lowland's
    admin = Client()
    admin.login(username="admin", password=PASSWORD)
    got = admin.get(f"/service-review/reports/{report.pk}/")
    assert got.status_code == 200 and got["Content-Disposition"].endswith('.md"')
    assert got.content.decode() == report.markdown


def test_a_claim_left_by_a_dead_worker_is_taken_over_only_when_stale(cast: Cast, history: dict) -> None:
    december = datetime(2026, 12, 2, 6, tzinfo=UTC)
    for org in (history["highland"], history["lowland"]):
        ServiceReport.objects.create(organisation=org, month=NOV, claimed_at=december - timedelta(minutes=1))
    assert make_service_reports(december) == 0  # both held by a live claim
    ServiceReport.objects.filter(organisation=history["lowland"]).update(claimed_at=december - STALE * 2)
    assert make_service_reports(december) == 1
    assert ServiceReport.objects.get(organisation=history["lowland"]).made_at is not None
    assert ServiceReport.objects.get(organisation=history["highland"]).made_at is None
    assert not RequestRating.objects.filter(score=0).exists()
