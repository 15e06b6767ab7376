"""Recognition: kudos to back-office people and units (never to oneself), a monthly digest, and
the gifts register with its compliance flag."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.test import Client

from tandem.refusal import Invalid, NotFound
from tandem.voice import actions
from tandem.voice.models import Gift, Kudos
from tandem.work import actions as work
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def test_kudos_go_to_the_back_office_never_to_oneself(cast: Cast) -> None:
    pk = work.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request.pk
    actions.give_kudos(cast.consultant, person_id=cast.payroll_agent.pk, message="Fixed it in an hour.", request_id=pk)
    actions.give_kudos(cast.consultant, unit_id=cast.payroll.pk, message="Month end without a hitch.")
    with pytest.raises(Invalid, match="cannot thank yourself"):
        actions.give_kudos(cast.payroll_agent, person_id=cast.payroll_agent.pk, message="Me!")
    with pytest.raises(Invalid, match="your own unit"):
        actions.give_kudos(cast.payroll_agent, unit_id=cast.payroll.pk, message="Us!")
    with pytest.raises(Invalid, match="back-office"):
        actions.give_kudos(cast.payroll_agent, person_id=cast.consultant.pk, message="Thanks")
    with pytest.raises(Invalid, match="one person or one unit"):
        actions.give_kudos(cast.consultant, person_id=cast.payroll_agent.pk, unit_id=cast.payroll.pk, message="x")
    with pytest.raises(Invalid, match="500"):
        actions.give_kudos(cast.consultant, unit_id=cast.payroll.pk, message="")
    with pytest.raises(NotFound):
        actions.give_kudos(cast.other_consultant, unit_id=cast.hr.pk, message="x",
                           request_id=work.submit_request(cast.consultant, cast.grievance, {"details": "p"}).request.pk)
    assert Kudos.objects.count() == 2
    client = Client()
    client.login(username="hr_agent", password=PASSWORD)
    page = client.get("/kudos/?unit=payroll").content.decode()
    assert "Fixed it in an hour." in page and "Month end without a hitch." in page
    refused = client.post("/kudos/", {"to": f"person:{cast.hr_agent.pk}", "message": "my own words"})
    assert refused.status_code == 422 and "my own words" in refused.content.decode()
    api = ApiClient(cast.colleague)
    made = api.post("/api/kudos", {"unit": "hr", "message": "Quick reference letter."})
    assert made.status_code == 201 and made.json()["unit"] == "hr"
    assert [k["message"] for k in api.get("/api/kudos", {"unit": "hr"}).json()] == ["Quick reference letter."]


def test_last_months_kudos_reach_the_unit_and_its_clients_once(cast: Cast, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(datetime(2026, 10, 20, 10, tzinfo=UTC), tick=False):
        work.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK)
        actions.give_kudos(cast.colleague, unit_id=cast.payroll.pk, message="Thank you all.")
    with time_machine.travel(datetime(2026, 11, 2, 8, tzinfo=UTC), tick=False):
        assert actions.send_kudos_digests() == 1
        assert actions.send_kudos_digests() == 0
    [message] = mail.outbox
    assert "Thank you all." in str(message.body)
    assert cast.payroll_agent.user.email in message.to and cast.consultant.user.email in message.to
    assert cast.hr_agent.user.email not in message.to


def test_the_gifts_register_flags_what_compliance_should_see(cast: Cast) -> None:
    small = actions.register_gift(cast.consultant, received_on=date(2026, 11, 2), giver="Acme Ltd",
                                  value=Decimal("20"), description="Chocolates", shared_with=[cast.payroll.pk])
    big = actions.register_gift(cast.consultant, received_on=date(2026, 11, 3), giver="Acme Ltd",
                                value=Decimal("250"), description="Match tickets")
    assert (small.flagged, big.flagged) == (False, True)
    for value, field in ((Decimal("-5"), "value"), (Decimal("5000000"), "value")):
        with pytest.raises(Invalid) as refused:
            actions.register_gift(cast.consultant, received_on=date(2026, 11, 3), giver="X", value=value,
                                  description="Y")
        assert field in refused.value.errors
    with pytest.raises(Invalid) as refused:
        actions.register_gift(cast.consultant, received_on=date(2026, 11, 3), giver="", value=Decimal(1),
                              description="", shared_with=[cast.leeds.pk])
    assert set(refused.value.errors) == {"giver", "description", "shared_with"}
    assert Gift.objects.count() == 2
    assert [g["description"] for g in ApiClient(cast.executive).get("/api/gifts", {"flagged": True}).json()] == [
        "Match tickets"]
    assert [g["description"] for g in ApiClient(cast.payroll_lead).get("/api/gifts").json()] == ["Chocolates"]
    assert ApiClient(cast.colleague).get("/api/gifts").json() == []
    client = Client()
    client.login(username="consultant", password=PASSWORD)
    typed = client.post("/gifts/", {"received_on": "2026-11-03", "giver": "Acme", "value": "lots",
                                    "description": "A hamper"})
    assert typed.status_code == 422 and "A hamper" in typed.content.decode()
    made = client.post("/gifts/", {"received_on": "2026-11-03", "giver": "Acme", "value": "75,50",
                                   "description": "A hamper", "shared_with": [str(cast.payroll.pk)]})
    assert made.status_code == 302 and Gift.objects.get(description="A hamper").flagged
