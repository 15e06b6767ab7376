"""Forms of the management pages for units, people, skills, working patterns and absences.

They only parse what was typed (text to dates, times, numbers); the rules (unique slugs, known
time zones, no overlapping intervals) live in ``tandem.org.actions`` so that the pages and the
API refuse the same input with the same messages.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from tandem.org.actions import WEEKDAYS
from tandem.org.lockout import Lockout, client_ip, lockout_for
from tandem.org.models import Absence, Person, PersonSkill, Role, Side, Skill, Unit
from tandem.org.sso import password_refusal

TIME_ZONE_INPUT = forms.TextInput(
    attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}
)
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ManageForm(forms.Form):
    """No colon after labels, as on every other page."""

    label_suffix = ""


class UnitForm(ManageForm):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        max_length=60,
        help_text="A short name for addresses and the API: letters, digits and hyphens.",
    )
    side = forms.ChoiceField(choices=Side.choices, widget=forms.RadioSelect)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    time_zone = forms.CharField(
        max_length=64,
        initial="Europe/London",
        widget=TIME_ZONE_INPUT,
        help_text="Turnarounds are counted in this zone's working days, e.g. Europe/London.",
    )

    @staticmethod
    def initial_for(unit: Unit) -> dict[str, Any]:
        return {f: getattr(unit, f) for f in ("name", "slug", "side", "description", "time_zone")}


class SkillForm(ManageForm):
    name = forms.CharField(max_length=80)
    slug = forms.SlugField(max_length=60, help_text="Letters, digits and hyphens, e.g. payroll-uk.")


class PersonDetailsForm(ManageForm):
    """What an administrator changes about someone: name, email, unit, role, preferences."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(help_text="Notifications are sent here.")
    unit = forms.ModelChoiceField(queryset=Unit.objects.all(), empty_label="— choose a unit —")
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.MEMBER,
        help_text="Leads manage their unit's people and catalogue; administrators everything.",
    )
    job_title = forms.CharField(max_length=120, required=False)
    time_zone = forms.CharField(max_length=64, initial="Europe/London", widget=TIME_ZONE_INPUT)
    email_notifications = forms.BooleanField(
        required=False, initial=True, label="Email me when it is my move (at most hourly)"
    )


class PersonCreateForm(PersonDetailsForm):
    username = forms.CharField(max_length=150, help_text="What they type to sign in.")
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="A first password to give them yourself; at least 8 characters.",
    )
    field_order = ["username", "first_name", "last_name", "email", "password"]


class PersonEditForm(PersonDetailsForm):
    active = forms.BooleanField(
        required=False,
        initial=True,
        label="Active (can sign in)",
        help_text="Deactivating keeps the person's history; they can no longer sign in.",
    )

    @staticmethod
    def initial_for(person: Person) -> dict[str, Any]:
        user = person.user
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "unit": person.unit_id,
            "role": person.role,
            "job_title": person.job_title,
            "time_zone": person.time_zone,
            "email_notifications": person.email_notifications,
            "active": user.is_active,
        }


class PeopleFilterForm(ManageForm):
    q = forms.CharField(
        required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"})
    )
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.all(), required=False, empty_label="All units"
    )


class SkillLevelsForm(ManageForm):
    """One level selector per skill; "—" removes the skill from the person."""

    def __init__(self, *args: Any, skills: list[Skill], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for skill in skills:
            self.fields[f"skill_{skill.pk}"] = forms.TypedChoiceField(
                label=skill.name,
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "—"), *PersonSkill.Level.choices],
            )

    @staticmethod
    def initial_for(person: Person) -> dict[str, int]:
        return {f"skill_{ps.skill_id}": ps.level for ps in person.skill_levels.all()}

    def levels(self) -> dict[int, int | None]:
        return {
            int(name.removeprefix("skill_")): value for name, value in self.cleaned_data.items()
        }


INTERVAL_SPLIT = re.compile(r"\s*(?:-|-|—|to)\s*")
LOOSE_CLOCK = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?$")


def _clock(text: str) -> str:
    """Accept 9, 9:00 or 09.00 and write it as HH:MM; the action refuses anything else."""
    match = LOOSE_CLOCK.match(text.strip())
    if match is None:
        return text.strip()
    return f"{int(match[1]):02d}:{match[2] or '00'}"


def parse_intervals(text: str) -> list[list[str]]:
    """ "09:00-12:30, 13:30-17:30" → [["09:00", "12:30"], ["13:30", "17:30"]]."""
    intervals = []
    for piece in re.split(r"[,;\n]+", text or ""):
        if piece.strip():
            intervals.append([_clock(p) for p in INTERVAL_SPLIT.split(piece.strip(), maxsplit=1)])
    return intervals


def format_intervals(intervals: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


class WorkingPatternForm(ManageForm):
    """Each weekday as text, e.g. "09:00-12:30, 13:30-17:30"; empty for a day off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in WEEKDAYS:
            self.fields[name] = forms.CharField(
                label=name.title(),
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "day off", "spellcheck": "false"}),
            )

    @staticmethod
    def initial_for(person: Person) -> dict[str, str]:
        pattern = person.working_pattern or {}
        return {
            name: format_intervals(pattern.get(str(day), [])) for day, name in enumerate(WEEKDAYS)
        }

    def pattern(self) -> dict[int | str, list[list[str]]]:
        return {
            day: parse_intervals(self.cleaned_data.get(name, ""))
            for day, name in enumerate(WEEKDAYS)
        }


class AbsenceForm(ManageForm):
    kind = forms.ChoiceField(choices=Absence.Kind.choices)
    starts_on = forms.DateField(label="First day", widget=DATE_INPUT)
    ends_on = forms.DateField(label="Last day", widget=DATE_INPUT)
    note = forms.CharField(max_length=200, required=False)


# --- signing in --------------------------------------------------------------------------------


class LockoutMessageMixin:
    """A failed sign-in that failed because of a lockout says so, and until when.

    The backend (``tandem.org.lockout.ThrottledModelBackend``) does the refusing; this only
    picks the message, so it is looked up after a failure, never before a success.
    """

    request: Any
    cleaned_data: dict[str, Any]
    lockout: Lockout | None = None

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            username = self.cleaned_data.get("username")
            if username:
                self.lockout = lockout_for(username, client_ip(self.request))
                if self.lockout is not None:
                    raise forms.ValidationError(self.lockout.message(), code="locked_out") from None
            raise


class SignInForm(LockoutMessageMixin, AuthenticationForm):
    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        refusal = password_refusal(user)
        if refusal:
            self.sign_in_elsewhere = True
            raise forms.ValidationError(refusal, code="sign_in_elsewhere")


class AdminSignInForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass
