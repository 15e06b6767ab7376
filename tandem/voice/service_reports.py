"""The monthly service report per client, made by the worker once per client and month.

Each round, for the last complete month, every client organisation with a contract gets its
report: the worker first claims it by inserting its row (a unique constraint on client and
month: a second worker's insert fails and it moves on), then writes the figures into it. A
claim left unfinished by a worker that died is taken over after ``STALE`` by a conditional
update on the claim's time, so again only one worker wins it.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.org.models import Organisation
from tandem.voice.models import ServiceReport
from tandem.voice.service_review import csv_rows, last_complete_month, markdown, review

STALE = timedelta(minutes=10)


def claim(organisation: Organisation, month: date, now: datetime) -> ServiceReport | None:
    """This worker's claim on the client's report of ``month``, or None when it is made or
    another worker holds a fresh claim."""
    try:
        with transaction.atomic():
            return ServiceReport.objects.create(organisation=organisation, month=month, claimed_at=now)
    except IntegrityError:
        pass
    held = ServiceReport.objects.filter(organisation=organisation, month=month, made_at__isnull=True).first()
    if held is None or held.claimed_at > now - STALE:
        return None
    taken = ServiceReport.objects.filter(pk=held.pk, made_at__isnull=True, claimed_at=held.claimed_at).update(
        claimed_at=now)
    return ServiceReport.objects.get(pk=held.pk) if taken == 1 else None


def make_service_reports(now: datetime | None = None) -> int:
    """Make the reports of the last complete month that nobody has made yet; returns how many
    this call made."""
    now = now or timezone.now()
    month = last_complete_month(now)
    made = 0
    clients = Organisation.objects.filter(contracts__isnull=False).distinct().order_by("pk")
    for organisation in clients:
        report = claim(organisation, month, now)
        if report is None:
            continue
        figures = review(organisation, month)
        out = io.StringIO()
        csv.writer(out).writerows(csv_rows(figures))
        ServiceReport.objects.filter(pk=report.pk, made_at__isnull=True, claimed_at=report.claimed_at).update(
            markdown=markdown(figures), csv=out.getvalue(), made_at=timezone.now())
        made += 1
    return made
