"""Mail intake: how long the worker's mail duty takes to handle 1,000 queued mails, and whether
every one was handled exactly once.

A throwaway Dovecot is started as the mail tests start it (``tests/dovecot.py``); a small
organisation (the test cast, a service that takes mail at timesheets@example.test) is built in a
temporary SQLite database, or in a new database beside ``TANDEM_DATABASE_URL``'s when it is set.
Then 1,000 mails are delivered by IMAP APPEND, a realistic mix:

- 70 % new requests from known people to the service's address (one in ten with a PDF);
- 20 % replies to Tandem's notifications, by the signed reply address or by In-Reply-To,
  some of them answering "we need more information" (which resumes the clock);
- 5 % auto-replies and bounces (Auto-Submitted, Precedence: bulk, mailer-daemon);
- 5 % from unknown senders.

The worker's mail duty (``tandem.mail.imap.poll_mailbox``, what ``tandem worker`` calls first
in every round) is then called round after round until a round reads nothing, at the
configured batch (``TANDEM_IMAP_BATCH``, 200 by default); each round is timed. Then the same
number of mails again (new Message-IDs) is handled by a real ``tandem worker`` process at its
default 30 s interval, every other duty included, timed from its start to the last mail
recorded (``--no-worker`` leaves this out). The checks count
from the database and the mailbox, plainly: one record per mail, each outcome as many times as
mails of its kind were sent, one request per new-request mail, one comment per reply, every
mail flagged done in the mailbox, and a further round that reads nothing.

    .venv/bin/python bench/mail_intake.py
    TANDEM_DATABASE_URL=postgres://tandem@127.0.0.1:5432/tandem .venv/bin/python bench/mail_intake.py
    .venv/bin/python bench/mail_intake.py --mails 1000 --batch 1000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ADDRESS = "timesheets@example.test"
BOX = "tandem@example.test"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TARGET_SECONDS = 60.0


def message(sender: str, to: str, subject: str, body: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.test")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=0, help="TANDEM_IMAP_BATCH (default: the setting's, 200)")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-worker", action="store_true", help="leave out the run of a real tandem worker")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="tandem-mail-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    os.environ["TANDEM_DATA_DIR"] = folder
    os.environ.setdefault("TANDEM_LOG_LEVEL", "ERROR")
    postgres = bool(os.environ.get("TANDEM_DATABASE_URL"))
    if postgres:
        from bench.calls import _fresh_postgres_database

        _fresh_postgres_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from tests.dovecot import Unavailable, running_dovecot

    call_command("migrate", verbosity=0)
    try:
        with running_dovecot() as server:
            figures = run(server, args, settings, folder)
    except Unavailable as why:
        raise SystemExit(f"Dovecot is not available ({why}); install dovecot-imapd") from None
    figures["database"] = "PostgreSQL" if postgres else "SQLite"
    figures["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:>48}: {value}")
    if not figures["every mail handled exactly once"] or not figures.get("worker: every mail handled once", True):
        raise SystemExit(1)


def run(server: Any, args: argparse.Namespace, settings: Any, folder: str) -> dict[str, Any]:
    from django.core import mail as outbox

    from tandem.mail.imap import DONE, poll_mailbox
    from tandem.mail.models import InboundMail, Outcome
    from tandem.notifications import mailing
    from tandem.work import actions
    from tandem.work.models import Comment, Event, ServiceRequest
    from tests.cast import TIMESHEET_OK, build_cast

    settings.TANDEM_IMAP_HOST, settings.TANDEM_IMAP_PORT = server.host, server.port
    settings.TANDEM_IMAP_SECURITY = "none"
    settings.TANDEM_IMAP_USER, settings.TANDEM_IMAP_PASSWORD = server.user, server.password
    if args.batch:
        settings.TANDEM_IMAP_BATCH = args.batch
    settings.TANDEM_MAIL_ADDRESS = BOX
    settings.DEFAULT_FROM_EMAIL = BOX
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": f"{folder}/files"}}}
    outbox.outbox = []

    cast = build_cast()
    service = cast.timesheet
    service.fields.update(required=False)
    service.intake_address = ADDRESS
    service.save(update_fields=["intake_address"])
    people = [cast.consultant, cast.colleague, cast.other_consultant, cast.executive]
    # Requests the replies answer: some wait for the requester's information.
    open_requests = [actions.submit_request(p, service, dict(TIMESHEET_OK)).request for p in people for _ in range(10)]
    asked = open_requests[::4]
    for sr in asked:
        actions.start_request(cast.payroll_agent, sr.pk, reason="The client asked first.")
        actions.ask_requester(cast.payroll_agent, sr.pk, "Which client was it for?")

    rng = random.Random(args.seed)
    n = args.mails
    n_new, n_reply, n_auto = int(n * 0.70), int(n * 0.20), int(n * 0.05)
    n_unknown = n - n_new - n_reply - n_auto
    mails: list[tuple[str, bytes]] = []
    for i in range(n_new):
        who = rng.choice(people)
        msg = message(who.user.email, ADDRESS, f"Hours for worker {i}", f"Worker {i} did {rng.randint(1, 60)} hours.")
        if i % 10 == 0:
            msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"timesheet-{i}.pdf")
        mails.append(("new", msg.as_bytes()))
    answered = set()
    expected_answers = 0
    for i in range(n_reply):
        sr = open_requests[i % len(open_requests)]
        sender = sr.requester.user.email
        if i % 2:
            msg = message(sender, mailing.reply_address(sr.pk), f"Re: {sr.reference}", f"Reply {i}: see above.")
        else:
            msg = message(sender, BOX, f"Re: {sr.reference}", f"Reply {i}: see above.",
                          In_Reply_To=mailing.message_id(sr.pk))
        if sr in asked and sr.pk not in answered:
            answered.add(sr.pk)
            expected_answers += 1
        mails.append(("reply", msg.as_bytes()))
    for i in range(n_auto):
        who = rng.choice(people)
        kind = i % 3
        if kind == 0:
            msg = message(who.user.email, ADDRESS, "Out of office", "I am away.", Auto_Submitted="auto-replied")
        elif kind == 1:
            msg = message(who.user.email, ADDRESS, "Newsletter", "News.", Precedence="bulk")
        else:
            msg = message("MAILER-DAEMON@example.test", ADDRESS, "Undelivered Mail Returned to Sender", "Bounce.")
        mails.append(("auto", msg.as_bytes()))
    for i in range(n_unknown):
        msg = message(f"stranger{i}@elsewhere.test", ADDRESS, f"Hello {i}", "Can you fix my hours?")
        mails.append(("unknown", msg.as_bytes()))
    rng.shuffle(mails)
    second = [(kind, _renamed(raw)) for kind, raw in mails]

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    deliver(server, mails)
    delivered_seconds = time.perf_counter() - started

    requests_before = ServiceRequest.objects.count()
    comments_before = Comment.objects.count()
    outbox.outbox = []
    rounds: list[tuple[int, float]] = []
    while True:
        t0 = time.perf_counter()
        done = poll_mailbox()
        rounds.append((done.read, time.perf_counter() - t0))
        if done.read == 0:
            break
    working = [r for r in rounds if r[0]]
    duty_seconds = sum(s for _, s in working)
    again = poll_mailbox().read

    outcomes = dict.fromkeys(Outcome.values, 0)
    for outcome in InboundMail.objects.values_list("outcome", flat=True):
        outcomes[outcome] += 1
    expected = {
        Outcome.CREATED: n_new, Outcome.COMMENTED: n_reply - expected_answers, Outcome.ANSWERED: expected_answers,
        Outcome.IGNORED: n_auto + n_unknown, Outcome.REFUSED: 0, Outcome.FAILED: 0,
    }
    made = ServiceRequest.objects.count() - requests_before
    # A new request's mail makes the request and its first comment; a reply makes one comment.
    comments = Comment.objects.count() - comments_before
    answers = Event.objects.filter(kind=Event.Kind.INFORMATION_PROVIDED).count()
    told = len(outbox.outbox)
    records = InboundMail.objects.count()
    flagged = server.flagged(DONE)
    once = (
        records == n == len(set(InboundMail.objects.values_list("key", flat=True)))
        and outcomes == {str(k): v for k, v in expected.items()}
        and made == n_new and comments == n_new + n_reply and answers == expected_answers
        and told == n_new and flagged == n and again == 0
    )
    figures: dict[str, Any] = {
        "mails delivered": f"{n} ({n_new} new, {n_reply} replies of which {expected_answers} answers, "
                           f"{n_auto} automatic, {n_unknown} unknown senders)",
        "delivery by IMAP APPEND": f"{delivered_seconds:.1f} s",
        "batch per round (TANDEM_IMAP_BATCH)": settings.TANDEM_IMAP_BATCH,
        "rounds that read mail": len(working),
        "mail duty, all rounds together": f"{duty_seconds:.1f} s (target < {TARGET_SECONDS:.0f} s)",
        "per mail": f"{1000 * duty_seconds / n:.1f} ms",
        "slowest round": f"{max(s for _, s in working):.1f} s for {max(r for r, _ in working)} mails",
        "outcomes": {k: v for k, v in outcomes.items() if v},
        "requests made": made,
        "comments made": comments,
        "answers sent to senders": told,
        "mails flagged done in the mailbox": flagged,
        "read by a further round": again,
        "every mail handled exactly once": once,
        "under target": duty_seconds < TARGET_SECONDS,
        "load average (1 min) before / after the duty": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
    }
    if not args.no_worker:
        figures.update(with_worker(server, second, folder, records))
    return figures


def deliver(server: Any, mails: list[tuple[str, bytes]]) -> None:
    """Into the mailbox by IMAP APPEND over one connection, as a mail server would."""
    imap = server.connect()
    try:
        for _kind, raw in mails:
            imap.append("INBOX", None, None, raw)
    finally:
        imap.logout()


def _renamed(raw: bytes) -> bytes:
    """The same mail with a new Message-ID: a second, different mail."""
    head, sep, body = raw.partition(b"\n\n")
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"message-id:")]
    lines.append(f"Message-ID: {make_msgid(domain='example.test')}".encode())
    return b"\n".join(lines) + sep + body


def with_worker(server: Any, mails: list[tuple[str, bytes]], folder: str, before: int) -> dict[str, Any]:
    """Deliver ``mails`` and let a real ``tandem worker`` (30 s interval) handle them."""
    import subprocess

    from tandem.mail.models import InboundMail

    deliver(server, mails)
    env = {**os.environ, "TANDEM_DATA_DIR": folder, "TANDEM_IMAP_HOST": server.host,
           "TANDEM_IMAP_PORT": str(server.port), "TANDEM_IMAP_SECURITY": "none", "TANDEM_IMAP_USER": server.user,
           "TANDEM_IMAP_PASSWORD": server.password, "TANDEM_MAIL_ADDRESS": BOX, "TANDEM_FROM_EMAIL": BOX,
           "TANDEM_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", "TANDEM_LOG_LEVEL": "ERROR"}
    want = before + len(mails)
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "-m", "tandem.cli", "worker", "--interval", "30"], env=env,
                              cwd=str(Path(__file__).resolve().parent.parent),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while InboundMail.objects.filter(handled_at__isnull=False).count() < want:
            if worker.poll() is not None or time.perf_counter() - started > 900:
                break
            time.sleep(0.5)
        took = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    handled = InboundMail.objects.filter(handled_at__isnull=False).count()
    keys = InboundMail.objects.count()
    return {
        "worker: mails handled by a real tandem worker": f"{handled - before} of {len(mails)}",
        "worker: from its start to the last mail": f"{took:.1f} s (target < {TARGET_SECONDS:.0f} s; "
                                                   "process start and every other duty included)",
        "worker: every mail handled once": handled == keys == want,
    }


if __name__ == "__main__":
    main()
