"""Small presentation helpers shared by every page: status badges, "3 days", the nav, and the
read-only panels one area's page shows of another (the pull queue's "Next for you", a person's
working time this week, the changes scheduled to alter a service). They live in the site because
they reach into several areas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from tandem.agreements.queries import working_seconds_this_week
from tandem.allocation.modes import may_take
from tandem.allocation.modes import next_for_you as next_requests_for
from tandem.changes.queries import scheduled_edits_for
from tandem.engines.durations import duration_text, hours_text
from tandem.org.models import Person, Unit
from tandem.org.queries import can_use_management, person_of, sees_everything, work_unit_ids
from tandem.pay.queries import reads_pay_report
from tandem.promises.queries import reads_integrity_report
from tandem.refusal import Invalid
from tandem.voice.models import Frequency
from tandem.voice.queries import feedback_for, questions_for
from tandem.voice.service_review import reads_review
from tandem.work.models import STATUS_COLOURS, Event, Status

register = template.Library()


@register.filter
def status_badge(status: str) -> SafeString:
    """``<span class="badge badge--amber">Waiting on requester</span>`` for a status value."""
    try:
        label = Status(status).label
    except ValueError:
        label = status
    return format_html(
        '<span class="badge badge--{}">{}</span>', STATUS_COLOURS.get(status, "grey"), label
    )


@register.filter
def minutes_text(seconds: float | None) -> str:
    """Seconds as people read them: "1 h 20 min", "35 min"."""
    return "" if seconds is None else duration_text(seconds)


@register.filter
def hours_rounded(hours: float | None) -> str:
    """Hours as people read them: "1 h 20 min", "23 h"."""
    return "—" if hours is None else hours_text(hours)


@register.filter
def total_minutes(entries: list[Any]) -> str:
    """The total of time entries: "2 h 5 min"."""
    return duration_text(sum(e.seconds for e in entries))


@register.filter
def status_label(status: str) -> str:
    try:
        return str(Status(status).label)
    except ValueError:
        return status


@register.filter
def since(value: datetime | None) -> str:
    """How long ago, to the largest unit: "3 days", "5 hours", "under a minute"."""
    if value is None:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "under a minute"
    return timesince(value, depth=1)


@register.filter
def overdue(value: datetime | None) -> bool:
    return value is not None and value < timezone.now()


@register.simple_tag(takes_context=True)
def queue_unit_ids(context: template.Context) -> set[int]:
    """The back-office units whose queue the signed-in person works (empty for the front office)."""
    request = context.get("request")
    return work_unit_ids(person_of(getattr(request, "user", None)))


@register.simple_tag(takes_context=True)
def pulse_questions(context: template.Context) -> list:
    """The pulse questions the signed-in person has not answered or dismissed (the banner)."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name == "voice:pulse":
        return []  # the pulse page asks them itself
    return questions_for(person_of(getattr(request, "user", None)))


@register.simple_tag(takes_context=True)
def request_feedback(context: template.Context, sr: Any) -> dict[str, Any]:
    """Ratings both ways on a request page, for the viewer."""
    request = context.get("request")
    typed = request.session.pop(f"feedback-typed-{sr.pk}", {}) if request is not None else {}
    return {**feedback_for(person_of(getattr(request, "user", None)), sr), "typed": typed}


@register.simple_tag
def pulse_answer_choices() -> list[tuple[int, str]]:
    return list(Frequency.choices)


@register.simple_tag(takes_context=True)
def reads_promises(context: template.Context) -> bool:
    """Leads, executives and administrators get the promise integrity report in the nav."""
    request = context.get("request")
    return reads_integrity_report(person_of(getattr(request, "user", None)))


@register.simple_tag(takes_context=True)
def reads_pay(context: template.Context) -> bool:
    """Executives, HR and administrators get the pay parity report in the nav."""
    request = context.get("request")
    return reads_pay_report(person_of(getattr(request, "user", None)))


@register.simple_tag(takes_context=True)
def reads_service_review(context: template.Context) -> bool:
    """A client's executives and leads (their own review), the provider's executives and
    administrators (every client's) get the service review in the nav."""
    person = person_of(getattr(context.get("request"), "user", None))
    if person is None:
        return False
    mine = person.unit.organisation_id
    return reads_review(person, mine) if mine is not None else sees_everything(person)


@register.simple_tag(takes_context=True)
def may_manage(context: template.Context) -> bool:
    """Leads and administrators get the management pages in the nav."""
    request = context.get("request")
    return can_use_management(person_of(getattr(request, "user", None)))


@register.simple_tag(takes_context=True)
def signed_in_person(context: template.Context) -> Any:
    request = context.get("request")
    return person_of(getattr(request, "user", None))


# What each kind of event says beyond its name, from the keys it keeps in ``data``.
EVENT_DETAIL_KEYS: dict[str, tuple[str, str]] = {
    Event.Kind.ASKED_REQUESTER: ("question", "Question"),
    Event.Kind.RESOLVED: ("resolution", "Resolution"),
    Event.Kind.REOPENED: ("reason", "Reason"),
    Event.Kind.CANCELLED: ("reason", "Reason"),
    Event.Kind.CLOSED: ("reason", "Reason"),
    Event.Kind.WAITING_THIRD_PARTY: ("party", "Waiting on"),
    Event.Kind.WAITING_TEAM: ("team", "Waiting on"),
    Event.Kind.IMPORTED: ("activity", "Activity"),  # history loaded by `tandem import-log`
    Event.Kind.STEP_DONE: ("text", "Step"),
    Event.Kind.STEP_UNDONE: ("text", "Step"),
    Event.Kind.QUEUE_JUMP: ("reason", "Reason"),
    Event.Kind.APPROVAL_ASKED: ("why", "Why"),
    Event.Kind.APPROVED: ("note", "Note"),
    Event.Kind.DECLINED: ("reason", "Reason"),
}


@register.simple_tag
def event_detail(
    event: Event, names: dict[int, str], show_payload: bool = True
) -> list[tuple[str, str]]:
    """The (label, text) lines under an event in the timeline.

    Free text (questions, resolutions, reasons) is the request's payload: it is left out when
    the viewer may not see the payload of a confidential request.
    """
    data = event.data or {}
    lines: list[tuple[str, str]] = []
    if event.kind == Event.Kind.ASSIGNED and data.get("assignee"):
        lines.append(("To", names.get(data["assignee"], "a member of the unit")))
    if event.kind == Event.Kind.QUEUE_JUMP and data.get("jumped"):
        n = int(data["jumped"])
        lines.append(("Ahead of", f"{n} earlier request{'s' if n != 1 else ''} (first {data.get('first', '?')})"))
    if event.kind == Event.Kind.SUBMITTED and data.get("channel"):
        lines.append(
            ("Channel", "External (customer)" if data["channel"] == "external" else "Internal")
        )
    if not show_payload:
        return lines
    key = EVENT_DETAIL_KEYS.get(event.kind)
    if key and data.get(key[0]):
        lines.append((key[1], str(data[key[0]])))
    if event.kind in (Event.Kind.WAITING_THIRD_PARTY, Event.Kind.WAITING_TEAM) and data.get("note"):
        lines.append(("Note", str(data["note"])))
    return lines


@register.filter
def query_with(form: Any, change: str) -> str:
    """The form's current filters as a query string, with ``"name=value"`` changed (no cursor)."""
    name, _, value = change.partition("=")
    return form.query_string(**({name: value} if name else {}))


@register.simple_tag(takes_context=True)
def next_for_you(context: template.Context, unit: Unit) -> list | None:
    """The signed-in person's next requests in ``unit`` when it works in pull mode and they may
    take from it ("Take next"); None otherwise (no panel)."""
    request = context.get("request")
    me = person_of(getattr(request, "user", None))
    if me is None or not may_take(me, unit):
        return None
    return next_requests_for(me, unit, timezone.now())


@register.simple_tag(takes_context=True)
def scheduled_service_changes(context: template.Context, service: Any) -> list:
    """The changes that will alter this service, with what they change ("Changes on 4 Jan with
    …"), among the changes the signed-in person sees."""
    request = context.get("request")
    return list(scheduled_edits_for(getattr(request, "user", None), service)[:10])


@register.simple_tag
def working_week(person: Person) -> str:
    """"Working time this week: 22.5 h" (their unit's calendar, their pattern, their absences)."""
    try:
        seconds = working_seconds_this_week(person, timezone.now())
    except Invalid as exc:
        return exc.message
    return f"Working time this week: {seconds / 3600:.1f}".removesuffix(".0") + " h"
