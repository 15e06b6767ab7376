"""Every change to the change calendar: drafting, editing, consultation, publishing, moving and
cancelling a change; the executives' limits, blackouts and change periods.

Each checks everything first and refuses with every problem at once, naming the fields, before
it writes anything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from tandem.catalogue.models import Service
from tandem.changes.models import (
    MAX_MINUTES,
    SUMMARY_LIMIT,
    TEXT_LIMIT,
    AudienceLimit,
    Blackout,
    Change,
    ChangeAudience,
    ChangeComment,
    ChangePeriod,
    Kind,
    ServiceEdit,
    Status,
)
from tandem.changes.queries import (
    audience_people,
    change_owners,
    led_audience,
    may_own_changes,
    sets_calendar_rules,
)
from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role, Side, Unit
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound


@dataclass
class AudienceIn:
    """One audience of a change: a front-office unit's slug, what its people must do, by when,
    and the one role of its people it is for ("": everyone of the unit; blank takes the draft's)."""

    unit: str
    must_do: str = ""
    by_when: date | None = None
    role: str = ""


@dataclass
class Draft:
    """What an owner types about a change."""

    title: str
    summary: str
    why: str
    kind: str
    effective_on: date | None
    minutes: Any
    audiences: list[AudienceIn]
    everyone: bool = False
    services: list[str] | None = None
    #: Every audience only for the people of this role ("": everyone of the units). With
    #: ``everyone``: every lead of every front-office unit, say.
    role: str = ""


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid("Some details are missing or wrong (" + ", ".join(errors) + "); correct them.", errors=errors)


def _minutes(value: Any) -> int | None:
    """A positive whole number of minutes, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            return None
    return number if 1 <= number <= MAX_MINUTES else None


def _checked(draft: Draft, unit: Unit, today: date, errors: dict[str, list[str]]) -> tuple[int, list, list]:
    title, summary, why = (draft.title or "").strip(), (draft.summary or "").strip(), (draft.why or "").strip()
    if not title or len(title) > 120:
        errors["title"] = ["A title of 1 to 120 characters."]
    if not summary:
        errors["summary"] = ["The summary is the notice people read: write it (at most 280 characters)."]
    elif len(summary) > SUMMARY_LIMIT:
        errors["summary"] = [f"The summary is {len(summary)} characters; the notice holds at most {SUMMARY_LIMIT}. "
                             f"Cut {len(summary) - SUMMARY_LIMIT}."]
    if not why:
        errors["why"] = ["Say why the change exists: people comply with what they understand."]
    if draft.kind not in Kind.values:
        errors["kind"] = ["Choose policy, process, system or form."]
    if draft.effective_on is None:
        errors["effective_on"] = ["Give the date it takes effect (YYYY-MM-DD)."]
    elif draft.effective_on < today:
        errors["effective_on"] = [f"A change cannot take effect in the past: choose {today:%-d %b %Y} or later."]
    minutes = _minutes(draft.minutes)
    if minutes is None:
        errors["minutes"] = [f"The effort to absorb it is a positive whole number of minutes per person "
                             f"(1 to {MAX_MINUTES}); {str(draft.minutes)[:20]!r} is not."]
    _check_roles(draft, errors)
    front = {u.slug: u for u in Unit.objects.filter(side=Side.FRONT)}
    rows: list[tuple[Unit, AudienceIn]] = []
    if draft.everyone:
        typed = {a.unit: a for a in draft.audiences}
        rows = [(u, typed.get(slug) or AudienceIn(slug)) for slug, u in sorted(front.items())]
    else:
        unknown = [a.unit for a in draft.audiences if a.unit not in front]
        if unknown:
            errors["audiences"] = [f"No front-office unit is called {', '.join(repr(u[:60]) for u in unknown[:5])}: "
                                   "choose audiences from the front-office units."]
        elif not draft.audiences:
            errors["audiences"] = ["Choose at least one audience (or everyone)."]
        elif len({a.unit for a in draft.audiences}) != len(draft.audiences):
            errors["audiences"] = ["Name each audience once."]
        else:
            rows = [(front[a.unit], a) for a in draft.audiences]
    # An audience's own role, else the draft's.
    rows = [(u, AudienceIn(a.unit, a.must_do, a.by_when, a.role or draft.role or "")) for u, a in rows]
    for _, a in rows:
        if len(a.must_do) > 500:
            errors["audiences"] = ["What an audience must do fits in 500 characters."]
        if a.by_when is not None and draft.effective_on is not None and a.by_when < draft.effective_on:
            errors["audiences"] = ["What an audience must do is due on the effective date or later."]
    services: list[Service] = []
    if draft.services:
        found = {s.slug: s for s in Service.objects.filter(unit=unit, slug__in=draft.services)}
        missing = [s for s in draft.services if s not in found]
        if missing:
            names = ", ".join(repr(s[:60]) for s in missing[:5])
            errors["services"] = [f"{unit.name} provides no service called {names}."]
        services = list(found.values())
    return minutes or 0, rows, services


def _check_roles(draft: Draft, errors: dict[str, list[str]]) -> None:
    """Each role named is one a person holds (or blank: everyone of the unit)."""
    named = [("", draft.role or "")] + [(a.unit, a.role or "") for a in draft.audiences]
    unknown = [(unit, role) for unit, role in named if role and role not in Role.values]
    if unknown:
        where = ", ".join(f"{role[:30]!r}" + (f" (audience {unit[:60]!r})" if unit else "")
                          for unit, role in unknown[:5])
        errors["role"] = [f"No role is called {where}: choose {', '.join(Role.values)}, or none for everyone "
                          "of the unit."]


def _owned_unit(actor: Person, unit_id: int | None) -> Unit:
    unit = Unit.objects.filter(pk=unit_id, side=Side.BACK).first() if unit_id else None
    if unit is None:
        raise Invalid("Choose the back-office unit that owns the change.",
                      errors={"unit": ["A back-office unit whose services you own."]})
    if not may_own_changes(actor, unit.pk):
        raise Forbidden(f"Only the owners of {unit.name}'s services (and administrators) draft and manage its changes.")
    return unit


def _write_audiences(change: Change, rows: list[tuple[Unit, AudienceIn]]) -> None:
    change.audiences.all().delete()
    ChangeAudience.objects.bulk_create(
        [ChangeAudience(change=change, unit=u, must_do=a.must_do.strip(), by_when=a.by_when, role=a.role)
         for u, a in rows]
    )


def draft_change(actor: Person, unit_id: int | None, draft: Draft, *, today: date | None = None) -> Change:
    """A new draft, owned by a back-office unit whose services the actor owns."""
    today = today or timezone.localdate()
    unit = _owned_unit(actor, unit_id)
    errors: dict[str, list[str]] = {}
    minutes, rows, services = _checked(draft, unit, today, errors)
    _refuse(errors)
    assert draft.effective_on is not None
    with action_transaction():
        change = Change.objects.create(
            unit=unit, title=draft.title.strip(), summary=draft.summary.strip(), why=draft.why.strip(),
            kind=draft.kind, everyone=draft.everyone, effective_on=draft.effective_on,
            requested_on=draft.effective_on, minutes=minutes, created_by=actor,
        )
        _write_audiences(change, rows)
        change.services.set(services)
    return change


def _managed(actor: Person, change_id: int) -> Change:
    change = Change.objects.select_related("unit").filter(pk=change_id).first()
    if change is None:
        raise NotFound("There is no such change.")
    if not may_own_changes(actor, change.unit_id):
        raise Forbidden(f"Only the owners of {change.unit.name}'s services (and administrators) manage its changes.")
    return change


def edit_change(actor: Person, change_id: int, draft: Draft, *, today: date | None = None) -> Change:
    """Rewrite a draft or a change in consultation (a published one is moved or cancelled)."""
    today = today or timezone.localdate()
    change = _managed(actor, change_id)
    if change.status not in (Status.DRAFT, Status.CONSULTATION):
        raise Conflict(f"This change is {change.get_status_display().lower()}: move or cancel it instead.")
    errors: dict[str, list[str]] = {}
    minutes, rows, services = _checked(draft, change.unit, today, errors)
    if (change.consultation_ends_on and draft.effective_on and change.consultation_ends_on > draft.effective_on):
        errors["effective_on"] = [f"The consultation ends on {change.consultation_ends_on:%-d %b %Y}: the change "
                                  "cannot take effect before."]
    _refuse(errors)
    assert draft.effective_on is not None
    with action_transaction():
        if change.status == Status.DRAFT and draft.effective_on != change.effective_on:
            change.requested_on = draft.effective_on
        change.title, change.summary, change.why = draft.title.strip(), draft.summary.strip(), draft.why.strip()
        change.kind, change.everyone, change.effective_on = draft.kind, draft.everyone, draft.effective_on
        change.minutes, change.updated_at = minutes, timezone.now()
        change.save()
        _write_audiences(change, rows)
        change.services.set(services)
        # A service no longer linked is no longer altered.
        change.service_edits.filter(state=ServiceEdit.State.SCHEDULED).exclude(service__in=services).delete()
    return change


def open_consultation(actor: Person, change_id: int, ends_on: date | None, *, today: date | None = None) -> Change:
    """Open a draft to its audiences' leads until ``ends_on`` (at the latest its effective date)."""
    today = today or timezone.localdate()
    change = _managed(actor, change_id)
    if change.status != Status.DRAFT:
        raise Conflict(f"Only a draft goes to consultation; this one is {change.get_status_display().lower()}.")
    if ends_on is None:
        raise Invalid("Give the day the consultation ends.", errors={"consultation_ends_on": ["A date."]})
    if ends_on < today:
        raise Invalid("A consultation cannot end in the past.",
                      errors={"consultation_ends_on": [f"Choose {today:%-d %b %Y} or later."]})
    if ends_on > change.effective_on:
        raise Invalid(
            f"The consultation must end by the effective date ({change.effective_on:%-d %b %Y}).",
            errors={"consultation_ends_on": [f"{ends_on:%-d %b %Y} is after the effective date "
                                             f"{change.effective_on:%-d %b %Y}."]})
    with action_transaction():
        change.status, change.consultation_ends_on, change.updated_at = Status.CONSULTATION, ends_on, timezone.now()
        change.save(update_fields=["status", "consultation_ends_on", "updated_at"])
    return change


def publish_change(actor: Person, change_id: int, outcome: str = "", *, today: date | None = None) -> Change:
    """Publish a draft or a change in consultation. When the consultation drew comments, every
    one must be answered and ``outcome`` (what changed because of them, or why nothing did) is
    required: the notice shows it."""
    today = today or timezone.localdate()
    change = _managed(actor, change_id)
    if change.status not in (Status.DRAFT, Status.CONSULTATION):
        raise Conflict(f"This change is already {change.get_status_display().lower()}.")
    if change.effective_on < today:
        raise Invalid("Its effective date has passed: move it to today or later, then publish.",
                      errors={"effective_on": ["In the past."]})
    outcome = (outcome or "").replace("\x00", "").strip()
    comments = change.comments.count()
    unanswered = change.comments.filter(answered_at__isnull=True).count()
    errors: dict[str, list[str]] = {}
    if unanswered:
        errors["comments"] = [f"{unanswered} of the consultation's {comments} comments "
                              f"{'is' if unanswered == 1 else 'are'} not answered yet: answer each one first."]
    if len(outcome) > TEXT_LIMIT:
        errors["consultation_outcome"] = [f"It is {len(outcome)} characters; at most {TEXT_LIMIT}."]
    elif comments and not outcome:
        errors["consultation_outcome"] = [f"The consultation drew {comments} comment{'s' if comments != 1 else ''}: "
                                          "say what changed because of it (or why nothing did)."]
    if errors:
        raise Invalid("Not published: " + " ".join(m for ms in errors.values() for m in ms), errors=errors)
    with action_transaction():
        change.status, change.published_at = Status.PUBLISHED, timezone.now()
        change.updated_at, change.consultation_outcome = change.published_at, outcome
        change.save(update_fields=["status", "published_at", "updated_at", "consultation_outcome"])
    return change


def _tell_audience(change: Change, message: str) -> int:
    """One notification to each active person of the change's audiences (in the caller's
    transaction)."""
    people = audience_people(change)
    notify(people, Notification.Kind.CHANGE_MOVED, None, message)
    return len(people)


def move_change(actor: Person, change_id: int, effective_on: date | None, *, today: date | None = None) -> Change:
    """Move a change to another effective date (a proposed slot accepted, or the owner's own)."""
    today = today or timezone.localdate()
    change = _managed(actor, change_id)
    check_move(change, effective_on, today)
    assert effective_on is not None
    with action_transaction():
        moved_to(change, effective_on)
    return change


def check_move(change: Change, effective_on: date | None, today: date) -> None:
    """Refuse moving ``change`` to ``effective_on``: cancelled, in effect, in the past, before
    its consultation ends."""
    if change.status == Status.CANCELLED:
        raise Conflict("A cancelled change is not moved.")
    if change.effective_on < today and change.status == Status.PUBLISHED:
        raise Conflict("This change is already in effect.")
    if effective_on is None:
        raise Invalid("Give the new effective date.", errors={"effective_on": ["A date (YYYY-MM-DD)."]})
    if effective_on < today:
        raise Invalid("A change cannot take effect in the past.",
                      errors={"effective_on": [f"Choose {today:%-d %b %Y} or later."]})
    if change.consultation_ends_on and effective_on < change.consultation_ends_on:
        raise Invalid("The consultation must end by the effective date.",
                      errors={"effective_on": [f"The consultation ends on {change.consultation_ends_on:%-d %b %Y}."]})


def moved_to(change: Change, effective_on: date) -> None:
    """Move the change (a staged one is no longer staged: every audience on the new day), in the
    caller's transaction; a published one tells its audience once."""
    was = change.effective_on
    staged = change.audiences.filter(effective_on__isnull=False).update(effective_on=None)
    change.effective_on, change.updated_at = effective_on, timezone.now()
    change.save(update_fields=["effective_on", "updated_at"])
    if change.status == Status.PUBLISHED and (effective_on != was or staged):
        # Told again on the new day: the notices not yet acknowledged are forgotten.
        change.receipts.filter(acknowledged_at__isnull=True).delete()
        _tell_audience(change, f"Moved: “{change.title[:120]}” ({change.unit.name}) now takes effect on "
                               f"{effective_on:%a %-d %b %Y}, not {was:%a %-d %b}.")


def cancel_change(actor: Person, change_id: int) -> Change:
    change = _managed(actor, change_id)
    if change.status == Status.CANCELLED:
        raise Conflict("This change is already cancelled.")
    published = change.status == Status.PUBLISHED
    with action_transaction():
        change.status, change.cancelled_at = Status.CANCELLED, timezone.now()
        change.updated_at = change.cancelled_at
        change.save(update_fields=["status", "cancelled_at", "updated_at"])
        change.service_edits.filter(state=ServiceEdit.State.SCHEDULED).update(state=ServiceEdit.State.DROPPED)
        if published:
            _tell_audience(change, f"Cancelled: “{change.title[:120]}” ({change.unit.name}) will not take effect "
                                   f"on {change.effective_on:%a %-d %b %Y}. Nothing to do.")
    return change


# --- consultation ---------------------------------------------------------------------------------


def _text(value: str | None, field: str, what: str) -> str:
    text = (value or "").replace("\x00", "").strip()
    if not text:
        raise Invalid(f"Write the {what}.", errors={field: [f"The {what} is empty."]})
    if len(text) > TEXT_LIMIT:
        raise Invalid(f"The {what} is {len(text)} characters; at most {TEXT_LIMIT}. Cut {len(text) - TEXT_LIMIT}.",
                      errors={field: [f"{len(text)} characters; at most {TEXT_LIMIT}."]})
    return text


def comment_on_change(actor: Person, change_id: int, text: str | None, *, today: date | None = None) -> ChangeComment:
    """A comment or suggestion of a lead of one of the change's audiences, while its consultation
    is open (up to and including its last day)."""
    today = today or timezone.localdate()
    change = Change.objects.select_related("unit").filter(pk=change_id).first()
    if change is None:
        raise NotFound("There is no such change.")
    if change.status != Status.CONSULTATION or change.consultation_ends_on is None:
        raise Conflict(f"This change is not in consultation (it is {change.get_status_display().lower()}): "
                       "comments are taken only while its consultation is open.")
    if today > change.consultation_ends_on:
        raise Conflict(f"The consultation closed on {change.consultation_ends_on:%-d %b %Y}: comments are no "
                       "longer taken.")
    unit = led_audience(actor, change)
    if unit is None:
        raise Forbidden("Only the leads of the change's audiences comment during its consultation.")
    body = _text(text, "text", "comment")
    with action_transaction():
        comment = ChangeComment.objects.create(change=change, author=actor, unit=unit, text=body)
        owners = set(change_owners(change)) - {actor.pk}
        notify(owners, Notification.Kind.CHANGE_COMMENT, None,
               f"{actor.display_name} ({unit.name}) commented on “{change.title[:120]}”: {body[:80]}"
               + ("…" if len(body) > 80 else "") + " Answer it under Changes.")
        return comment


def answer_comment(actor: Person, comment_id: int, text: str | None) -> ChangeComment:
    """The owner's answer to a consultation comment (a second answer replaces the first)."""
    comment = ChangeComment.objects.select_related("change__unit").filter(pk=comment_id).first()
    if comment is None:
        raise NotFound("There is no such comment.")
    change = comment.change
    if not may_own_changes(actor, change.unit_id):
        raise Forbidden(f"Only the owners of {change.unit.name}'s services (and administrators) answer comments "
                        "on its changes.")
    if change.status == Status.CANCELLED:
        raise Conflict("This change is cancelled.")
    body = _text(text, "answer", "answer")
    with action_transaction():
        comment.answer, comment.answered_by, comment.answered_at = body, actor, timezone.now()
        comment.save(update_fields=["answer", "answered_by", "answered_at"])
        if comment.author_id != actor.pk:
            notify([comment.author_id], Notification.Kind.CHANGE_ANSWER, None,
                   f"{actor.display_name} answered your comment on “{change.title[:120]}”: {body[:80]}"
                   + ("…" if len(body) > 80 else "") + " See Changes.")
    return comment


# --- the executives' rules ------------------------------------------------------------------------


def _executive(actor: Person) -> None:
    if not sets_calendar_rules(actor):
        raise Forbidden("Limits, blackouts and change periods are set by executives and administrators.")


def _front_unit(slug: str | None, field: str) -> Unit | None:
    if not slug:
        return None
    unit = Unit.objects.filter(slug=slug, side=Side.FRONT).first()
    if unit is None:
        raise Invalid(f"No front-office unit is called {slug[:60]!r}.", errors={field: ["A front-office unit."]})
    return unit


def set_limit(
    actor: Person, unit_slug: str, minutes_per_week: Any, *, batching_required: bool = False
) -> AudienceLimit:
    """An audience's weekly limit (minutes per person) and whether it takes changes only in change periods."""
    _executive(actor)
    unit = _front_unit(unit_slug, "unit")
    if unit is None:
        raise Invalid("Choose the audience.", errors={"unit": ["A front-office unit."]})
    try:
        minutes: int | None = int(str(minutes_per_week).strip())
    except ValueError:
        minutes = None
    if minutes is not None and not 1 <= minutes <= 2400:
        minutes = None
    if minutes is None:
        raise Invalid("The limit is a positive whole number of minutes per person per week (1 to 2400).",
                      errors={"minutes_per_week": ["A positive whole number."]})
    with action_transaction():
        row, _ = AudienceLimit.objects.update_or_create(
            unit=unit, defaults={"minutes_per_week": minutes, "batching_required": batching_required,
                                 "set_by": actor, "set_at": timezone.now()})
    return row


def _window(starts_on: date | None, ends_on: date | None, name: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if starts_on is None:
        errors["starts_on"] = ["A date (YYYY-MM-DD)."]
    if ends_on is None:
        errors["ends_on"] = ["A date (YYYY-MM-DD)."]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = ["It ends on or after the day it starts."]
    if not name.strip() or len(name.strip()) > 120:
        errors["name"] = ["A name of 1 to 120 characters."]
    return errors


def declare_blackout(actor: Person, *, starts_on: date | None, ends_on: date | None, reason: str,
                     kind: str = Blackout.Kind.BUSY, unit_slug: str | None = None) -> Blackout:
    _executive(actor)
    unit = _front_unit(unit_slug, "unit")
    errors = _window(starts_on, ends_on, reason)
    if "name" in errors:
        errors["reason"] = errors.pop("name")
    if kind not in Blackout.Kind.values:
        errors["kind"] = ["Month end, payroll week or busy period."]
    _refuse(errors)
    assert starts_on is not None and ends_on is not None
    with action_transaction():
        return Blackout.objects.create(unit=unit, kind=kind, starts_on=starts_on, ends_on=ends_on,
                                       reason=reason.strip(), declared_by=actor)


def declare_period(actor: Person, *, name: str, starts_on: date | None, ends_on: date | None) -> ChangePeriod:
    _executive(actor)
    _refuse(_window(starts_on, ends_on, name))
    assert starts_on is not None and ends_on is not None
    with action_transaction():
        return ChangePeriod.objects.create(name=name.strip(), starts_on=starts_on, ends_on=ends_on, declared_by=actor)


def remove_rule(actor: Person, *, blackout_id: int | None = None, period_id: int | None = None) -> None:
    _executive(actor)
    with action_transaction():
        if blackout_id:
            Blackout.objects.filter(pk=blackout_id).delete()
        if period_id:
            ChangePeriod.objects.filter(pk=period_id).delete()
