"""Forms of the calendar and agreement pages. They parse what was typed (interval lines,
durations like "1d 4h"); ``tandem.agreements.actions`` holds the rules, so the pages and the
API refuse the same input."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from tandem.agreements.models import Agreement, CustomerAgreement
from tandem.agreements.queries import day_seconds, service_day_seconds
from tandem.catalogue.models import Service
from tandem.engines.agreements.legs import minutes_words, parse_duration
from tandem.engines.worktime import CalendarError, CalendarSpec
from tandem.engines.worktime.spec import WEEKDAY_NAMES
from tandem.org.forms import ManageForm
from tandem.org.models import Side, Unit

INTERVAL = re.compile(r"^(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})$")
DURATION_HELP = 'Working time: "4h", "3d", "1d 4h", "45m" or minutes ("90"). A day is a working day of the calendar.'


def _pad(clock: str) -> str:
    return clock if len(clock) == 5 else f"0{clock}"


def parse_intervals(text: str, where: str) -> list[list[str]]:
    """``"09:00-12:30, 13:30-17:30"`` → ``[["09:00", "12:30"], ["13:30", "17:30"]]``."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        found = INTERVAL.match(part)
        if found is None:
            raise forms.ValidationError(f"{where}: {part!r} is not an interval like 09:00-12:30.")
        out.append([_pad(found.group(1)), _pad(found.group(2))])
    return out


def parse_dated_lines(text: str, field: str, hours_needed: bool) -> dict[str, list[list[str]] | None]:
    """Lines ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM-HH:MM[, HH:MM-HH:MM]`` → date → hours."""
    out: dict[str, list[list[str]] | None] = {}
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        day, _, rest = line.partition(" ")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise forms.ValidationError(f"{line!r}: start the line with a date, YYYY-MM-DD.")
        if day in out:
            raise forms.ValidationError(f"{day} is given twice; put all its hours on one line.")
        hours = parse_intervals(rest, day) if rest.strip() else None
        if hours_needed and hours is None:
            raise forms.ValidationError(f"{day}: an opening needs its hours, e.g. {day} 09:00-13:00.")
        out[day] = hours if hours is not None else []
    return out


def dated_lines(data: dict[str, list[list[str]]]) -> str:
    return "\n".join(f"{day} {', '.join(f'{a}-{b}' for a, b in hours)}".strip() for day, hours in sorted(data.items()))


def _field_of(error: CalendarError) -> str:
    head = str(error).split(":", 1)[0]
    found = re.match(r"weekly\[(\d)\]", head)
    if found:
        return f"day_{found.group(1)}"
    name = head.split("[", 1)[0].strip()
    return name if name in ("country", "subdivision", "closures", "openings") else "__all__"


class CalendarForm(ManageForm):
    country = forms.CharField(
        max_length=8, required=False, help_text="Public holidays of this country (ISO code, e.g. GB); blank for none."
    )
    subdivision = forms.CharField(
        max_length=16,
        required=False,
        help_text="A region of the country, e.g. ENG or SCT; blank for the whole country.",
    )
    closures = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One date a line. A date alone closes the whole day; a date with hours keeps only "
        "those hours open, e.g. 2026-12-24 09:00-12:30.",
    )
    openings = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Extra working dates with their hours, one a line, e.g. 2026-12-27 10:00-14:00 "
        "(these hours apply even on a weekend or a holiday).",
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone
        days = {
            f"day_{i}": forms.CharField(
                label=name,
                required=False,
                max_length=200,
                help_text="" if i else "e.g. 09:00-12:30, 13:30-17:30; blank: closed.",
            )
            for i, name in enumerate(WEEKDAY_NAMES)
        }
        self.fields = {**days, **self.fields}

    @staticmethod
    def initial_for(data: dict[str, Any]) -> dict[str, Any]:
        weekly = data.get("weekly") or {}
        return {
            **{f"day_{i}": ", ".join(f"{a}-{b}" for a, b in weekly.get(str(i), [])) for i in range(7)},
            "country": data.get("country") or "",
            "subdivision": data.get("subdivision") or "",
            "closures": dated_lines(data.get("closures") or {}),
            "openings": dated_lines(data.get("openings") or {}),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        weekly: dict[str, list[list[str]]] = {}
        for i, name in enumerate(WEEKDAY_NAMES):
            try:
                weekly[str(i)] = parse_intervals(cleaned.get(f"day_{i}", ""), name)
            except forms.ValidationError as exc:
                self.add_error(f"day_{i}", exc)
        dated: dict[str, Any] = {}
        for name in ("closures", "openings"):
            try:
                dated[name] = parse_dated_lines(cleaned.get(name, ""), name, hours_needed=name == "openings")
            except forms.ValidationError as exc:
                self.add_error(name, exc)
        if self.errors:
            return cleaned
        data = {
            "tz": self.time_zone,
            "weekly": {k: v for k, v in weekly.items() if v},
            "country": cleaned.get("country", "").strip() or None,
            "subdivision": cleaned.get("subdivision", "").strip() or None,
            **dated,
        }
        try:
            CalendarSpec.from_data(data)
        except CalendarError as error:
            message = re.sub(r"^weekly\[(\d)\]", lambda m: WEEKDAY_NAMES[int(m.group(1))], str(error))
            self.add_error(_field_of(error), message)
        cleaned["data"] = data
        return cleaned


def _duration(form: forms.Form, field: str, day: int, *, zero_ok: bool = False) -> int | None:
    text = (form.cleaned_data.get(field) or "").strip()
    if zero_ok and text in ("", "0"):
        return 0
    try:
        return parse_duration(text, day, str(form.fields[field].label or field))
    except ValueError as exc:
        form.add_error(field, str(exc))
        return None


class AgreementForm(ManageForm):
    service = forms.ModelChoiceField(queryset=Service.objects.none(), empty_label="— choose the service —")
    name = forms.CharField(max_length=120, required=False, help_text="Blank: named after the service.")
    requesting_unit = forms.ModelChoiceField(
        queryset=Unit.objects.all(), required=False, empty_label="Every requesting unit"
    )
    channel = forms.ChoiceField(
        choices=[("", "Both channels"), ("internal", "Internal"), ("external", "External (customers)")], required=False
    )
    first_response_minutes = forms.CharField(label="First response", max_length=40, help_text=DURATION_HELP)
    resolution_minutes = forms.CharField(label="Resolution", max_length=40, help_text=DURATION_HELP)
    target_percent = forms.DecimalField(
        label="Target %", max_digits=5, decimal_places=2, initial=90, help_text="Share of requests to meet the targets."
    )
    pause_third_party = forms.BooleanField(label="Pause the clock while waiting on a third party", required=False)
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, services: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(a: Agreement) -> dict[str, Any]:
        day = service_day_seconds(a.service)
        return {
            "service": a.service_id,
            "name": a.name,
            "requesting_unit": a.requesting_unit_id,
            "channel": a.channel,
            "first_response_minutes": minutes_words(a.first_response_minutes, day),
            "resolution_minutes": minutes_words(a.resolution_minutes, day),
            "target_percent": a.target_percent,
            "pause_third_party": "waiting_third_party" in (a.pause_statuses or []),
            "active": a.active,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        service = cleaned.get("service")
        day = service_day_seconds(service) if service is not None else 0
        for field in ("first_response_minutes", "resolution_minutes"):
            if field in cleaned:
                cleaned[field] = _duration(self, field, day)
        return cleaned

    def for_action(self) -> dict[str, Any]:
        c = self.cleaned_data
        return {
            "name": c["name"],
            "requesting_unit": c["requesting_unit"],
            "channel": c["channel"] or "",
            "first_response_minutes": c["first_response_minutes"],
            "resolution_minutes": c["resolution_minutes"],
            "target_percent": float(c["target_percent"]),
            "pause_statuses": ["waiting_requester", *(["waiting_third_party"] if c["pause_third_party"] else [])],
            "active": c["active"],
        }


class ServicesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} — {obj.unit.name}"


class CustomerAgreementForm(ManageForm):
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), empty_label="— choose the front-office unit —")
    name = forms.CharField(max_length=120)
    resolution_minutes = forms.CharField(
        label="Customer target",
        max_length=40,
        help_text=DURATION_HELP + " Counted in the front-office unit's calendar.",
    )
    margin_minutes = forms.CharField(
        label="Margin", max_length=40, required=False, help_text="Working time kept in hand; blank or 0 for none."
    )
    services = ServicesField(
        queryset=Service.objects.filter(unit__side=Side.BACK).select_related("unit").order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="The back-office services the promise depends on, done one after the other.",
    )
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(ca: CustomerAgreement) -> dict[str, Any]:
        day = day_seconds(ca.unit)
        return {
            "unit": ca.unit_id,
            "name": ca.name,
            "resolution_minutes": minutes_words(ca.resolution_minutes, day),
            "margin_minutes": minutes_words(ca.margin_minutes, day) if ca.margin_minutes else "0",
            "services": [s.pk for s in ca.services.all()],
            "active": ca.active,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        unit = cleaned.get("unit")
        day = day_seconds(unit) if unit is not None else 0
        if "resolution_minutes" in cleaned:
            cleaned["resolution_minutes"] = _duration(self, "resolution_minutes", day)
        if "margin_minutes" in cleaned:
            cleaned["margin_minutes"] = _duration(self, "margin_minutes", day, zero_ok=True)
        return cleaned

    def for_action(self) -> dict[str, Any]:
        c = self.cleaned_data
        return {k: c[k] for k in ("name", "resolution_minutes", "margin_minutes", "active")} | {
            "services": list(c["services"])
        }
