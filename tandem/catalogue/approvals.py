"""Which requests of a service wait for its approver before work starts (docs/approvals.md).

A service names one approver; it may limit approval to the requests whose number field is
above an amount. The amount is checked with the intake rules' own number check
(``tandem.engines.intake_rules``): a value the rule "at most the amount" accepts needs no
approval, any other does.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from tandem.catalogue.models import Service
from tandem.engines.intake_rules import Rules, number, number_problems


def approval_reason(service: Service, intake: dict[str, Any], requester_id: int) -> str | None:
    """Why a request with these intake values needs approval, in words; None when it does not.

    Nobody approves their own request: when the requester is the approver, none is asked."""
    if service.approver_id is None or service.approver_id == requester_id:
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
