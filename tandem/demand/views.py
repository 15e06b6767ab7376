"""Pages: a back-office unit's four-week plan; a front-office lead's declared demand."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from tandem.demand.actions import Declaration, declare_weeks
from tandem.demand.queries import (
    declaration_rows,
    demand_overview,
    four_week_plan,
    may_declare_for,
    plan_units_for,
    weeks_ahead,
)
from tandem.org.models import Person, Side, Unit
from tandem.org.pages import refused, staff_page
from tandem.org.queries import leads_unit, units_visible_to
from tandem.org.views import page
from tandem.refusal import Forbidden, Invalid, Refused


@staff_page
def plan(request: HttpRequest, me: Person) -> HttpResponse:
    units = plan_units_for(request.user)
    if not units:
        return refused(request, Forbidden("The four-week plan of a back-office unit is for its lead, executives "
                                          "and administrators."))
    slug = request.GET.get("unit") or (me.unit.slug if me.unit in units else units[0].slug)
    unit = next((u for u in units if u.slug == slug), None)
    if unit is None:
        known = units_visible_to(me.user).filter(slug=slug[:50], side=Side.BACK).first() if "\x00" not in slug else None
        return refused(request, Forbidden(f"{known.name}'s plan is for its lead, executives and administrators.")
                       if known else Invalid(f"There is no back-office unit {slug[:50]!r}: choose one from the list."))
    weeks = four_week_plan(unit)
    peak = max([max(w.hours, w.capacity_hours) for w in weeks] + [1.0])
    return page(request, "demand/plan.html", {
        "unit": unit, "units": units, "weeks": weeks, "peak": peak,
        "may_borrow": leads_unit(me, unit.pk),  # loans are asked by the unit's leads (and administrators)
    })


@staff_page
def overview(request: HttpRequest, me: Person) -> HttpResponse:
    units = demand_overview(request.user)
    if not units:
        return refused(request, Forbidden("The four weeks of every team are for back-office leads (their own), "
                                          "executives and administrators."))
    return page(request, "demand/overview.html", {"units": units})


@staff_page
def declare(request: HttpRequest, me: Person) -> HttpResponse:
    unit: Unit = me.unit
    if not may_declare_for(me, unit):
        return refused(request, Forbidden("Declaring the demand ahead is for the lead of a front-office unit."))
    today = timezone.localdate()
    mondays = weeks_ahead(today + timedelta(days=1))  # four weeks still to come
    typed: dict[str, str] = {}
    problems: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        entries: dict[str, Declaration] = {}
        for key in request.POST:
            value = request.POST.get(key, "")
            if not key.startswith("n-") or value.strip() == "":
                continue
            typed[key] = value
            _, service_id, week = key.split("-", 2)
            entries[key] = Declaration(int(service_id) if service_id.isdigit() else 0, week, value,
                                       request.POST.get(f"note-{service_id}-{week}", ""))
        try:
            saved = declare_weeks(me, unit.pk, entries, today=today)
        except Refused as exc:
            status = exc.status
            for name, reasons in exc.errors.items():
                problems[name.split(".", 1)[0]] = " ".join(reasons)
        else:
            messages.success(request, f"Saved {len(saved)} week{'s' if len(saved) != 1 else ''} of demand for "
                                      f"{unit.name}.")
            return redirect("demand:declare")
    rows = [
        {"service": row.service, "cells": [
            {
                "week": week, "forecast": forecast, "key": (key := f"n-{row.service.pk}-{week.isoformat()}"),
                "value": typed.get(key, "" if declared is None else str(declared.count)),
                "problem": problems.get(key, ""),
            }
            for week, forecast, declared in row.cells
        ]}
        for row in declaration_rows(unit, mondays, today)
    ]
    response = page(request, "demand/declare.html", {
        "unit": unit, "mondays": mondays, "rows": rows, "problems": problems,
    })
    response.status_code = status
    return response
