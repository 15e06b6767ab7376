"""The team queue's tools: saved views (a lead names a filter for the team) and bulk moves
(several requests, each the same single action with its own event).

A bulk move is never one UPDATE: it calls ``assign_request``, ``unassign_request`` or
``add_comment`` once per request, each in its own transaction with its own checks and event.
So it is done request by request, not all or nothing: each request the action allows is moved,
each it refuses is left exactly as it was, and the outcome says which and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from tandem.org.models import Person, Unit
from tandem.org.queries import leads_unit, unit_members
from tandem.outbox.actions import action_transaction
from tandem.refusal import Forbidden, Invalid, NotFound, Refused
from tandem.work.actions.conversation import add_comment
from tandem.work.actions.lifecycle import assign_request, unassign_request
from tandem.work.actions.moves import _check_text
from tandem.work.forms import QueueFilterForm
from tandem.work.models import SavedView, ServiceRequest

#: At most this many requests in one bulk move: a page of the queue and some.
BULK_LIMIT = 100
BULK_VERBS = ("assign", "unassign", "note")
_FILTER_KEYS = frozenset({"unit", "channel", "status", "service", "assignee", "age", "sort"})


# --- saved views ---------------------------------------------------------------------------------


def _require_lead(actor: Person, unit: Unit) -> None:
    if not leads_unit(actor, unit.pk):
        raise Forbidden(f"Only a lead of {unit.name} can save, rename or delete the team's views.")


def _check_name(unit: Unit, name: str, *, other_than: int | None = None) -> str:
    name = _check_text(name, "Name", limit=SavedView.NAME_LIMIT)
    taken = SavedView.objects.filter(unit=unit, name__iexact=name)
    if other_than is not None:
        taken = taken.exclude(pk=other_than)
    if taken.exists():
        raise Invalid(f"{unit.name} already has a view called “{name}”; choose another name.",
                      errors={"name": ["Already used in this team."]})
    return name


def _check_filter(unit: Unit, query: str) -> str:
    """The queue's filters as they would apply, normalised; refused when any does not parse."""
    data = QueryDict(query or "")
    unknown = sorted(set(data) - _FILTER_KEYS)
    if unknown or len(query or "") > 500:
        raise Invalid(f"The filter has parts the queue does not know ({', '.join(unknown) or 'too long'}); "
                      "save it from the queue page.", errors={"query": ["Not a queue filter."]})
    form = QueueFilterForm(data, units=[unit], unit=unit, services=list(unit.services.all()),
                           members=list(unit_members(unit.pk)))
    if form.errors or data.get("unit", str(unit.pk)) != str(unit.pk):
        wrong = ", ".join(f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items())
        wrong = wrong or "another unit"
        raise Invalid(f"The filter does not parse ({wrong}); choose the filters again on the queue page.",
                      errors={"query": [wrong]})
    return form.query_string(unit=unit.pk)


def save_view(actor: Person, unit_id: int, name: str, query: str) -> SavedView:
    with action_transaction():
        unit = Unit.objects.filter(pk=unit_id).first()
        if unit is None:
            raise NotFound("There is no such unit.")
        _require_lead(actor, unit)
        return SavedView.objects.create(unit=unit, name=_check_name(unit, name), query=_check_filter(unit, query),
                                        created_by=actor)


def _saved(actor: Person, view_id: int) -> SavedView:
    view = SavedView.objects.select_for_update().select_related("unit").filter(pk=view_id).first()
    if view is None:
        raise NotFound("There is no such saved view; it may have been deleted.")
    _require_lead(actor, view.unit)
    return view


def rename_view(actor: Person, view_id: int, name: str) -> SavedView:
    with action_transaction():
        view = _saved(actor, view_id)
        view.name = _check_name(view.unit, name, other_than=view.pk)
        view.save(update_fields=["name"])
        return view


def delete_view(actor: Person, view_id: int) -> None:
    with action_transaction():
        _saved(actor, view_id).delete()


# --- bulk moves ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkOutcome:
    request_id: int
    reference: str
    done: bool
    message: str = ""


def bulk_move(actor: Person, verb: str, request_ids: list[int], **values: Any) -> list[BulkOutcome]:
    """``verb`` (assign, unassign, note) on each request, one action each, in the order given:
    ``assignee`` (a person's id) for assign, with an optional ``reason``; ``note`` for note (an
    internal note). Refuses the whole move only when it cannot apply to any request (no request
    chosen, too many, no note, an unknown verb); otherwise one outcome per request."""
    ids = list(dict.fromkeys(request_ids))
    if verb not in BULK_VERBS:
        raise Invalid(f"Choose what to do: {', '.join(BULK_VERBS)}.", errors={"verb": ["Unknown move."]})
    if not ids:
        raise Invalid("Tick the requests to act on first.", errors={"requests": ["None chosen."]})
    if len(ids) > BULK_LIMIT:
        raise Invalid(f"{len(ids)} requests chosen; at most {BULK_LIMIT} at a time.",
                      errors={"requests": [f"At most {BULK_LIMIT}."]})
    if verb == "note":
        values["note"] = _check_text(values.get("note", ""), "Note")
    if verb == "assign" and not values.get("assignee"):
        raise Invalid("Choose whom to assign them to.", errors={"assignee": ["This field is required."]})
    outcomes = []
    references = dict(ServiceRequest.objects.filter(pk__in=ids).values_list("pk", "reference"))
    for pk in ids:
        reference = references.get(pk) or f"#{pk}"  # an id no request has: refused below
        try:
            if verb == "assign":
                assign_request(actor, pk, int(values["assignee"]), reason=values.get("reason") or "")
            elif verb == "unassign":
                unassign_request(actor, pk)
            else:
                add_comment(actor, pk, values["note"], internal=True)
        except Refused as refusal:
            outcomes.append(BulkOutcome(pk, reference, False, refusal.message))
        else:
            outcomes.append(BulkOutcome(pk, reference, True))
    return outcomes
