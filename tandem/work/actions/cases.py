"""Cases: the customer's matter, opened and closed by its owner.
"""

from __future__ import annotations

from django.utils import timezone

from tandem.org.models import Person
from tandem.org.queries import leads_unit
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Forbidden, NotFound
from tandem.work.actions.moves import TITLE_LIMIT, _check_text
from tandem.work.addresses import NO_SUCH_CASE
from tandem.work.models import Case
from tandem.work.numbering import give_number
from tandem.work.queries import cases_visible_to


def create_case(actor: Person, *, customer_reference: str, title: str) -> Case:
    customer_reference = _check_text(customer_reference, "Customer reference", limit=80)
    title = _check_text(title, "Title", limit=TITLE_LIMIT)
    with action_transaction():
        case = Case(customer_reference=customer_reference, title=title, owner=actor, unit_id=actor.unit_id)
        # Numbered within the owner's organisation (C-NORTHERN-000007), under its numbering's lock.
        give_number(case, actor.unit.organisation)
        case.save()
        return case


def close_case(actor: Person, case_id: int) -> Case:
    with action_transaction():
        case = cases_visible_to(actor.user).select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound(NO_SUCH_CASE)
        if case.owner_id != actor.pk and not leads_unit(actor, case.unit_id):
            raise Forbidden(f"Only the case owner ({case.owner.display_name}) or their lead can close it.")
        if case.status == Case.CaseStatus.CLOSED:
            raise Conflict("The case is already closed.")
        if case.requests.filter(is_open=True).exists():
            raise Conflict("The case still has open service requests; wait for them or cancel them first.")
        case.status = Case.CaseStatus.CLOSED
        case.closed_at = timezone.now()
        case.save(update_fields=["status", "closed_at"])
        return case
