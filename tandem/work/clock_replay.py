"""Agreement clocks computed from the requests' own trails, for requests that arrived without
one: a history loaded in bulk (the demo) has every status move but none of the clock columns
the actions keep step by step. The times set at submission are set as ``submit_request`` sets
them: the published turnaround on the service's calendar and the run its cut-offs place it in.

Each request is given the terms it would have got at submission (``terms_for``: its matching
agreement, else the service's published turnaround) and its status moves are replayed through
``tandem.work.clock`` in order, exactly as the actions apply them. Alerts whose moment passed
before ``alerted_before`` are marked as sent (the history happened before Tandem watched it);
later ones are left for the worker, which sends them as it would have.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from tandem.agreements.queries import Terms, compile_calendar, request_calendar_data, terms_for, turnaround_due
from tandem.catalogue import runs
from tandem.catalogue.models import CutOff, Service
from tandem.engines.worktime import WorkingCalendar
from tandem.org.models import Unit
from tandem.rows import EpochSeconds, update_rows
from tandem.work import clock
from tandem.work.models import Event, ServiceRequest

BATCH = 2000
#: The columns a replay reads; the clock's own columns are all written before they are read.
READ = ("pk", "service_id", "unit_id", "requesting_unit_id", "channel", "requester_id", "submitted_at", "status",
        "resolved_at", "closed_at", "first_response_at", "intake")
SUBMISSION_FIELDS = ("due_at", "run_on", "run_name", "run_cutoff_at", "late_for_cutoff")


def rebuild_clocks(now: datetime, alerted_before: datetime, *, only_missing: bool = True) -> int:
    """Give every request without a clock (all, with ``only_missing=False``) its clock from its
    trail; returns how many were set."""
    requests = ServiceRequest.objects.order_by("pk").only(*READ)
    if only_missing:
        requests = requests.filter(resolve_seconds__isnull=True)
    services = {s.pk: s for s in Service.objects.select_related("unit__calendar", "calendar")}
    cutoffs: dict[tuple[int, int | None], list[CutOff]] = defaultdict(list)
    for c in CutOff.objects.all():
        cutoffs[c.service_id, c.organisation_id].append(c)
    # Requests of a client follow its own cut-offs and holidays (docs/organisations.md).
    client_of: dict[int, tuple[int, tuple[str, str] | None]] = {
        uid: (oid, (country, subdivision) if country else None)
        for uid, oid, country, subdivision in Unit.objects.filter(organisation__isnull=False).values_list(
            "pk", "organisation_id", "organisation__holiday_country", "organisation__holiday_subdivision"
        )
    }
    terms: dict[tuple[int, int, str], Terms] = {}
    calendars: dict[tuple[int, tuple[str, str] | None], WorkingCalendar] = {}
    done = 0
    pks = list(requests.values_list("pk", flat=True))
    for lo in range(0, len(pks), BATCH):
        chunk = list(requests.filter(pk__in=pks[lo:lo + BATCH]))
        moves: dict[int, list[tuple[int, str, str, int | None]]] = defaultdict(list)
        for rid, at, frm, to, actor in (
            Event.objects.filter(request_id__in=[sr.pk for sr in chunk]).order_by("request_id", "seq")
            .values_list("request_id", EpochSeconds("at"), "from_status", "to_status", "actor_id")
        ):
            moves[rid].append((at, frm, to, actor))
        for sr in chunk:
            service = sr.service = services[sr.service_id]
            organisation_id, holidays = client_of.get(sr.requesting_unit_id, (None, None))
            cal = calendars.get((service.pk, holidays))
            if cal is None:
                cal = calendars[service.pk, holidays] = compile_calendar(
                    request_calendar_data(service, holidays, service.unit)
                )
            key = (service.pk, sr.requesting_unit_id, sr.channel)
            if key not in terms:
                terms[key] = terms_for(service, sr.requesting_unit_id, sr.channel, calendar=cal)
            own = cutoffs.get((service.pk, organisation_id)) if organisation_id is not None else None
            _place(sr, service, cal, own or cutoffs[service.pk, None])
            _replay(sr, terms[key], cal, moves[sr.pk], now, alerted_before)
        update_rows(chunk, (*clock.CLOCK_FIELDS, *SUBMISSION_FIELDS))
        done += len(chunk)
    return done


def _place(sr: ServiceRequest, service: Service, cal: WorkingCalendar, cutoffs: list[CutOff]) -> None:
    sr.due_at = turnaround_due(service, sr.submitted_at, cal)
    run = runs.place(service, sr.submitted_at, sr.intake, rows=cutoffs) if cutoffs else None
    sr.run_on = run.on if run else None
    sr.run_name = run.name if run else ""
    sr.run_cutoff_at = run.closes if run else None
    sr.late_for_cutoff = run.late_for if run else ""


def _replay(sr: ServiceRequest, terms: Terms, cal: WorkingCalendar,
            moves: list[tuple[int, str, str, int | None]], now: datetime, alerted_before: datetime) -> None:
    first_response_at = sr.first_response_at
    clock.start(sr, terms, cal)
    sr.first_response_at = first_response_at
    sr.breach_warned_at = sr.breached_at = sr.response_alerted_at = None
    for seconds, frm, to, actor in moves:
        if actor is not None and actor != sr.requester_id and sr.first_response_at is None and to != "new":
            sr.first_response_at = datetime.fromtimestamp(seconds, UTC)  # the back office's first move
        if to and frm:
            clock.status_changed(sr, frm, to, datetime.fromtimestamp(seconds, UTC))
    ended = sr.resolved_at or sr.closed_at if sr.status in clock.STOPPING else None
    horizon = min(ended or now, now)
    # What the worker would have sent by now; the last day's left for it to send.
    if sr.warn_at is not None and sr.warn_at < horizon and sr.warn_at < alerted_before:
        sr.breach_warned_at = sr.warn_at
    if sr.resolve_by is not None and sr.resolve_by < horizon and sr.resolve_by < alerted_before:
        sr.breached_at = sr.resolve_by
    if sr.respond_by is not None and sr.respond_by < min(sr.first_response_at or now, now) \
            and sr.respond_by < alerted_before:
        sr.response_alerted_at = sr.respond_by
