"""Every change to units, skills, people, working patterns, absences and API tokens.

Like the work actions, each function owns its transaction (``durable=True``), checks the
actor's rights (decided in ``tandem.org.queries``), and validates through the model's own rules
(``full_clean``). Django's ``ValidationError`` becomes an ``Invalid`` refusal with per-field
errors, so that a page can show each message beside its field and the API can return them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import wraps
from itertools import pairwise
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models
from django.utils import timezone

from tandem.objections import objections
from tandem.org.models import Absence, ApiToken, Person, PersonSkill, Role, Side, Skill, Unit
from tandem.org.queries import can_manage_organisation, can_manage_person, is_admin, person_of
from tandem.outbox.actions import action_transaction, publish
from tandem.refusal import Conflict, Forbidden, Invalid, NotFound

P = ParamSpec("P")
R = TypeVar("R")

Errors = dict[str, list[str]]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


# --- validation shared with the catalogue actions -----------------------------------------------


def errors_of(obj: models.Model, *, exclude: Iterable[str] = ()) -> Errors:
    """The model's own validation (fields, ``clean``, uniqueness, constraints) by field."""
    try:
        obj.full_clean(exclude=list(exclude) or None)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            return {field: list(messages) for field, messages in error.message_dict.items()}
        return {NON_FIELD_ERRORS: list(error.messages)}
    return {}


def refuse_if(errors: Errors, thing: str) -> None:
    """Raise ``Invalid`` carrying every message at once, so that one round trip fixes them all."""
    if not errors:
        return
    messages = " ".join(message for field_messages in errors.values() for message in field_messages)
    fix = "Correct it" if sum(map(len, errors.values())) == 1 else "Correct them"
    raise Invalid(f"The {thing} was not saved: {messages} {fix} and save again.", errors=errors)


def check(obj: models.Model, thing: str, *, exclude: Iterable[str] = ()) -> None:
    refuse_if(errors_of(obj, exclude=exclude), thing)


def refuses_races(fn: Callable[P, R]) -> Callable[P, R]:
    """Validation runs inside the transaction, so a clash means another save won a race on a
    unique column between our check and our write (PostgreSQL; SQLite's IMMEDIATE transactions
    serialise writers). Answer it as a conflict rather than a server error."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except IntegrityError as error:
            raise Conflict(
                "Someone else saved a clashing change at the same moment; "
                "reload the page and try again."
            ) from error

    return wrapper


def _require_admin(actor: Person, doing: str) -> None:
    if not can_manage_organisation(actor):
        raise Forbidden(f"Only an administrator can {doing}; ask one of your administrators.")


def _managed_person(actor: Person, person_id: int) -> Person:
    """The person, row-locked, when the actor may change their skills, pattern and absences."""
    target = (
        Person.objects.select_related("user", "unit")
        .select_for_update(of=("self",))
        .filter(pk=person_id)
        .first()
    )
    if target is None:
        raise NotFound(f"There is no person {person_id}.")
    if not can_manage_person(actor, target):
        raise Forbidden(
            f"Only {target.unit.name}'s lead or an administrator can change "
            f"{target.display_name}'s "
            "skills, working pattern and absences."
        )
    return target


# --- units -------------------------------------------------------------------------------------


@refuses_races
def create_unit(
    actor: Person,
    *,
    name: str,
    slug: str,
    side: str,
    description: str = "",
    time_zone: str = "Europe/London",
) -> Unit:
    _require_admin(actor, "create units")
    with action_transaction():
        unit = Unit(
            name=name.strip(),
            slug=slug.strip(),
            side=side,
            description=description.strip(),
            time_zone=time_zone.strip(),
        )
        check(unit, "unit")
        unit.save()
        return unit


@refuses_races
def update_unit(
    actor: Person,
    unit_id: int,
    *,
    name: str,
    slug: str,
    side: str,
    description: str,
    time_zone: str,
) -> Unit:
    _require_admin(actor, "change units")
    with action_transaction():
        unit = Unit.objects.select_for_update().filter(pk=unit_id).first()
        if unit is None:
            raise NotFound(f"There is no unit {unit_id}.")
        unit.name, unit.slug, unit.side = name.strip(), slug.strip(), side
        unit.description, unit.time_zone = description.strip(), time_zone.strip()
        errors = errors_of(unit)
        services = unit.services.count()
        if side == Side.FRONT and services:
            errors.setdefault("side", []).append(
                f"{unit.name} provides {services} service{'s' if services != 1 else ''}; "
                "only back-office "
                "units provide services, so move or retire them first."
            )
        refuse_if(errors, "unit")
        unit.save()
        return unit


# --- skills ------------------------------------------------------------------------------------


@refuses_races
def create_skill(actor: Person, *, name: str, slug: str) -> Skill:
    _require_admin(actor, "create skills")
    with action_transaction():
        skill = Skill(name=name.strip(), slug=slug.strip())
        check(skill, "skill")
        skill.save()
        return skill


@refuses_races
def update_skill(actor: Person, skill_id: int, *, name: str, slug: str) -> Skill:
    _require_admin(actor, "change skills")
    with action_transaction():
        skill = Skill.objects.select_for_update().filter(pk=skill_id).first()
        if skill is None:
            raise NotFound(f"There is no skill {skill_id}.")
        skill.name, skill.slug = name.strip(), slug.strip()
        check(skill, "skill")
        skill.save()
        return skill


# --- people ------------------------------------------------------------------------------------


def _grant_admin_access(user: Any, role: str) -> None:
    """The administrator role is also the key to Django's admin site; other roles do not open it."""
    user.is_staff = user.is_superuser = role == Role.ADMIN


def _email_taken(email: str, *, other_than: int | None = None) -> Errors:
    if not email:
        return {"email": ["An email address is needed: notifications are sent there."]}
    users = get_user_model().objects.filter(email__iexact=email)
    if other_than is not None:
        users = users.exclude(pk=other_than)
    if users.exists():
        return {
            "email": [f"Another person already uses {email}; each person needs their own address."]
        }
    return {}


@refuses_races
def create_person(
    actor: Person,
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    unit: Unit,
    role: str = Role.MEMBER,
    job_title: str = "",
    time_zone: str = "Europe/London",
    email_notifications: bool = True,
) -> Person:
    """A Django user and the person beside it. The administrator sets the first password and
    gives it to the person; Tandem sends nothing."""
    _require_admin(actor, "add people")
    with action_transaction():
        user = get_user_model()(
            username=username.strip(),
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email.strip(),
            is_active=True,
        )
        errors = errors_of(user, exclude=["password"])
        errors.update(_email_taken(user.email))
        try:
            validate_password(password, user)
        except ValidationError as error:
            errors["password"] = list(error.messages)
        person = Person(
            unit=unit,
            role=role,
            job_title=job_title.strip(),
            time_zone=time_zone.strip(),
            email_notifications=email_notifications,
        )
        errors.update(errors_of(person, exclude=["user"]))
        refuse_if(errors, "person")
        user.set_password(password)
        _grant_admin_access(user, role)
        user.save()
        person.user = user
        person.save()
        return person


@refuses_races
def update_person(
    actor: Person,
    person_id: int,
    *,
    first_name: str,
    last_name: str,
    email: str,
    unit: Unit,
    role: str,
    job_title: str,
    time_zone: str,
    email_notifications: bool,
    active: bool,
) -> Person:
    """Change a person's account and place: name, email, unit, role, time zone; deactivate or
    reactivate them (a deactivated person cannot sign in, and keeps their history)."""
    _require_admin(actor, "change people's accounts")
    with action_transaction():
        person = (
            Person.objects.select_related("user", "unit")
            .select_for_update(of=("self",))
            .filter(pk=person_id)
            .first()
        )
        if person is None:
            raise NotFound(f"There is no person {person_id}.")
        user = person.user
        if person.pk == actor.pk and (
            not active or (person.role == Role.ADMIN and role != Role.ADMIN)
        ):
            raise Forbidden(
                "You cannot deactivate yourself or give up your own administrator role; "
                "ask another administrator to do it."
            )
        errors: Errors = {}
        if not active and user.is_active:
            owned = list(person.owned_services.filter(active=True).values_list("name", flat=True))
            if owned:
                errors["active"] = [
                    f"{person.display_name} owns {', '.join(owned)}; give "
                    f"{'it' if len(owned) == 1 else 'them'} a new owner before deactivating."
                ]
        # Work in hand would be stranded: a deactivated person cannot act, and someone who
        # leaves a unit can no longer work its queue. The apps holding work answer.
        if not active or unit.pk != person.unit_id:
            held = objections("person.leaving_unit", person=person, deactivated=not active)
            if held:
                errors.setdefault("unit" if active else "active", []).extend(held)
        user.first_name, user.last_name, user.email = (
            first_name.strip(),
            last_name.strip(),
            email.strip(),
        )
        user.is_active = active
        errors.update(errors_of(user, exclude=["password"]))
        errors.update(_email_taken(user.email, other_than=user.pk))
        role_changed = role != person.role
        person.unit, person.role = unit, role
        person.job_title, person.time_zone = job_title.strip(), time_zone.strip()
        person.email_notifications = email_notifications
        errors.update(errors_of(person, exclude=["user"]))
        refuse_if(errors, "person")
        if role_changed:
            _grant_admin_access(user, role)
        user.save()
        person.save()
        return person


def set_person_skills(actor: Person, person_id: int, levels: Mapping[int, int | None]) -> Person:
    """Set several skill levels at once: skill id → level (1-4), or None to remove the skill."""
    allowed = set(PersonSkill.Level.values)
    wrong = {
        skill_id: level
        for skill_id, level in levels.items()
        if level is not None and level not in allowed
    }
    if wrong:
        raise Invalid(
            "A skill level is 1 (learning) to 4 (expert); "
            f"{', '.join(map(str, wrong.values()))} is not.",
            errors={f"skill_{skill_id}": ["Choose a level from the list."] for skill_id in wrong},
        )
    with action_transaction():
        person = _managed_person(actor, person_id)
        known = set(Skill.objects.filter(pk__in=list(levels)).values_list("pk", flat=True))
        unknown = set(levels) - known
        if unknown:
            raise Invalid(
                f"There is no skill {', '.join(map(str, sorted(unknown)))}; "
                "reload the page and try again.",
                errors={f"skill_{skill_id}": ["Unknown skill."] for skill_id in unknown},
            )
        PersonSkill.objects.filter(
            person=person, skill_id__in=[s for s, level in levels.items() if level is None]
        ).delete()
        for skill_id, level in levels.items():
            if level is not None:
                PersonSkill.objects.update_or_create(
                    person=person, skill_id=skill_id, defaults={"level": level}
                )
        return person


def set_person_skill(actor: Person, person_id: int, skill_id: int, level: int | None) -> Person:
    return set_person_skills(actor, person_id, {skill_id: level})


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def normalise_working_pattern(
    pattern: Mapping[int | str, Iterable[Iterable[str]]],
) -> dict[str, list[list[str]]]:
    """Check a weekly pattern (weekday 0 = Monday … 6 = Sunday → intervals of "HH:MM") and return it
    sorted, in the stored form. Refuses malformed times, an interval that ends before it starts,
    and intervals that overlap on the same day (touching is fine: 12:30 to 12:30)."""
    errors: Errors = {}
    result: dict[str, list[list[str]]] = {}
    for day, intervals in pattern.items():
        if str(day) not in {str(d) for d in range(7)}:
            errors.setdefault("__all__", []).append(
                f"Day {day!r} must be 0 (Monday) to 6 (Sunday)."
            )
            continue
        name = WEEKDAYS[int(day)]
        spans: list[list[str]] = []
        for interval in intervals:
            parts = [str(p).strip() for p in interval]
            if len(parts) != 2 or not all(CLOCK.match(p) for p in parts):
                errors.setdefault(name, []).append(
                    f"{name.title()}: {'-'.join(parts) or 'an empty interval'} is not HH:MM-HH:MM "
                    "(24-hour clock, e.g. 09:00-12:30)."
                )
                continue
            start, end = parts
            if _minutes(start) >= _minutes(end):
                errors.setdefault(name, []).append(
                    f"{name.title()}: {start}-{end} ends before it starts; "
                    "the start must be earlier than the end."
                )
                continue
            spans.append([start, end])
        spans.sort(key=lambda span: _minutes(span[0]))
        for before, after in pairwise(spans):
            if _minutes(after[0]) < _minutes(before[1]):
                errors.setdefault(name, []).append(
                    f"{name.title()}: {after[0]}-{after[1]} overlaps {before[0]}-{before[1]}; "
                    "make the intervals follow each other."
                )
        if spans:
            result[str(int(day))] = spans
    refuse_if(errors, "working pattern")
    return dict(sorted(result.items()))


def set_working_pattern(
    actor: Person, person_id: int, pattern: Mapping[int | str, Iterable[Iterable[str]]]
) -> Person:
    normalised = normalise_working_pattern(pattern)
    with action_transaction():
        person = _managed_person(actor, person_id)
        person.working_pattern = normalised
        # A week with no working days is allowed (someone on long leave), but JSONField calls
        # {} blank; the pattern's own rules are in Person.clean, which still runs.
        check(person, "working pattern", exclude=["user", "working_pattern"])
        person.save(update_fields=["working_pattern"])
        return person


def add_absence(
    actor: Person, person_id: int, *, kind: str, starts_on: date, ends_on: date, note: str = ""
) -> Absence:
    errors: Errors = {}
    if ends_on < starts_on:
        errors["ends_on"] = [
            f"The absence ends ({ends_on:%d %b %Y}) before it starts ({starts_on:%d %b %Y}); "
            "the last day must be on or after the first."
        ]
    with action_transaction():
        person = _managed_person(actor, person_id)
        absence = Absence(
            person=person, kind=kind, starts_on=starts_on, ends_on=ends_on, note=note.strip()
        )
        if not errors:
            errors.update(errors_of(absence))
            clash = person.absences.filter(starts_on__lte=ends_on, ends_on__gte=starts_on).first()
            if clash is not None:
                errors.setdefault("starts_on", []).append(
                    f"{person.display_name} is already away then "
                    f"({clash.get_kind_display().lower()}, "
                    f"{clash.starts_on:%d %b}-{clash.ends_on:%d %b %Y}); "
                    "change or remove that absence first."
                )
        refuse_if(errors, "absence")
        absence.save()
        # The unit's capacity moved: its promises' forecasts are due, and an absence that
        # covers today re-plans the person's open work (handled once this commits).
        publish(
            "absence.recorded",
            f"person:{person.pk}",
            {"person": person.pk, "unit": person.unit_id, "starts_on": str(starts_on), "ends_on": str(ends_on)},
        )
        return absence


def remove_absence(actor: Person, absence_id: int) -> Absence:
    with action_transaction():
        absence = Absence.objects.filter(pk=absence_id).first()
        if absence is None:
            raise NotFound("That absence no longer exists; it may have been removed already.")
        person = _managed_person(actor, absence.person_id)
        absence.delete()
        publish("absence.removed", f"person:{person.pk}", {"person": person.pk, "unit": person.unit_id})
        return absence


# --- API tokens --------------------------------------------------------------------------------


def revoke_api_tokens(
    user: AbstractBaseUser | AnonymousUser, token_ids: Iterable[int], *, now: datetime | None = None
) -> int:
    """Revoke tokens at once. People revoke their own; administrators anyone's. Returns how
    many were revoked (tokens revoked earlier are left as they were)."""
    ids = list(token_ids)
    with action_transaction():
        tokens = ApiToken.objects.filter(pk__in=ids, revoked_at__isnull=True)
        may_revoke_any = getattr(user, "is_superuser", False) or is_admin(person_of(user))
        if not may_revoke_any and tokens.exclude(user_id=user.pk or 0).exists():
            raise Forbidden("You can only revoke your own API tokens.")
        return tokens.update(revoked_at=now or timezone.now())
