"""The pulse results never let a withheld cell be worked out by subtraction: a small history
with known answers, read through every view that publishes pulse figures (the API with and
without a requesting unit, the page, its CSV, the executive page), each figure checked
against a recomputation from the script below."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from tandem.org.models import Person, Side, Unit
from tandem.voice import actions
from tandem.work import actions as work
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)

NOVEMBER = date(2026, 11, 1)
MID_NOVEMBER = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
THRESHOLD = 5

# Answers about Payroll in November, per requesting unit (None: asked, did not answer).
SCRIPT: dict[str, list[int | None]] = {
    "leeds": [5, 4, 1, 2, 3, 1],  # 6 answers: above the threshold on its own
    "york": [5, 5, None],  # 2 answers: below it
    "hull": [1, 1, 2, 4, 5, 3, 1, None],  # 7 answers
}


def expected(answers: list[int | None]) -> dict[str, Any]:
    given = [a for a in answers if a is not None]
    return {"answers": len(given), "asked": len(answers), "response_rate": len(given) / len(answers),
            "frustration_index": sum(1 for a in given if a >= 4) / len(given)}


def play(cast: Cast, script: dict[str, list[int | None]]) -> dict[str, list[Person]]:
    hull = Unit.objects.create(name="Hull branch", slug="hull", side=Side.FRONT)
    units = {"leeds": cast.leeds, "york": cast.york, "hull": hull}
    people: dict[str, list[Person]] = {}
    with time_machine.travel(MID_NOVEMBER, tick=False):
        for slug, answers in script.items():
            people[slug] = []
            for i, answer in enumerate(answers):
                person = make_person(f"{slug}{i}", units[slug])
                work.submit_request(person, cast.timesheet, TIMESHEET_OK)
                if answer is not None:
                    actions.answer_pulse(person, cast.payroll.pk, NOVEMBER, answer, comment=f"{slug} says {i}")
                people[slug].append(person)
    return people


def november(api: ApiClient, **params: str) -> dict:
    body = api.get("/api/pulse/results", {"unit": "payroll", **params}).json()
    assert body["threshold"] == THRESHOLD
    [row] = body["units"]
    return row["periods"][-1]


def figures(cell: dict) -> dict[str, Any]:
    return {k: cell[k] for k in ("answers", "asked", "response_rate", "frustration_index")}


def test_a_small_units_answers_cannot_be_had_by_subtracting_the_others(cast: Cast) -> None:
    play(cast, SCRIPT)
    everyone = [a for answers in SCRIPT.values() for a in answers]
    with time_machine.travel(MID_NOVEMBER, tick=False):
        api = ApiClient(cast.payroll_lead)
        total = november(api)
        cells = {slug: november(api, requesting_unit=slug) for slug in SCRIPT}

    # York's 2 answers are below the threshold. Shown, Leeds' 6 would give York's away
    # (15 − 6 − 7 = 2, and its frustrated count the same way): Leeds, the smallest shown cell,
    # is withheld with it. Hull's 7 stay shown.
    assert total["shown"] and figures(total) == expected(everyone)
    assert cells["hull"]["shown"] and figures(cells["hull"]) == expected(SCRIPT["hull"])
    for slug in ("leeds", "york"):
        assert cells[slug] == {"period": "2026-11-01", "complete": False, "shown": False, "asked": len(SCRIPT[slug]), "answers": None,
                               "response_rate": None, "frustration_index": None, "mean_hours": None,
                               "late_rate": None, "promises_kept": None}, slug
    # The onlooker's arithmetic, in both measures: what subtraction gives is the withheld cells
    # together, at least the threshold, never one of them.
    withheld = [slug for slug, cell in cells.items() if not cell["shown"]]
    shown_answers = sum(cells[s]["answers"] for s in SCRIPT if s not in withheld)
    assert total["answers"] - shown_answers == sum(expected(SCRIPT[s])["answers"] for s in withheld) >= THRESHOLD
    assert len([s for s in withheld if expected(SCRIPT[s])["answers"]]) >= 2

    client = Client()
    assert client.login(username="payroll_lead", password=PASSWORD)
    with time_machine.travel(MID_NOVEMBER, tick=False):
        for slug in ("leeds", "york"):
            page = client.get(f"/pulse/results/?unit=payroll&from={slug}").content.decode()
            assert "withheld" in page and f"{slug} says" not in page, slug  # nor their comments
            rows = list(csv.reader(io.StringIO(client.get(f"/pulse/results/?from={slug}&format=csv").content.decode())))
            assert len(rows) == 1, slug  # the header, no figure
        page = client.get("/pulse/results/?unit=payroll&from=hull").content.decode()
        assert "hull says" in page and "leeds says" not in page and "7 of 8 answered" in page
        records = list(csv.DictReader(io.StringIO(client.get("/pulse/results/?from=hull&format=csv").content.decode())))
        [hull] = [r for r in records if r["period"] == "2026-11-01"]
        assert (int(hull["answers"]), int(hull["asked"]), float(hull["frustration_index"])) == (
            7, 8, pytest.approx(expected(SCRIPT["hull"])["frustration_index"], abs=1e-4))

        # The executive page shows the totals only: Payroll's, as recomputed.
        assert client.login(username="executive", password=PASSWORD)
        rows = list(csv.reader(io.StringIO(client.get("/executive/?format=csv&figure=frustration").content.decode())))
        [payroll] = [r for r in rows if r[0] == "Payroll"]
        assert float(payroll[-1]) == pytest.approx(expected(everyone)["frustration_index"], abs=1e-4)


def test_answers_of_people_who_left_the_front_office_are_not_left_alone(cast: Cast) -> None:
    # Six answers from Leeds, one from a York consultant who has since moved to HR: their
    # answer is in Payroll's total and in no requesting unit. Shown, Leeds' six would give
    # it away (7 − 6).
    script: dict[str, list[int | None]] = {"leeds": [1, 1, 2, 2, 1, 3, None], "york": [5]}
    people = play(cast, script)
    [mover] = people["york"]
    mover.unit = cast.hr
    mover.save(update_fields=["unit"])
    with time_machine.travel(MID_NOVEMBER, tick=False):
        api = ApiClient(cast.payroll_lead)
        total = november(api)
        assert total["shown"] and (total["answers"], total["frustration_index"]) == (7, pytest.approx(1 / 7))
        leeds = november(api, requesting_unit="leeds")
        assert leeds["shown"] is False and leeds["asked"] == 7
        assert november(api, requesting_unit="york")["shown"] is False


def test_a_unit_alone_above_the_threshold_is_shown_as_it_is(cast: Cast) -> None:
    # Nothing below the threshold has answers: nothing to protect, nothing more withheld.
    script: dict[str, list[int | None]] = {"leeds": [4, 4, 1, 2, 5], "york": [None, None], "hull": []}
    play(cast, script)
    with time_machine.travel(MID_NOVEMBER, tick=False):
        api = ApiClient(cast.payroll_lead)
        leeds = november(api, requesting_unit="leeds")
        assert leeds["shown"] and figures(leeds) == expected(script["leeds"])
        york = november(api, requesting_unit="york")
        assert york["shown"] is False and york["asked"] == 2


def test_headlines_use_the_last_complete_period_and_call_the_current_one_so_far(cast: Cast) -> None:
    """November's answers read on 10 December, after November's grace days: the headline is
    November; December, still taking answers, is "so far" (3 of 6 frustrated: 50 %)."""
    play(cast, SCRIPT)
    given = [a for answers in SCRIPT.values() for a in answers if a is not None]
    november_index = round(100 * sum(1 for a in given if a >= 4) / len(given))
    dec = [make_person(f"dec{i}", cast.leeds) for i in range(6)]
    with time_machine.travel(datetime(2026, 12, 10, 10, 0, tzinfo=UTC), tick=False):
        for i, person in enumerate(dec):
            work.submit_request(person, cast.timesheet, TIMESHEET_OK)
            actions.answer_pulse(person, cast.payroll.pk, date(2026, 12, 1), 5 if i < 3 else 1)
        client = Client()
        assert client.login(username="executive", password=PASSWORD)
        page = client.get("/executive/").content.decode()
        results = client.get("/pulse/results/").content.decode()
    row = page[page.index('data-testid="frustration"'):]
    row = row[row.index("Payroll"):]
    assert f"<strong>{november_index} %</strong> <span class=\"sub\">November 2026</span>" in row
    assert "so far: 50 % of 6 answers" in row
    assert "December 2026 <span class=\"sub\">so far</span>" in results
    assert "November 2026 <span class=\"sub\">so far</span>" not in results
