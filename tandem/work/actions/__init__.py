"""Every state change of cases and service requests, one named function each, by concept:

- ``intake``: submitting a request;
- ``lifecycle``: the back office's and the requester's moves;
- ``conversation``: comments, notes and advice;
- ``cases``: opening and closing a customer's case;
- ``queue``: the team queue's saved views and bulk moves (one action per request);
- ``time``: time entries, people's own hands-on time on a request;
- ``deadlines``: the worker's duties on the clocks, and a change of a request's agreement;
- ``approvals``: an approver's yes or no before work starts;
- ``moves``: what they all share (the row lock, the status machine, the hash-chained event).

Each action owns its transaction (``durable=True``: it is never nested inside a caller's
transaction, so "returned" means "committed"), locks the row it changes, checks the life
cycle and the actor's rights, and appends its event.
"""

from tandem.work.actions.approvals import approve_request, decided_words, decline_request, remind_waiting_approvers
from tandem.work.actions.cases import close_case, create_case
from tandem.work.actions.conversation import acknowledge_advice, add_comment, decide_advice
from tandem.work.actions.deadlines import (
    change_agreement,
    close_expired_resolutions,
    fire_due_response_alerts,
    fire_due_sla_alerts,
)
from tandem.work.actions.intake import Submission, submit_request, validate_intake
from tandem.work.actions.lifecycle import (
    accept_resolution,
    ask_requester,
    assign_request,
    cancel_request,
    mark_step,
    provide_information,
    reopen_request,
    reopen_window_ends,
    resolve_request,
    resume_request,
    start_request,
    unassign_request,
    wait_on_team,
    wait_third_party,
)
from tandem.work.actions.moves import TITLE_LIMIT, hand_over_locked
from tandem.work.actions.queue import BulkOutcome, bulk_move, delete_view, rename_view, save_view
from tandem.work.actions.time import log_time, parse_duration

__all__ = [
    "TITLE_LIMIT",
    "BulkOutcome",
    "Submission",
    "accept_resolution",
    "acknowledge_advice",
    "add_comment",
    "approve_request",
    "ask_requester",
    "assign_request",
    "bulk_move",
    "cancel_request",
    "change_agreement",
    "close_case",
    "close_expired_resolutions",
    "create_case",
    "decide_advice",
    "decided_words",
    "decline_request",
    "delete_view",
    "fire_due_response_alerts",
    "fire_due_sla_alerts",
    "hand_over_locked",
    "log_time",
    "mark_step",
    "parse_duration",
    "provide_information",
    "remind_waiting_approvers",
    "rename_view",
    "reopen_request",
    "reopen_window_ends",
    "resolve_request",
    "resume_request",
    "save_view",
    "start_request",
    "submit_request",
    "unassign_request",
    "validate_intake",
    "wait_on_team",
    "wait_third_party",
]
