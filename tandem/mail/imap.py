"""`tandem worker`'s mail duty: read Tandem's mailbox over IMAP (the standard library's
imaplib) and handle each mail not yet marked done (docs/email.md).

A round lists the mailbox's messages without the ``$TandemDone`` keyword, oldest first, up to
``TANDEM_IMAP_BATCH``; for each it fetches the bytes without marking them read, claims the mail
(``tandem.mail.actions.claim``: one worker only), decides and records what it becomes, answers
the sender where a person should be told, then flags the message ``$TandemDone`` and ``\\Seen``.
A mail another worker holds is left for it; one already handled (delivered twice, or flagged by
a worker that died just before) is only flagged.
"""

from __future__ import annotations

import imaplib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django.conf import settings

from tandem.engines import mail as mails
from tandem.mail.actions import claim, finish
from tandem.mail.models import Outcome
from tandem.mail.routing import Decision, decide
from tandem.notifications import mailing

logger = logging.getLogger(__name__)
DONE = "$TandemDone"


@dataclass
class Round:
    read: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    more: bool = False  # more mail was waiting than one batch: the worker goes again at once

    def __str__(self) -> str:
        said = ", ".join(f"{n} {Outcome(k).label.lower()}" for k, n in sorted(self.outcomes.items()))
        return f"read {self.read} mail(s){': ' + said if said else ''}"


@contextmanager
def connect() -> Iterator[imaplib.IMAP4]:
    host, port, security = settings.TANDEM_IMAP_HOST, settings.TANDEM_IMAP_PORT, settings.TANDEM_IMAP_SECURITY
    imap = imaplib.IMAP4_SSL(host, port, timeout=30) if security == "ssl" else imaplib.IMAP4(host, port, timeout=30)
    try:
        if security == "starttls":
            imap.starttls()
        imap.login(settings.TANDEM_IMAP_USER, settings.TANDEM_IMAP_PASSWORD)
        yield imap
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def poll_mailbox(*, limit: int | None = None) -> Round:
    """One round over the mailbox; does nothing when no mailbox is configured."""
    done = Round()
    if not settings.TANDEM_IMAP_HOST:
        return done
    worker = worker_name()
    with connect() as imap:
        status, _ = imap.select(_quoted(settings.TANDEM_IMAP_FOLDER))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the folder {settings.TANDEM_IMAP_FOLDER!r}")
        _, found = imap.uid("SEARCH", "UNKEYWORD", DONE)
        waiting = (found[0] or b"").split()
        uids = [u.decode() for u in waiting][: limit or settings.TANDEM_IMAP_BATCH]
        done.more = len(waiting) > len(uids)
        for uid in uids:
            raw = _fetch(imap, uid)
            if raw is None:
                continue  # expunged meanwhile
            outcome = handle(raw, worker)
            if outcome is None:
                continue  # another worker holds it: it flags it
            imap.uid("STORE", uid, "+FLAGS", f"(\\Seen {DONE})")
            if outcome:  # "" was handled before (a second delivery): only flagged
                done.read += 1
                done.outcomes[outcome] = done.outcomes.get(outcome, 0) + 1
    return done


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch(imap: imaplib.IMAP4, uid: str) -> bytes | None:
    _, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def handle(raw: bytes, worker: str) -> str | None:
    """Claim, decide, record and answer one mail. Returns the outcome; "" when it had been
    handled already; None when another worker holds it."""
    mail = mails.read(raw)
    claimed = claim(mail, worker)
    if claimed.row is None:
        return "" if claimed.done else None
    try:
        decision = decide(mail)
    except Exception as error:
        logger.exception("Mail %s could not be handled", mail.key)
        decision = Decision(Outcome.FAILED, f"Tandem failed on this mail ({type(error).__name__}: {error}); "
                            "see the worker's log.")
    answered = bool(decision.answer) and _answer(mail, decision)
    finish(claimed.row, decision.outcome, decision.reason, request_id=decision.request_id, answered=answered)
    return decision.outcome


def _answer(mail: mails.Mail, decision: Decision) -> bool:
    subject = mail.subject if mail.subject.lower().startswith("re:") else f"Re: {mail.subject}".strip()
    try:
        mailing.send(subject or "Re: your mail to Tandem", decision.answer, [mail.sender],
                     request_id=decision.request_id, in_reply_to=f"<{mail.message_id}>" if mail.message_id else "",
                     auto="auto-replied")
    except OSError:
        logger.exception("Could not answer %s", mail.sender)
        return False
    return True
