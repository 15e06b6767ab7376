"""Which requests of a service wait for an approver before work starts, and who that is
(docs/approvals.md).

A service requires approval when it names an approver, or says the requester's lead approves,
or the person the requester names in one of its email fields. It may limit approval to the
requests whose number field is above an amount, checked with the intake rules' own number check
(``tandem.engines.intake_rules``): a value the rule "at most the amount" accepts needs no
approval, any other does.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from tandem.catalogue.models import ApprovalBy, Service
from tandem.engines.intake_rules import Rules, number, number_problems
from tandem.org.models import Person, Role
from tandem.org.queries import people_visible_to
from tandem.refusal import Invalid


def approval_reason(service: Service, intake: dict[str, Any], requester_id: int) -> str | None:
    """Why a request with these intake values needs approval, in words; None when it does not.

    Nobody approves their own request: when the requester is the named approver, none is asked
    (who the lead or the named person is, ``approver_for`` decides)."""
    if not service.requires_approval:
        return None
    if service.approval_by == ApprovalBy.NAMED and service.approver_id == requester_id:
        return None
    if not service.approval_field or service.approval_above is None:
        return f"{service.name} needs approval before work starts"
    label = next((f.label for f in service.fields.all() if f.key == service.approval_field), service.approval_field)
    given = intake.get(service.approval_field)
    if given in (None, ""):
        return f"{label} was not given, so it may be above {number(service.approval_above)}"
    try:
        value = Decimal(str(given))
    except InvalidOperation:
        return f"{label} is not a number, so it may be above {number(service.approval_above)}"
    if not number_problems(value, Rules(max_value=service.approval_above)):
        return None
    return f"{label} {number(value)} is above {number(service.approval_above)}"


def approver_for(service: Service, intake: dict[str, Any], requester: Person, *, api: bool = False) -> Person | None:
    """Who approves this request of a service that requires approval; None when that is the
    requester (nobody approves their own request, so none is asked).

    Refused (422, nothing created) when there is nobody to ask: the requester's unit has no
    lead, or the email field names nobody who may approve. The field's error is keyed by its
    key (``intake.<key>`` for the API), where the form shows it beside what was typed."""
    if service.approval_by == ApprovalBy.NAMED:
        return service.approver if service.approver_id != requester.pk else None
    if service.approval_by == ApprovalBy.LEAD:
        leads = list(
            Person.objects.filter(unit_id=requester.unit_id, role=Role.LEAD, user__is_active=True)
            .select_related("user").order_by("user__first_name", "user__last_name", "pk")
        )
        if not leads:
            message = (
                f"{service.name} is approved by the requester's lead, and {requester.unit.name} has no lead "
                "in Tandem. Ask an administrator to name your unit's lead, then send it again."
            )
            raise Invalid(message, errors={"approver": [message]})
        # The first by name; a lead asking is their own approver (none is asked), as a named
        # approver asking is.
        return None if any(lead.pk == requester.pk for lead in leads) else leads[0]
    return _named_in_field(service, intake, requester, api=api)


def _named_in_field(service: Service, intake: dict[str, Any], requester: Person, *, api: bool) -> Person:
    key = service.approver_field
    label = next((f.label for f in service.fields.all() if f.key == key), key)
    address = str(intake.get(key) or "").strip()

    def refuse(problem: str) -> Invalid:
        return Invalid(f"{label}: {problem}", errors={f"intake.{key}" if api else key: [problem]})

    if not address:
        raise refuse("give the email address of the person who approves this request.")
    found = list(
        people_visible_to(requester.user).filter(user__email__iexact=address, user__is_active=True)[:2]
    )
    if not found:
        raise refuse(
            f"nobody active in Tandem has the address {address}; give the work address of a colleague "
            "who approves this request."
        )
    if len(found) > 1:
        raise refuse(f"more than one person has the address {address}; ask an administrator to correct it.")
    if found[0].pk == requester.pk:
        raise refuse("you cannot approve your own request; give the address of the person who approves it.")
    return found[0]


def _above(service: Service) -> str:
    """" only above 5,000 in Amount" when the rule has an amount; empty otherwise."""
    if not service.approval_field or service.approval_above is None:
        return ""
    label = next((f.label for f in service.fields.all() if f.key == service.approval_field), service.approval_field)
    return f" only above {format(service.approval_above.normalize(), ',f')} in {label}"


def rule_in_words(service: Service) -> str:
    """The service's approval rule as its owner reads it on the service editor."""
    if not service.requires_approval:
        return "Nobody: requests go straight to the team's queue."
    if service.approval_by == ApprovalBy.NAMED:
        who = service.approver.display_name if service.approver else ""
    elif service.approval_by == ApprovalBy.LEAD:
        who = "The requester's lead"
    else:
        label = next((f.label for f in service.fields.all() if f.key == service.approver_field), service.approver_field)
        who = f"The person the requester names in {label}"
    days = service.approval_remind_days
    reminded = f"reminded after {days} working day{'s' if days != 1 else ''}" if days else "never reminded"
    return f"{who} approves{_above(service) or ' every request'}; {reminded}."


def approval_notice(service: Service, requester: Person) -> tuple[str, bool] | None:
    """What the submit form says before sending: who will approve this requester's request
    (``approval_reason`` and ``approver_for`` decide, the same calls the submission makes), and
    whether that is a refusal the submission would give (True: a unit with no lead).

    None when none is asked of this requester (no rule, or they are the approver). For the
    person named in a field, the field is empty on a blank form, so only its label is said."""
    if approval_reason(service, {}, requester.pk) is None:
        return None
    above = _above(service)
    if service.approval_by == ApprovalBy.FIELD:
        label = next((f.label for f in service.fields.all() if f.key == service.approver_field), service.approver_field)
        return f"Needs approval by the person you name in {label}{above}.", False
    try:
        approver = approver_for(service, {}, requester)
    except Invalid as exc:
        return exc.message, True
    if approver is None:
        return None
    if service.approval_by == ApprovalBy.LEAD:
        return f"Needs approval by your lead, {approver.display_name}{above}.", False
    return f"Needs approval by {approver.display_name}{above}.", False
