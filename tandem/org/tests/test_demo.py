"""`tandem demo` against the test database: a small demo (two weeks), checked for consistency."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Max, Min, OuterRef, Subquery

from tandem.catalogue.intake import server_today
from tandem.catalogue.models import Service
from tandem.demo.people import PEOPLE
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role, Side, Unit
from tandem.work.actions import validate_intake
from tandem.work.models import OPEN_STATUSES, Case, Comment, Event, ServiceRequest, Status

pytestmark = pytest.mark.django_db

END = "2026-11-25T11:00:00Z"


@pytest.fixture
def small_demo() -> str:
    out = StringIO()
    call_command("demo", "--no-serve", "--weeks", "2", "--end", END, "--seed", "5", stdout=out)
    return out.getvalue()


def test_it_builds_the_organisation_and_prints_the_accounts(small_demo: str) -> None:
    assert "Tandem is at http://127.0.0.1:8000/" in small_demo
    assert 'every password is "demo"' in small_demo
    for username in ("priya.sharma", "gary.holt", "andrew.lister", "helen.ashcroft", "admin"):
        assert username in small_demo
    assert Unit.objects.filter(side=Side.FRONT).count() == 6
    assert Unit.objects.filter(side=Side.BACK).count() == 6
    assert Person.objects.count() == len(PEOPLE) + 1 == 60
    for unit in Unit.objects.all():
        assert unit.members.filter(role=Role.LEAD).count() == 1, unit
    assert Service.objects.count() == 25
    for service in Service.objects.select_related("owner", "unit"):
        assert (
            service.owner.unit_id == service.unit_id
            and service.fields.exists()
            and service.steps.exists()
        )
    admin = Person.objects.get(user__username="admin")
    assert admin.role == Role.ADMIN and admin.user.is_superuser


def test_every_account_signs_in_with_the_demo_password(small_demo: str, client) -> None:
    assert client.login(username="priya.sharma", password="demo")
    assert client.login(username="admin", password="demo")


def test_the_history_is_consistent_with_what_the_actions_write(small_demo: str) -> None:
    requests = ServiceRequest.objects.all()
    assert requests.count() > 1000
    assert Event.objects.count() > 5 * requests.count()
    # One event per seq, 1..last_event_seq.
    counted = requests.annotate(n=Count("events"), top=Max("events__seq"), low=Min("events__seq"))
    assert not counted.exclude(n=F("last_event_seq")).exists()
    assert not counted.exclude(top=F("last_event_seq")).exists()
    assert not counted.exclude(low=1).exists()
    # The status is where the trail ends, at the time of its last move.
    last_move = Event.objects.filter(request=OuterRef("pk")).exclude(to_status="").order_by("-seq")
    moved = requests.annotate(
        last_to=Subquery(last_move.values("to_status")[:1]),
        last_at=Subquery(last_move.values("at")[:1]),
    )
    assert not moved.exclude(status=F("last_to")).exists()
    assert not moved.exclude(status_changed_at=F("last_at")).exists()
    # is_open, closed_at and resolved_at as the actions leave them.
    open_or_resolved = [*OPEN_STATUSES, Status.RESOLVED]
    assert not requests.filter(status__in=open_or_resolved, is_open=False).exists()
    assert not requests.exclude(status__in=open_or_resolved).filter(is_open=True).exists()
    assert not requests.filter(
        status__in=[Status.CLOSED, Status.CANCELLED], closed_at__isnull=True
    ).exists()
    assert not requests.filter(status=Status.REOPENED, resolved_at__isnull=False).exists()
    assert not requests.filter(status=Status.IN_PROGRESS, assignee__isnull=True).exists()
    assert not requests.exclude(unit=F("service__unit")).exists()
    assert not requests.exclude(requesting_unit=F("requester__unit")).exists()
    assert not requests.exclude(confidential=F("service__confidential")).exists()
    assert not requests.filter(due_at__lte=F("submitted_at")).exists()
    assert requests.filter(is_open=True).exists() and requests.filter(status=Status.CLOSED).exists()
    # Auto-closes are by nobody; every other event has an actor.
    assert not Event.objects.filter(kind=Event.Kind.CLOSED, actor__isnull=False).exists()
    # Tandem itself closes resolved requests and asks approvers; people do everything else.
    system = [Event.Kind.CLOSED, Event.Kind.APPROVAL_ASKED]
    assert not Event.objects.exclude(kind__in=system).filter(actor__isnull=True).exists()


def test_intake_values_pass_the_services_own_forms(small_demo: str) -> None:
    # Date rules count from the day each request was submitted, as they did then. A file
    # field's value is the name of the file that was attached: it is given back as a file.
    for service in Service.objects.all():
        file_keys = set(service.fields.filter(kind="file").values_list("key", flat=True))
        for sr in ServiceRequest.objects.filter(service=service).order_by("pk")[:15]:
            today = server_today(sr.submitted_at)
            data = {k: v for k, v in sr.intake.items() if k not in file_keys}
            files = {k: ContentFile(b"%PDF-1.4\n", name=str(v)) for k, v in sr.intake.items() if k in file_keys}
            assert validate_intake(service, data, strict=True, today=today, files=files) == data, (
                service.slug,
                sr.intake,
            )


def test_comments_notes_and_cases_hang_together(small_demo: str) -> None:
    question = (
        Event.objects.filter(kind=Event.Kind.ASKED_REQUESTER).select_related("request").first()
    )
    assert question is not None
    assert Comment.objects.filter(
        request=question.request,
        body=question.data["question"],
        addressed_to=question.request.requester,
    ).exists()
    for event in Event.objects.filter(kind__in=["commented", "note_added", "advice_given"])[:50]:
        comment = Comment.objects.get(pk=event.data["comment"])
        assert comment.request_id == event.request_id and comment.internal == event.internal
    in_cases = ServiceRequest.objects.filter(case__isnull=False).select_related("case")
    assert in_cases.exists()
    for sr in in_cases[:20]:
        assert sr.case is not None and sr.case.customer_reference in sr.title
        assert sr.events.get(seq=1).data["case"] == sr.case_id
    assert not Case.objects.filter(status="closed", requests__is_open=True).exists()
    assert Notification.objects.filter(read_at__isnull=True).exists()
    # The history's notifications went out by mail long ago; only this morning's approvals
    # (written by the actions as the demo is built) wait for the worker's next round.
    unsent = Notification.objects.filter(emailed_at__isnull=True)
    assert unsent.exists() and not unsent.exclude(request__service__slug="emergency-payment").exists()


def test_requesters_answer_advice_as_the_actions_would_record_it(small_demo: str) -> None:
    """Each advice comment carries what its requester did, exactly as its answering event says:
    accepted, declined with the reason on both, or only acknowledged; a decision is also an
    acknowledgement. The demo has some of each, so "advice followed" has something to show."""
    answers = {e.data["comment"]: e for e in Event.objects.filter(
        kind__in=["advice_acknowledged", "advice_accepted", "advice_declined"])}
    outcomes: dict[str, int] = {}
    for comment in Comment.objects.filter(is_advice=True):
        event = answers.get(comment.pk)
        expected = "" if event is None or event.kind == "advice_acknowledged" else event.kind.removeprefix("advice_")
        assert comment.advice_outcome == expected
        assert (comment.acknowledged_at is None) == (event is None)
        if event is not None:
            assert event.request_id == comment.request_id and event.actor_id == comment.addressed_to_id
            assert comment.acknowledged_at == event.at
            assert comment.advice_decided_at == (None if expected == "" else event.at)
        assert comment.advice_reason == (event.data["reason"] if event is not None and expected == "declined" else "")
        assert bool(comment.advice_reason) == (expected == "declined")
        outcomes[expected] = outcomes.get(expected, 0) + 1
    assert outcomes.get("accepted", 0) > outcomes.get("declined", 0) > 0


def test_emergency_payments_above_the_amount_wait_on_the_operations_director(small_demo: str) -> None:
    """The demo's approval rule, and this morning's requests under it, as the actions left them:
    one approved (new in payroll's queue), one declined with its reason, two still waiting."""
    service = Service.objects.get(slug="emergency-payment")
    assert service.approver is not None and service.approver.user.username == "david.kemp"
    assert (service.approval_field, service.approval_above) == ("amount", 500)
    asked = ServiceRequest.objects.filter(approver=service.approver).order_by("submitted_at")
    assert [float(sr.intake["amount"]) > 500 for sr in asked] == [True] * 4
    assert [sr.status for sr in asked] == [Status.NEW, Status.WAITING_APPROVAL, Status.DECLINED,
                                           Status.WAITING_APPROVAL]
    declined = asked[2]
    assert "paid again on Wednesday" in declined.events.get(kind=Event.Kind.DECLINED).data["reason"]
    assert asked[0].approved_at is not None and asked[0].events.filter(kind=Event.Kind.APPROVED).count() == 1


def test_a_second_run_keeps_the_demo(small_demo: str) -> None:
    before = ServiceRequest.objects.count()
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    assert "already in the database" in out.getvalue()
    assert ServiceRequest.objects.count() == before


def test_it_refuses_to_mix_the_demo_into_other_data() -> None:
    Unit.objects.create(name="Our own team", slug="own", side=Side.BACK)
    with pytest.raises(CommandError, match="not the demo"):
        call_command("demo", "--no-serve", "--weeks", "1", stdout=StringIO())
    assert ServiceRequest.objects.count() == 0


def test_it_refuses_a_bad_end() -> None:
    with pytest.raises(CommandError, match="ISO date-time"):
        call_command("demo", "--no-serve", "--end", "next tuesday", stdout=StringIO())


def test_the_demo_history_passes_verify_audit(small_demo: str) -> None:
    out = StringIO()
    call_command("verify-audit", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["ok"] and result["problem"] is None
    assert result["events"] == Event.objects.count() and result["requests"] == ServiceRequest.objects.count()


def test_the_back_office_has_front_office_people_to_borrow(small_demo: str) -> None:
    """Four front-office people hold back-office skills at the level the services need, so the
    four-week plan's short weeks propose someone rather than "no one to lend"."""
    from datetime import datetime, timedelta

    from tandem.allocation.queries import loan_candidates

    monday = datetime.fromisoformat(END) + timedelta(days=5)  # Monday 30 Nov, a whole week ahead
    lenders = {}
    for slug in ("payroll", "timesheets", "invoicing", "compliance"):
        found = loan_candidates(Unit.objects.get(slug=slug), monday, until=monday + timedelta(days=5))
        lenders[slug] = {c.person.user.username for c in found}
        assert all(c.person.unit.side == Side.FRONT and c.hours > 0 for c in found)
    assert lenders == {
        "payroll": {"daniel.okafor"}, "timesheets": {"grace.nwosu"},
        "invoicing": {"paul.fletcher"}, "compliance": {"rebecca.hall"},
    }
