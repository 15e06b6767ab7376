"""`tandem worker`'s mail duty: read Tandem's mailbox over IMAP (the standard library's
imaplib) and handle each mail not yet marked done (docs/email.md).

A round lists the mailbox's messages without the ``$TandemDone`` keyword, oldest first, up to
``TANDEM_IMAP_BATCH``; it fetches their bytes 50 at a time (one FETCH, without marking them
read); for each it claims the mail (``tandem.mail.actions.claim``: one worker only), decides and
records what it becomes, answers the sender where a person should be told; then it flags the 50
``$TandemDone`` and ``\\Seen`` in one STORE. A mail another worker holds is left for it; one
already handled (delivered twice, or handled by a worker that died before flagging it) is only
flagged. The senders and service addresses looked up are kept for the round (``Lookups``).
"""

from __future__ import annotations

import imaplib
import logging
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django.conf import settings

from tandem.engines import mail as mails
from tandem.mail.actions import claim, finish
from tandem.mail.models import Outcome
from tandem.mail.routing import Decision, Lookups, decide
from tandem.notifications import mailing

logger = logging.getLogger(__name__)
DONE = "$TandemDone"
#: Messages fetched (and then flagged) per IMAP command.
FETCH_CHUNK = 50


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
    lookups = Lookups()
    with connect() as imap:
        status, _ = imap.select(_quoted(settings.TANDEM_IMAP_FOLDER))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the folder {settings.TANDEM_IMAP_FOLDER!r}")
        _, found = imap.uid("SEARCH", "UNKEYWORD", DONE)
        waiting = (found[0] or b"").split()
        uids = [u.decode() for u in waiting][: limit or settings.TANDEM_IMAP_BATCH]
        done.more = len(waiting) > len(uids)
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start:start + FETCH_CHUNK]
            flag = []
            for uid, raw in _fetch_many(imap, chunk):  # those expunged meanwhile are not there
                outcome = handle(raw, worker, lookups)
                if outcome is None:
                    continue  # another worker holds it: it flags it
                flag.append(uid)
                if outcome:  # "" was handled before (a second delivery): only flagged
                    done.read += 1
                    done.outcomes[outcome] = done.outcomes.get(outcome, 0) + 1
            if flag:  # a worker that dies before this line leaves them unflagged: the next round
                # finds them handled (their rows) and only flags them
                imap.uid("STORE", ",".join(flag), "+FLAGS", f"(\\Seen {DONE})")
    return done


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


_UID = re.compile(rb"\bUID (\d+)")


def _fetch_many(imap: imaplib.IMAP4, uids: list[str]) -> list[tuple[str, bytes]]:
    """The bytes of these messages, by UID, in one FETCH, without marking them read."""
    _, data = imap.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])")
    found: dict[str, bytes] = {}
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            uid = _UID.search(item[0])
            if uid:
                found[uid.group(1).decode()] = item[1]
    return [(uid, found[uid]) for uid in uids if uid in found]


def handle(raw: bytes, worker: str, lookups: Lookups | None = None) -> str | None:
    """Claim, decide, record and answer one mail. Returns the outcome; "" when it had been
    handled already; None when another worker holds it. ``lookups``: the round's senders and
    addresses already looked up."""
    mail = mails.read(raw)
    claimed = claim(mail, worker)
    if claimed.row is None:
        return "" if claimed.done else None
    try:
        decision = decide(mail, lookups)
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
