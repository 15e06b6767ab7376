"""Owned processes: one owner, ownership changes recorded, "owner missing", reviews with their
figures and follow-ups, and the review due dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tandem.catalogue import actions
from tandem.catalogue.models import ServiceEvent, ServiceReview, add_months
from tandem.catalogue.queries import reviews_due
from tandem.refusal import Forbidden, Invalid
from tests.cast import PASSWORD, Cast

pytestmark = pytest.mark.django_db(transaction=True)


def test_review_due_dates_follow_the_interval() -> None:
    assert add_months(date(2025, 8, 31), 18) == date(2027, 2, 28)
    assert add_months(date(2024, 1, 15), 18) == date(2025, 7, 15)


def test_ownership_moves_with_an_event_and_a_deactivated_owner_is_flagged(cast: Cast) -> None:
    service = cast.timesheet
    actions.transfer_ownership(cast.payroll_lead, service.pk, cast.payroll_agent.pk)
    service.refresh_from_db()
    assert service.owner == cast.payroll_agent
    [event] = ServiceEvent.objects.filter(kind=ServiceEvent.Kind.OWNER_CHANGED)
    assert event.actor == cast.payroll_lead and event.data["to"] == cast.payroll_agent.pk
    with pytest.raises(Invalid, match="already owns"):
        actions.transfer_ownership(cast.payroll_lead, service.pk, cast.payroll_agent.pk)
    with pytest.raises(Forbidden):
        actions.transfer_ownership(cast.hr_agent, service.pk, cast.hr_agent.pk)
    cast.payroll_agent.user.is_active = False
    cast.payroll_agent.user.save()
    with pytest.raises(Invalid, match="deactivated"):
        actions.transfer_ownership(cast.payroll_lead, service.pk, cast.payroll_agent.pk)
    [row] = [r for r in reviews_due(cast.executive.user) if r["service"] == service]
    assert row["owner_missing"]
    client = Client()
    client.login(username="executive", password=PASSWORD)
    page = client.get("/manage/services/reviews/due/").content.decode()
    assert "owner missing" in page and service.name in page


def test_a_review_freezes_the_figures_resets_the_clock_and_needs_a_reviewer(cast: Cast) -> None:
    service = cast.timesheet
    service.last_reviewed_on = timezone.localdate() - timedelta(days=600)
    service.save()
    assert [r["service"] for r in reviews_due(cast.payroll_lead.user) if r["overdue"]] == [service]
    with pytest.raises(Invalid) as refused:
        actions.record_review(cast.payroll_lead, service.pk, reviewer_id=None, reviewed_on=timezone.localdate(),
                              findings="")
    assert set(refused.value.errors) == {"reviewer", "findings"}
    with pytest.raises(Invalid, match="Follow-up 1"):
        actions.record_review(cast.payroll_lead, service.pk, reviewer_id=cast.payroll_lead.pk,
                              reviewed_on=timezone.localdate(), findings="OK",
                              follow_ups=[actions.FollowUp("Fix the form", None, None)])
    assert not ServiceReview.objects.exists()

    client = Client()
    client.login(username="payroll_lead", password=PASSWORD)
    today = timezone.localdate()
    response = client.post(f"/manage/services/{service.pk}/reviews/", {
        "reviewer": cast.payroll_lead.pk, "reviewed_on": today.isoformat(), "findings": "Steps followed.",
        "decisions": "Drop the approver field.", "action_1": "Update the intake form",
        "action_1_owner": cast.payroll_agent.pk, "action_1_due": (today + timedelta(days=30)).isoformat(),
    })
    assert response.status_code == 302
    review = ServiceReview.objects.get()
    assert review.figures["period_weeks"] == 26 and "late_rate" in review.figures
    assert [a.description for a in review.actions.all()] == ["Update the intake form"]
    service.refresh_from_db()
    assert service.last_reviewed_on == today and service.review_due_on == add_months(today, 18)
    assert reviews_due(cast.payroll_lead.user) == []
    bad = client.post(f"/manage/services/{service.pk}/reviews/", {"reviewed_on": today.isoformat(),
                                                                 "findings": "my typed findings"})
    assert bad.status_code == 422 and "my typed findings" in bad.content.decode()
    assert "needs a reviewer" in bad.content.decode()


def test_the_api_records_reviews_and_refuses_two_owners(cast: Cast) -> None:
    from tests.apiclient import ApiClient

    lead = ApiClient(cast.payroll_lead)
    today = timezone.localdate().isoformat()
    no_reviewer = lead.post("/api/services/timesheet-correction/reviews",
                            {"reviewer": None, "reviewed_on": today, "findings": "Fine"})
    assert no_reviewer.status_code == 422 and "reviewer" in no_reviewer.json()["errors"]
    made = lead.post("/api/services/timesheet-correction/reviews",
                     {"reviewer": cast.payroll_lead.pk, "reviewed_on": today, "findings": "Fine"})
    assert made.status_code == 201 and made.json()["next_due_on"] > today
    two = lead.post("/api/services/timesheet-correction/owner", {"owner": [cast.payroll_agent.pk, cast.payroll_lead.pk]})
    assert two.status_code == 422
    moved = lead.post("/api/services/timesheet-correction/owner", {"owner": cast.payroll_agent.pk})
    assert moved.status_code == 200
    assert ApiClient(cast.consultant).get("/api/reviews/due").status_code == 403
    assert ApiClient(cast.executive).get("/api/reviews/due").status_code == 200
