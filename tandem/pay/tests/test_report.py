"""The report against the scene's table worked out by hand (scene.py: hourly = pay / 100).

    grade  front hourly (12-month bonus)                    back hourly (bonus)
    C1     20 (1000) 22 (2000) 24 (3000) 26 (4000) 28 (5000) 18 (300) 20 22 24 26
    C2     40 44                                             41
    C3     30 (500) 30 (1500) 32 34 36 38, and 10 on leave   28 30 30 32 34 36

Overall, full pay: front 13 people, sum 404 -> mean 404/13 = 31.0769, median the 7th = 30;
back 12 people, sum 341 -> mean 28.4167, median (28 + 30) / 2 = 29.
Mean gap 1 - (341/12) / (404/13) = 1 - 4433/4848 = 415/4848 = 8.56 %; median gap 1/30 = 3.33 %.
Bonus: front 7 of 14 paid one (the person on leave counts), back 1 of 12: the back office's one
bonus is a group of one, so neither its amount nor the gaps are shown; the shares are, and the
front office's amounts (seven bonuses: mean 17000/7, median 2000).

Grades: C2 has 2 front and 1 back person: withheld. Then the front total (13) minus the shown
grades would give C2's two people, so the smallest other grade (C1, 5 and 5) is withheld too;
C3 alone is shown: front 30 30 32 34 36 38 (mean 200/6, median 33), back 28 30 30 32 34 36
(mean 190/6, median 31): mean gap 10/200 = 5 % exactly (flagged), median gap 2/33 = 6.06 %.

Quartiles of the 25 on full pay: bands of 7, 6, 6, 6. Ranked: 18b 20f 20b 22f 22b 24f 24b |
26f 26b 28f 28b 30f 30f 30b 30b (the tie of four at 30 straddles: two places each side, each
half front) | ... 32f 32b 34f 34b | 36f 36b 38f 40f 41b 44f.
Lower: front 3/7, lower middle 3/6, upper middle 3/6, upper 4/6.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from fractions import Fraction

import pytest
from django.test import Client
from django.utils import timezone

from tandem.pay import actions
from tandem.pay.models import GradeExplanation
from tandem.refusal import Forbidden
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, Cast

from .scene import snapshot_csv, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(cast: Cast):
    staff(cast)
    actions.grant_hr_role(cast.admin, cast.hr_agent)
    return actions.import_snapshot(cast.hr_agent, snapshot_csv(), date(2026, 4, 30))


def test_the_api_report_matches_the_hand_worked_table(cast: Cast, imported) -> None:
    data = ApiClient(cast.executive).get("/api/pay/report").json()
    o = data["overall"]
    assert data["threshold"] == 5 and o["shown"]
    assert (o["front"]["people"], o["front"]["full_pay"], o["back"]["people"]) == (14, 13, 12)
    assert o["front"]["mean_hourly"] == pytest.approx(404 / 13) and o["front"]["median_hourly"] == 30
    assert o["back"]["mean_hourly"] == pytest.approx(341 / 12) and o["back"]["median_hourly"] == 29
    assert o["mean_gap"] == pytest.approx(float(Fraction(415, 4848)))
    assert o["median_gap"] == pytest.approx(1 / 30)
    assert o["front"]["bonus_share"] == pytest.approx(0.5) and o["back"]["bonus_share"] == pytest.approx(1 / 12)
    assert not o["bonus_shown"] and o["bonus_mean_gap"] is None and o["back"]["mean_bonus"] is None
    # The front office's seven bonuses are a group big enough: 17000 / 7, median the 4th = 2000.
    assert o["front"]["mean_bonus"] == pytest.approx(17000 / 7) and o["front"]["median_bonus"] == 2000
    grades = {g["grade"]: g for g in data["grades"]}
    assert not grades["C1"]["shown"] and not grades["C2"]["shown"]
    assert grades["C1"]["front"]["mean_hourly"] is None and grades["C2"]["back"]["people"] is None
    c3 = grades["C3"]
    assert c3["shown"] and c3["flagged"]
    assert c3["mean_gap"] == pytest.approx(0.05) and c3["median_gap"] == pytest.approx(2 / 33)
    assert (c3["front"]["people"], c3["back"]["people"]) == (7, 6)
    shares = [(q["people"], q["front_share"]) for q in data["quartiles"]]
    assert shares == [(7, pytest.approx(3 / 7)), (6, pytest.approx(0.5)), (6, pytest.approx(0.5)),
                      (6, pytest.approx(4 / 6))]


def test_the_trend_follows_the_snapshots(cast: Cast, imported) -> None:
    # A second snapshot with everybody paid 10 % more: the same gaps, one line each.
    actions.import_snapshot(cast.hr_agent, snapshot_csv(scale=1.1), date(2026, 5, 31))
    data = ApiClient(cast.executive).get("/api/pay/report").json()
    assert data["snapshot_date"] == "2026-05-31"
    assert [t["snapshot_date"] for t in data["trend"]] == ["2026-04-30", "2026-05-31"]
    assert [t["mean_gap"] for t in data["trend"]] == [pytest.approx(415 / 4848)] * 2
    earlier = ApiClient(cast.executive).get("/api/pay/report", {"snapshot": imported.pk}).json()
    assert earlier["snapshot_date"] == "2026-04-30"
    # Each grade has its own trend: C3's 5 % both times, C1 and C2 withheld both times.
    grades = {g["grade"]: g for g in data["grades"]}
    assert [(t["shown"], t["mean_gap"]) for t in grades["C3"]["trend"]] == [(True, pytest.approx(0.05))] * 2
    assert [(t["shown"], t["mean_gap"]) for t in grades["C1"]["trend"]] == [(False, None)] * 2


def test_a_grade_has_its_own_quartiles_when_each_band_is_big_enough() -> None:
    """One grade of 20 on full pay (hourly = ordinary pay / 7): front 10..19, back 5..14.
    Ranked: 5b 6b 7b 8b 9b | 10b 10f 11b 11f 12? | 12? 13b 13f 14b 14f | 15f..19f, bands of 5;
    the tie at 12 (one front, one back) straddles the second band's edge, half of each on each
    side. Front shares: 0, 2.5/5, 2.5/5, 5/5. A grade of 12 (bands of 3) shows none."""
    from tandem.engines.paygap import Pay
    from tandem.pay.report import snapshot_figures

    def person(group: str, grade: str, hourly: int) -> Pay:
        return Pay(group, grade, weekly_hours=7, period_days=7, ordinary_pay=7 * hourly, period_bonus=0,
                   bonus_12_months=0)

    people = [person("front", "G", h) for h in range(10, 20)] + [person("back", "G", h) for h in range(5, 15)]
    people += [person("front", "S", h) for h in range(6)] + [person("back", "S", h) for h in range(6)]
    figures = snapshot_figures(people, 5)
    grades = {g["grade"]: g for g in figures["grades"]}
    assert [(q["people"], q["front_share"]) for q in grades["G"]["quartiles"]] == [
        (5, 0), (5, pytest.approx(0.5)), (5, pytest.approx(0.5)), (5, 1)]
    assert grades["S"]["shown"] and grades["S"]["quartiles"] == []
    # 32 people overall: bands of 8, all shown.
    assert [q["people"] for q in figures["quartiles"]] == [8, 8, 8, 8]


def test_the_page_and_the_csv_show_the_same_figures(cast: Cast, imported) -> None:
    client = Client()
    assert client.login(username="executive", password=PASSWORD)
    page = client.get("/pay/").content.decode()
    assert "8.6 %" in page and "3.3 %" in page and "£31.08" in page and "£28.42" in page
    assert "gap to review" in page and "Individual rows" not in page and "Import a snapshot" not in page
    assert "none: one office paid no bonus" in page  # C3: the back office was paid none
    rows = list(csv.DictReader(io.StringIO(client.get("/pay/?format=csv").content.decode())))
    assert [r["scope"] for r in rows] == ["overall", "grade C1", "grade C2", "grade C3"]
    assert rows[0]["mean_gap"] == "0.0856" and rows[0]["front_mean_hourly"] == "31.08"
    assert rows[1]["shown"] == "no" and rows[1]["front_mean_hourly"] == "" and rows[1]["front_people"] == ""
    assert rows[3]["flagged"] == "yes" and rows[3]["mean_gap"] == "0.0500"
    # The quartiles' front shares: 3/7, 1/2, 1/2, 4/6 overall; C3's bands of 3 are too small.
    assert [rows[0][f"{band}_front_share"] for band in ("lower", "lower_middle", "upper_middle", "upper")] == [
        "0.4286", "0.5000", "0.5000", "0.6667"]
    assert rows[3]["lower_front_share"] == ""


def test_hr_explains_a_flagged_grade_and_everybody_reading_the_report_sees_it(cast: Cast, imported) -> None:
    review = timezone.localdate() + timedelta(days=90)
    client = Client()
    assert client.login(username="hr_agent", password=PASSWORD)
    response = client.post("/pay/explanations/", {
        "grade": "C3", "explanation": "Two front-office hires at the top of the band.",
        "action": "Back-office C3 moved up the band in the July review.", "review_date": review.isoformat()})
    assert response.status_code == 302
    assert GradeExplanation.objects.get().by == cast.hr_agent
    data = ApiClient(cast.executive).get("/api/pay/report").json()
    c3 = next(g for g in data["grades"] if g["grade"] == "C3")
    assert c3["explanation"]["action"].startswith("Back-office C3") and c3["explanation"]["review_date"] == str(review)
    # An explanation of a withheld grade is kept but not shown beside it.
    actions.explain_grade(cast.hr_agent, "C2", "Small grade.", "Watch it.", review)
    c2 = next(g for g in ApiClient(cast.executive).get("/api/pay/report").json()["grades"] if g["grade"] == "C2")
    assert c2["explanation"] is None
    with pytest.raises(Forbidden):
        actions.explain_grade(cast.executive, "C3", "x", "y", review)


def test_the_report_is_for_executives_hr_and_administrators_only(cast: Cast, imported) -> None:
    for who in (cast.executive, cast.hr_agent, cast.admin):
        assert ApiClient(who).get("/api/pay/report").status_code == 200
    for who in (cast.payroll_lead, cast.consultant, cast.payroll_agent):
        assert ApiClient(who).get("/api/pay/report").status_code == 403
        client = Client()
        assert client.login(username=who.user.username, password=PASSWORD)
        assert client.get("/pay/").status_code == 403
        assert ApiClient(who).get("/api/pay/snapshots").json() == []
