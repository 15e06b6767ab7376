"""The pulse: one answer per person, unit and period; closed periods refused; one-click email
links used once; results withheld below the anonymity threshold everywhere."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from tandem.org.models import Person
from tandem.refusal import Conflict, Forbidden, Invalid
from tandem.voice import actions
from tandem.voice.models import PulseAnswer
from tandem.voice.queries import questions_for
from tandem.work import actions as work
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)

NOVEMBER = date(2026, 11, 1)
MID_NOVEMBER = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def ask(person: Person, cast: Cast, at: datetime = MID_NOVEMBER) -> int:
    return work.submit_request(person, cast.timesheet, TIMESHEET_OK, now=at).request.pk


def front_office(cast: Cast, n: int) -> list[Person]:
    people = [make_person(f"asker{i}", cast.leeds) for i in range(n)]
    for p in people:
        ask(p, cast)
    return people


def test_one_answer_per_person_unit_and_period_and_answering_again_changes_it(cast: Cast) -> None:
    pk = ask(cast.consultant, cast)
    with time_machine.travel(MID_NOVEMBER, tick=False):
        [q] = questions_for(cast.consultant)
        assert q.unit == cast.payroll and q.period == NOVEMBER
        assert q.text == "How often were you frustrated by Payroll's performance this month?"
        actions.answer_pulse(cast.consultant, cast.payroll.pk, NOVEMBER, 4, comment="Slow.", request_ids=[pk])
        actions.answer_pulse(cast.consultant, cast.payroll.pk, NOVEMBER, 2)
        [answer] = PulseAnswer.objects.all()
        assert (answer.answer, answer.comment, answer.request_ids) == (2, "", [])
        assert questions_for(cast.consultant) == []  # answered: the banner stops asking


def test_bad_answers_are_refused_and_change_nothing(cast: Cast) -> None:
    ask(cast.consultant, cast)
    other = ask(cast.colleague, cast)
    with time_machine.travel(MID_NOVEMBER, tick=False):
        with pytest.raises(Invalid, match="Answer with 1"):
            actions.answer_pulse(cast.consultant, cast.payroll.pk, NOVEMBER, 6)
        with pytest.raises(Invalid, match="asked nothing of that unit"):
            actions.answer_pulse(cast.consultant, cast.hr.pk, NOVEMBER, 3)
        with pytest.raises(Invalid, match="your own requests"):
            actions.answer_pulse(cast.consultant, cast.payroll.pk, NOVEMBER, 3, request_ids=[other])
        with pytest.raises(Invalid, match="at most 1000"):
            actions.answer_pulse(cast.consultant, cast.payroll.pk, NOVEMBER, 3, comment="x" * 1001)
        with pytest.raises(Invalid, match="has not started"):
            actions.answer_pulse(cast.consultant, cast.payroll.pk, date(2026, 12, 1), 3)
        with pytest.raises(Forbidden):
            actions.answer_pulse(cast.payroll_agent, cast.payroll.pk, NOVEMBER, 3)
    with time_machine.travel(datetime(2026, 12, 7, 12, tzinfo=UTC), tick=False):  # the grace week
        actions.answer_pulse(cast.consultant, cast.payroll.pk, NOVEMBER, 3)
    with time_machine.travel(datetime(2026, 12, 8, 12, tzinfo=UTC), tick=False), pytest.raises(Conflict, match="closed"):
        actions.answer_pulse(cast.consultant, cast.payroll.pk, NOVEMBER, 5)
    assert list(PulseAnswer.objects.values_list("answer", flat=True)) == [3]


def test_the_emailed_link_answers_once_and_expires_with_its_period(cast: Cast, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ask(cast.consultant, cast)
    with time_machine.travel(datetime(2026, 12, 1, 8, tzinfo=UTC), tick=False):
        assert actions.send_pulse_invitations() == 1
        assert actions.send_pulse_invitations() == 0  # once per person, unit and period
    [message] = mail.outbox
    assert "Payroll" in message.subject and message.to == [cast.consultant.user.email]
    links = re.findall(r"(/pulse/link/[^/\s]+/)", str(message.body))
    assert len(links) == 5
    often = links[3]
    client = Client()  # not signed in: the link is the credential
    with time_machine.travel(datetime(2026, 12, 2, 9, tzinfo=UTC), tick=False):
        page = client.get(often)
        assert page.status_code == 200 and "Often" in page.content.decode()
        assert not PulseAnswer.objects.exists()  # opening the link writes nothing (mail scanners open links)
        done = client.post(often, {"comment": "Late twice."})
        assert done.status_code == 200 and "is recorded" in done.content.decode()
        assert list(PulseAnswer.objects.values_list("answer", "comment")) == [(4, "Late twice.")]
        again = client.post(often)
        assert again.status_code == 409 and "used already" in again.content.decode()
        assert client.get(often[:-8] + "tampered/").status_code == 404
    with time_machine.travel(datetime(2026, 12, 20, 9, tzinfo=UTC), tick=False):
        late = client.get(links[0])
        assert late.status_code == 409 and "closed" in late.content.decode()
    assert PulseAnswer.objects.get().answer == 4


def test_with_four_answers_nothing_about_the_unit_is_visible_anywhere(cast: Cast) -> None:
    people = front_office(cast, 4)
    with time_machine.travel(MID_NOVEMBER, tick=False):
        for p in people:
            actions.answer_pulse(p, cast.payroll.pk, NOVEMBER, 5, comment="Secret complaint")
        lead = ApiClient(cast.payroll_lead)
        body = lead.get("/api/pulse/results", {"unit": "payroll"}).json()
        [row] = body["units"]
        november = row["periods"][-1]
        assert november == {"period": "2026-11-01", "complete": False, "shown": False, "asked": 4, "answers": None,
                            "response_rate": None, "frustration_index": None, "mean_hours": None,
                            "late_rate": None, "promises_kept": None}
        client = Client()
        client.login(username="payroll_lead", password=PASSWORD)
        page = client.get("/pulse/results/?unit=payroll").content.decode()
        assert "Secret complaint" not in page and "withheld" in page
        csv = client.get("/pulse/results/?format=csv").content.decode()
        assert csv.strip().splitlines() == [csv.strip().splitlines()[0]]  # the header and nothing else
        client.login(username="admin", password=PASSWORD)
        assert "Secret complaint" not in client.get("/admin/voice/pulseanswer/").content.decode()

        # A fifth answer shows the unit; narrowing to a requesting unit below five hides it again.
        ask(cast.consultant, cast)
        actions.answer_pulse(cast.consultant, cast.payroll.pk, NOVEMBER, 1)
        shown = lead.get("/api/pulse/results", {"unit": "payroll"}).json()["units"][0]["periods"][-1]
        assert shown["shown"] and shown["answers"] == 5 and shown["frustration_index"] == 0.8
        york = ApiClient(cast.payroll_lead).get("/api/pulse/results", {"unit": "payroll", "requesting_unit": "york"})
        assert york.json()["units"][0]["periods"][-1]["shown"] is False
        client.login(username="payroll_lead", password=PASSWORD)
        assert "Secret complaint" in client.get("/pulse/results/?unit=payroll").content.decode()  # their lead
        client.login(username="consultant", password=PASSWORD)
        assert "Secret complaint" not in client.get("/pulse/results/?unit=payroll").content.decode()
        assert lead.get("/api/pulse/results", {"unit": "nowhere"}).status_code == 422


def test_the_banner_asks_until_answered_or_dismissed(cast: Cast) -> None:
    ask(cast.consultant, cast)
    client = Client()
    client.login(username="consultant", password=PASSWORD)
    with time_machine.travel(MID_NOVEMBER + timedelta(hours=1), tick=False):
        page = client.get("/catalogue/").content.decode()
        assert 'data-testid="pulse-banner"' in page and "frustrated by Payroll" in page
        refused = client.post("/pulse/", {"unit": cast.payroll.pk, "period": "2026-11-01", "answer": "9",
                                          "comment": "typed words"})
        assert refused.status_code == 422 and "typed words" in refused.content.decode()
        client.post("/pulse/", {"unit": cast.payroll.pk, "period": "2026-11-01", "dismiss": "1"})
        assert 'data-testid="pulse-banner"' not in client.get("/catalogue/").content.decode()
        api = ApiClient(cast.consultant)
        [q] = api.get("/api/pulse/questions").json()
        assert q["unit"] == "payroll" and q["your_answer"] is None
        answered = api.post("/api/pulse/answers", {"unit": "payroll", "period": "2026-11-01", "answer": 3})
        assert answered.status_code == 200 and answered.json()["answer"] == 3
        assert api.post("/api/pulse/answers", {"unit": "payroll", "period": "2026-11-01", "answer": 0}).status_code == 422
        closed = api.post("/api/pulse/answers", {"unit": "payroll", "period": "2026-09-01", "answer": 3})
        assert closed.status_code == 409
