"""On the full demo history: the seeded slide in Invoicing is flagged by the control charts,
the other teams' ordinary ups and downs mostly are not, and past promises were kept about as
often as they said (85 %)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F, Q

from tandem.catalogue.models import Service, ServiceReview
from tandem.catalogue.queries import reviews_due
from tandem.demo.catalogue import SERVICES
from tandem.demo.load import build_demo
from tandem.insights.conformance import service_conformance
from tandem.insights.queries import Filters, evidence
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role
from tandem.promises.models import Promise
from tandem.voice.models import RequestRating
from tandem.voice.queries import results
from tandem.work.models import ServiceRequest, Status

pytestmark = pytest.mark.django_db(transaction=True)

END = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def test_the_demo_slide_is_a_real_change_and_promises_are_calibrated() -> None:
    build_demo(end=END)
    # Every request has its promise, but those an approver holds or declined: this morning's
    # emergency payments (tandem/demo/approvals.py) are quoted only once approved.
    held = ServiceRequest.objects.filter(status__in=[Status.WAITING_APPROVAL, Status.DECLINED])
    assert Promise.objects.count() == ServiceRequest.objects.count() - held.count()

    admin = Person.objects.filter(role=Role.ADMIN).select_related("user").first()
    assert admin is not None
    rows = evidence(admin.user, Filters(weeks=26), now=END)["services"]
    invoicing = [r for r in rows if r["service"].unit.name == "Invoicing"]
    others = [r for r in rows if r["service"].unit.name != "Invoicing"]
    flagged = [r for r in invoicing if r["chart"] and r["chart"].changed]
    assert len(flagged) >= 3
    for r in flagged:
        chart = r["chart"]
        assert (chart.shift_direction or chart.trend_direction) == "up"
        start = chart.shift_from if chart.shift_from is not None else chart.trend_from
        # The slide is seeded as a steady climb over the whole half year, steepened by a long
        # sickness absence from week 18: the charts must see it before that absence, not only after.
        assert start is not None and start <= 18
    # The charts also see the demand the demo seeds (docs/demo.md): Payroll's week before pay day
    # and a new client's onboarding load their units' queues. A service of a unit with neither
    # must not be flagged.
    seeded = {s.unit for s in SERVICES if s.sim.pay_week != 1.0 or s.sim.onboarding > 0}
    false_alarms = [r["service"].name for r in others
                    if r["service"].unit.slug not in seeded and r["chart"] and r["chart"].changed]
    assert len(false_alarms) <= 2, false_alarms

    recent = Promise.objects.filter(
        quoted_at__gte=END - timedelta(weeks=8), basis="history",
        request__resolved_at__isnull=False,
    ).exclude(request__status=Status.CANCELLED)
    kept = recent.filter(request__resolved_at__lte=F("promised_at")).count()
    share = kept / recent.count()
    assert 0.81 <= share <= 0.89, share
    assert recent.filter(~Q(unit__name="Invoicing")).count() > 5000

    # How the front office feels follows the facts: Invoicing's frustration index climbs.
    pulse = results(admin.user, periods=6, now=END)
    [invoicing_row] = [r for r in pulse["units"] if r["unit"].name == "Invoicing"]
    shown = [c["frustration_index"] for c in invoicing_row["cells"] if c["shown"]]
    assert len(shown) >= 4 and shown[-1] > 0.5 > shown[0]
    calm = [c["frustration_index"] for r in pulse["units"] if r["unit"].name != "Invoicing"
            for c in r["cells"] if c["shown"]]
    assert max(calm) < 0.3

    # Owned processes: at least one service's review is overdue, the others have a review on record.
    due = reviews_due(admin.user, today=END.date())
    assert any(r["overdue"] for r in due)
    assert ServiceReview.objects.count() + sum(r["overdue"] for r in due) >= Service.objects.filter(active=True).count()
    assert RequestRating.objects.filter(answered_at__isnull=False).exists()

    # Procedure conformance: most requests follow their service's steps; Compliance's reference
    # checks often skip the chase, and that is the deviation the page puts first.
    checked = {r["service"].slug: r for r in service_conformance(admin.user, Filters(weeks=26), now=END)["services"]}
    assert len(checked) >= 20
    references = checked.pop("reference-check")
    assert references["top"][0].label.startswith("skipped: 2.") and 0.5 < references["share"] < 0.75
    assert sum(r["following"] for r in checked.values()) / sum(r["checked"] for r in checked.values()) > 0.85
    assert any(d.kind == "out of order" for r in checked.values() for d in r["deviations"])

    # The notifications page lists newest first by id: the history's notifications are written
    # in the order they were sent, as a live system writes them.
    sent = list(Notification.objects.order_by("pk").values_list("created_at", flat=True))
    assert sent and sent == sorted(sent)
