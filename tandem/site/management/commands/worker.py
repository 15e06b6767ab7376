"""`tandem worker`: the background duties, polled from the database (no broker).

Each duty claims its rows with a conditional UPDATE, so several workers may run at once.
"""

from __future__ import annotations

import imaplib
import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from tandem.allocation.actions import place_new_work
from tandem.changes.notices import send_change_notices
from tandem.changes.service_edits import apply_due_service_edits
from tandem.demand.actions import ask_for_demand, refresh_arrival_forecasts
from tandem.insights.actions import refresh_recent_flow
from tandem.insights.logs import database_log
from tandem.mail.imap import poll_mailbox
from tandem.notifications.actions import send_digests
from tandem.notifications.sending import purge_delivered, send_due
from tandem.outbox.actions import deliver_due, purge_handled
from tandem.promises.actions import mark_material_changes, refresh_forecasts
from tandem.promises.engine import fit_due
from tandem.promises.models import EngineFit
from tandem.voice.actions import send_kudos_digests, send_pulse_invitations
from tandem.voice.months import summarise as summarise_pulse_months
from tandem.voice.service_reports import make_service_reports
from tandem.work.actions import (
    close_expired_resolutions,
    fire_due_response_alerts,
    fire_due_sla_alerts,
    remind_waiting_approvers,
)
from tandem.work.numbering import number_unnumbered

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the background duties: reactions left owed (the outbox), "
        "agreement warnings (80 % of the target used), breaches and missed first responses, "
        "email notification digests (at most one per person per TANDEM_DIGEST_MINUTES) and "
        "closing resolved requests whose reopen window has passed, "
        "reminding approvers who have not decided (once a working day, docs/approvals.md), "
        "refreshing promise forecasts and telling requesters once when a promise slips, "
        "fitting the promise engine on the stored history (once a night, docs/promises.md), "
        "rebuilding this week's and last week's evidence (at most every 10 minutes), "
        "summarising each month for the pulse results once it can no longer change, "
        "forecasting every service's arrivals for the next five weeks (once a day) and asking "
        "front-office leads for the demand they expect (once a month), "
        "emailing the pulse question about the period just ended and last month's kudos digests, "
        "making each client organisation's service report of the month just ended (docs/organisations.md), "
        "placing new and returned work of units in auto allocation mode, "
        "telling each person of the changes taking effect for them (one notice a day), "
        "reading the mailbox for requests and replies by email (TANDEM_IMAP_HOST; docs/email.md), "
        "sending the webhooks owed to subscribers, with retries (docs/webhooks.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run each duty once and exit.")
        parser.add_argument("--interval", type=float, default=30.0, help="Seconds between rounds (default 30).")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            try:
                self._round(options)
            except DatabaseError:
                # A deadlock, a lost connection or a restart of the database: every duty claims
                # its rows in its own transaction, so what this round did not finish is still
                # due and the next round takes it up. Dying here would leave it for nobody.
                logger.exception("A worker round failed on a database error; retrying next round.")
                for conn in connections.all():
                    conn.close()
                if options["once"]:
                    raise CommandError("The round failed on a database error; see the log.") from None
            if options["once"] or stopping:
                return
            if self.more_mail:
                # A backlog of mail larger than one batch: the next round starts at once, so
                # 1,000 queued mails take five rounds back to back, not five intervals, while
                # the other duties still run between batches.
                continue
            deadline = time.monotonic() + options["interval"]
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, deadline - time.monotonic()))
            if stopping:
                return

    def _round(self, options: dict[str, Any]) -> None:
        """Each duty once. First the reactions a process left owed when it died (or that wait
        for a retry), so that nothing committed waits behind the rest of the round."""
        reacted = deliver_due()
        purge_handled()
        # Before anything that names a request: the previous release's requests (a rolling
        # upgrade) get their numbers.
        numbered = number_unnumbered()
        # Mail first among the rest: an incoming mail becomes a request within this round.
        mailed = self._mail()
        warned, breached = fire_due_sla_alerts()
        unanswered = fire_due_response_alerts()
        closed = close_expired_resolutions()
        reminded = remind_waiting_approvers()  # before the digests, which carry the reminders
        noticed = send_change_notices()
        apply_due_service_edits()
        emailed = send_digests()
        mark_material_changes()
        forecasts, slips = refresh_forecasts()
        fitted = fit_due(database_log)  # once a night, by the worker that claims it
        refresh_recent_flow(force=options["once"])
        demand = refresh_arrival_forecasts()
        ask_for_demand()
        summarise_pulse_months()
        invited = send_pulse_invitations()
        send_kudos_digests()
        reports = make_service_reports()
        placed = place_new_work()
        # Last, so that the webhooks this round's duties owe (breaches, slips) go out in it too.
        hooked, hook_failures = send_due()
        purge_delivered()
        if options["verbosity"] >= 2 or options["once"]:
            self.stdout.write(
                f"warned of {warned} and reported {breached} breached agreement(s); "
                f"reported {unanswered} missed first response(s); "
                f"closed {closed} resolved request(s); reminded {reminded} approver(s); "
                f"told {noticed} person(s) of changes taking effect; "
                f"sent {emailed} digest(s); "
                f"refreshed {forecasts} forecast(s) and told of {slips} slipping promise(s); "
                f"{_fit_words(fitted)}"
                f"forecast the arrivals of {demand} service(s); "
                f"sent {invited} pulse question(s); made {reports} client service report(s); "
                f"placed {placed} request(s) of units in auto mode; "
                f"numbered {numbered} request(s) and case(s) the previous release wrote; "
                f"handled {reacted} owed reaction(s); delivered {hooked} webhook(s) "
                f"({hook_failures} failed attempt(s)); {mailed}"
            )

    more_mail = False

    def _mail(self) -> str:
        """The mailbox's round. A mail server that is down or refuses the login must not stop
        the other duties: it is logged and tried again next round."""
        self.more_mail = False
        try:
            done = poll_mailbox()
            self.more_mail = done.more
            return str(done)
        except (OSError, imaplib.IMAP4.error) as error:
            logger.warning("Could not read the mailbox %s: %s; trying again next round.",
                           settings.TANDEM_IMAP_HOST, error)
            return f"could not read the mailbox ({error})"


def _fit_words(fitted: EngineFit | None) -> str:
    if fitted is None:
        return ""
    if fitted.state == EngineFit.State.FITTED:
        return f"fitted the promise engine on {fitted.cases} request(s) in {fitted.fit_seconds} s; "
    return f"the promise engine's fit failed ({fitted.reason}); the previous model goes on quoting; "
