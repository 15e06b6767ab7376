"""Requests by email against a real Dovecot (conftest.py): mail is delivered by IMAP APPEND and
read by the worker's duty, ``poll_mailbox``, exactly as in production."""

from __future__ import annotations

import threading
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core import mail as outbox
from django.db import connection, connections

from tandem.engines.mail import read
from tandem.mail.actions import STALE, claim
from tandem.mail.imap import DONE, poll_mailbox
from tandem.mail.models import InboundMail, Outcome
from tandem.notifications import mailing
from tandem.notifications.actions import send_digests
from tandem.refusal import Invalid
from tandem.work import actions
from tandem.work.models import Attachment, Comment, Event, ServiceRequest, Status
from tests.cast import TIMESHEET_OK as TIMESHEET
from tests.cast import Cast, build_cast

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BOX = "tandem@example.test"
EXPENSES = "expenses@example.test"


def message(sender: str, to: str, subject: str, body: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("message_id", make_msgid(domain="example.test"))
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


@pytest.fixture
def intake(cast: Cast):  # type: ignore[no-untyped-def]
    """A Payroll service that takes mail: its intake asks for nothing required."""
    service = cast.timesheet
    service.fields.update(required=False)
    service.intake_address = EXPENSES
    service.save(update_fields=["intake_address"])
    return service


def only_record() -> InboundMail:
    records = list(InboundMail.objects.all())
    assert len(records) == 1, records
    return records[0]


@pytest.mark.django_db
def test_it_turns_a_mail_to_a_services_address_into_a_request_with_its_files(mailbox, cast: Cast, intake) -> None:
    msg = message("Consultant@Example.test", EXPENSES, "Hours for Ann Smith", "Ann worked 40 hours last week.")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="../../etc/timesheet.pdf")
    mailbox.deliver(msg.as_bytes())

    assert poll_mailbox().read == 1

    sr = ServiceRequest.objects.get()
    assert (sr.service, sr.requester, sr.title, sr.status) == (intake, cast.consultant, "Hours for Ann Smith", "new")
    assert [c.body for c in sr.comments.all()] == ["Ann worked 40 hours last week."]
    files = list(Attachment.objects.filter(request=sr))
    assert [(f.name, f.size, f.content_type) for f in files] == [("timesheet.pdf", len(PDF), "application/pdf")]
    assert files[0].file.read() == PDF
    record = only_record()
    assert (record.outcome, record.request_id, record.answered) == (Outcome.CREATED, sr.pk, True)
    assert record.reason == f"Became {sr.reference} of Timesheet correction."
    # The sender is told, in a mail that is marked as Tandem's and replies onto the request.
    (told,) = outbox.outbox
    assert told.to == ["consultant@example.test"] and sr.reference in told.body
    assert told.extra_headers["Auto-Submitted"] == "auto-replied"
    assert told.reply_to == [mailing.reply_address(sr.pk)]
    assert mailbox.flagged(DONE) == 1
    assert poll_mailbox().read == 0  # flagged: never read again


@pytest.mark.django_db
def test_a_reply_to_a_notification_lands_on_its_request_by_reply_address_or_by_its_message_id(
    mailbox, cast: Cast
) -> None:
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET).request
    actions.assign_request(cast.payroll_lead, sr.pk, cast.payroll_agent.pk)
    assert send_digests() >= 1
    digest = next(m for m in outbox.outbox if m.to == ["payroll_agent@example.test"])
    assert digest.extra_headers["Auto-Submitted"] == "auto-generated"
    assert digest.reply_to == [mailing.reply_address(sr.pk)]

    # 1. To the plus-address in Reply-To, as a mail program replies.
    reply = message("payroll_agent@example.test", digest.reply_to[0], "Re: " + digest.subject,
                    "On it today.\n\nOn Mon, 1 Jan 2026, Tandem wrote:\n> It is your move on:")
    mailbox.deliver(reply.as_bytes())
    # 2. To the plain mailbox address, threaded only by In-Reply-To (the address lost its tag).
    second = message("payroll_agent@example.test", BOX, "Anything", "Done, see the file.",
                     In_Reply_To=digest.extra_headers["Message-ID"])
    second.add_attachment(PDF, maintype="application", subtype="pdf", filename="proof.pdf")
    mailbox.deliver(second.as_bytes())

    assert poll_mailbox().read == 2
    comments = list(Comment.objects.filter(request=sr, author=cast.payroll_agent).order_by("id"))
    assert [c.body for c in comments] == ["On it today.", "Done, see the file."]
    assert [a.name for a in comments[1].attachments.all()] == ["proof.pdf"]
    assert sorted(InboundMail.objects.values_list("outcome", flat=True)) == [Outcome.COMMENTED] * 2


@pytest.mark.django_db
def test_a_reply_to_we_need_more_information_answers_it_and_the_clock_runs_again(mailbox, cast: Cast) -> None:
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET).request
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.ask_requester(cast.payroll_agent, sr.pk, "Which client approved it?")
    assert ServiceRequest.objects.get(pk=sr.pk).clock_paused_at is not None
    reply = message("consultant@example.test", mailing.reply_address(sr.pk), "Re: information", "Acme Ltd did.")
    mailbox.deliver(reply.as_bytes())

    poll_mailbox()

    sr.refresh_from_db()
    assert sr.status == Status.IN_PROGRESS and sr.clock_paused_at is None and sr.waiting_on == ""
    assert sr.events.order_by("-seq").first().kind == Event.Kind.INFORMATION_PROVIDED  # type: ignore[union-attr]
    assert sr.comments.order_by("-id").first().body == "Acme Ltd did."  # type: ignore[union-attr]
    assert only_record().outcome == Outcome.ANSWERED


@pytest.mark.django_db
@pytest.mark.parametrize("to, headers, why", [
    ("subject", {}, "Neither a reply"),  # the subject names the request: never enough
    ("forged", {}, "Neither a reply"),  # a plus-address with a made-up signature
])
def test_a_reply_is_never_threaded_by_its_subject_or_an_unsigned_reference(
    mailbox, cast: Cast, to: str, headers: dict, why: str
) -> None:
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET).request
    address = BOX if to == "subject" else f"tandem+r{sr.pk}.forgedsignature@example.test"
    mailbox.deliver(message("consultant@example.test", address, f"Re: {sr.reference} {sr.title}", "More.").as_bytes())

    poll_mailbox()

    assert not sr.comments.exists()
    record = only_record()
    assert record.outcome == Outcome.REFUSED and why in record.reason and record.answered
    assert outbox.outbox[0].extra_headers["Auto-Submitted"] == "auto-replied"


@pytest.mark.django_db
@pytest.mark.parametrize("sender, headers, why", [
    ("stranger@elsewhere.test", {}, "no active person has the address stranger@elsewhere.test"),
    ("consultant@example.test", {"Auto_Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ("consultant@example.test", {"Precedence": "bulk"}, "Precedence: bulk"),
    ("consultant@example.test", {"Precedence": "junk"}, "Precedence: junk"),
    ("consultant@example.test", {"Return_Path": "<>"}, "Return-Path is empty"),
    ("MAILER-DAEMON@example.test", {}, "system address"),
    ("postmaster@example.test", {}, "system address"),
])
def test_unknown_senders_auto_replies_and_bounces_make_nothing_and_are_never_answered(
    mailbox, cast: Cast, intake, sender: str, headers: dict[str, str], why: str
) -> None:
    mailbox.deliver(message(sender, EXPENSES, "Out of office", "I am away.", **headers).as_bytes())

    assert poll_mailbox().read == 1

    assert not ServiceRequest.objects.exists()
    record = only_record()
    assert record.outcome == Outcome.IGNORED and why in record.reason and not record.answered
    assert outbox.outbox == []
    assert mailbox.flagged(DONE) == 1


@pytest.mark.django_db
def test_tandems_own_mail_coming_back_is_ignored_so_no_loop(mailbox, cast: Cast, intake) -> None:
    mailbox.deliver(message("consultant@example.test", EXPENSES, "Hours", "40 hours.").as_bytes())
    poll_mailbox()
    (told,) = outbox.outbox
    # The confirmation bounces back into the mailbox (a forward, a misconfigured alias): twice.
    looped = told.message()
    looped.replace_header("To", EXPENSES) if looped["To"] else None
    mailbox.deliver(looped.as_bytes())

    poll_mailbox()

    assert ServiceRequest.objects.count() == 1 and len(outbox.outbox) == 1
    assert InboundMail.objects.filter(outcome=Outcome.IGNORED).count() == 1


@pytest.mark.django_db
def test_a_mail_delivered_twice_makes_one_request(mailbox, cast: Cast, intake) -> None:
    msg = message("consultant@example.test", EXPENSES, "Hours", "40 hours.")
    mailbox.deliver(msg.as_bytes())
    mailbox.deliver(msg.as_bytes())

    assert poll_mailbox().read == 1  # the second copy is only flagged

    assert ServiceRequest.objects.count() == 1 and Comment.objects.count() == 1
    assert only_record().outcome == Outcome.CREATED
    assert mailbox.flagged(DONE) == 2 and len(outbox.outbox) == 1


@pytest.mark.django_db
def test_a_service_whose_form_mail_cannot_fill_answers_with_its_link(mailbox, cast: Cast) -> None:
    cast.timesheet.intake_address = EXPENSES
    cast.timesheet.save(update_fields=["intake_address"])
    mailbox.deliver(message("consultant@example.test", EXPENSES, "Hours", "40 hours.").as_bytes())

    poll_mailbox()

    assert not ServiceRequest.objects.exists()
    record = only_record()
    assert record.outcome == Outcome.REFUSED and "Worker name" in record.reason
    assert "/catalogue/timesheet-correction/request/" in outbox.outbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize("name, content, told", [
    ("invoice.pdf", b"MZ\x90\x00 a program", "is a program"),
    ("big.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024), "at most 1 MB"),
    ("notes.exe", b"hello", "not a kind of file taken here"),
    ("empty.pdf", b"", "is empty"),
])
def test_a_mail_with_a_refused_file_saves_nothing_and_says_why(
    mailbox, cast: Cast, intake, name: str, content: bytes, told: str
) -> None:
    intake.attachment_max_mb = 1
    intake.save(update_fields=["attachment_max_mb"])
    msg = message("consultant@example.test", EXPENSES, "Hours", "40 hours.")
    msg.add_attachment(content, maintype="application", subtype="octet-stream", filename=name)
    mailbox.deliver(msg.as_bytes())

    poll_mailbox()

    assert not ServiceRequest.objects.exists() and not Attachment.objects.exists()
    record = only_record()
    assert record.outcome == Outcome.REFUSED and told in record.reason
    assert told in outbox.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_two_workers_reading_at_once_handle_each_mail_once(mailbox) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("an in-memory SQLite database is not shared between threads (the PostgreSQL run races them)")
    cast = build_cast()
    cast.timesheet.fields.update(required=False)
    cast.timesheet.intake_address = EXPENSES
    cast.timesheet.save(update_fields=["intake_address"])
    for n in range(12):
        mailbox.deliver(message("consultant@example.test", EXPENSES, f"Hours {n}", f"{n} hours.").as_bytes())
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            poll_mailbox()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(ServiceRequest.objects.values_list("title", flat=True)) == sorted(f"Hours {n}" for n in range(12))
    assert InboundMail.objects.filter(outcome=Outcome.CREATED).count() == 12
    assert Comment.objects.count() == 12 and len(outbox.outbox) == 12
    assert mailbox.flagged(DONE) == 12





@pytest.mark.django_db
def test_a_mail_another_worker_holds_is_left_to_it_until_its_claim_goes_stale(mailbox, cast: Cast, intake) -> None:
    raw = message("consultant@example.test", EXPENSES, "Hours", "40 hours.").as_bytes()
    mailbox.deliver(raw)
    held = claim(read(raw), "another-worker")
    assert held.row is not None

    assert poll_mailbox().read == 0  # held by the other worker: not handled, not flagged
    assert not ServiceRequest.objects.exists() and mailbox.flagged(DONE) == 0
    assert claim(read(raw), "a-third-worker").row is None  # nor taken by anyone else

    InboundMail.objects.filter(pk=held.row.pk).update(claimed_at=held.row.claimed_at - STALE - STALE)
    assert poll_mailbox().read == 1  # the other worker died: its claim is taken over
    assert ServiceRequest.objects.count() == 1 and only_record().outcome == Outcome.CREATED


@pytest.mark.django_db
def test_a_new_request_and_its_text_are_one_action_so_a_refused_text_makes_nothing(
    mailbox, cast: Cast, intake
) -> None:
    mailbox.deliver(message("consultant@example.test", EXPENSES, "Hours", "Ann worked 40 hours.").as_bytes())

    assert poll_mailbox().read == 1

    sr = ServiceRequest.objects.get()
    assert [e.kind for e in sr.events.order_by("seq")] == [Event.Kind.SUBMITTED, Event.Kind.COMMENTED]
    (comment,) = sr.comments.all()
    assert (comment.author, comment.body, comment.source_key) == (cast.consultant, "Ann worked 40 hours.",
                                                                  read(mailbox_bytes(mailbox, 0)).key)
    # The text is checked with the request: one over the limit refuses the whole submission.
    with pytest.raises(Invalid, match="Comment is 20,001 characters long"):
        actions.submit_request(cast.consultant, intake, {}, title="Too long", comment="x" * 20_001)
    assert ServiceRequest.objects.count() == 1 and Comment.objects.count() == 1


def mailbox_bytes(mailbox, index: int) -> bytes:  # type: ignore[no-untyped-def]
    imap = mailbox.connect()
    try:
        imap.select("INBOX")
        _, data = imap.fetch(str(index + 1), "(BODY.PEEK[])")
        return data[0][1]
    finally:
        imap.logout()


@pytest.mark.django_db
def test_a_round_fetches_and_flags_in_chunks_and_handles_each_mail_once(
    mailbox, cast: Cast, intake, monkeypatch
) -> None:
    import tandem.mail.imap as imap_duty

    monkeypatch.setattr(imap_duty, "FETCH_CHUNK", 2)
    for i in range(5):
        mailbox.deliver(message("consultant@example.test", EXPENSES, f"Hours {i}", f"Week {i}.").as_bytes())

    assert poll_mailbox().read == 5

    assert sorted(ServiceRequest.objects.values_list("title", flat=True)) == [f"Hours {i}" for i in range(5)]
    assert mailbox.flagged(DONE) == 5 and InboundMail.objects.count() == 5
    assert poll_mailbox().read == 0


@pytest.mark.django_db
def test_a_mailed_request_is_indexed_once(mailbox, cast: Cast, intake) -> None:
    """The request and its text are one submission with two events (submitted, commented):
    its search document is written once, at the end of the action, not once per event."""
    from django.test.utils import CaptureQueriesContext

    from tandem.search.models import SearchDocument
    from tandem.search.queries import search_requests

    msg = message("consultant@example.test", EXPENSES, "Hours for the okapi site", "Ann worked 40 hours.")
    mailbox.deliver(msg.as_bytes())
    table = SearchDocument._meta.db_table
    with CaptureQueriesContext(connection) as seen:
        assert poll_mailbox().read == 1
    writes = [q["sql"] for q in seen.captured_queries if q["sql"].startswith(f'INSERT INTO "{table}"')]
    assert len(writes) == 1, writes
    sr = ServiceRequest.objects.get()
    assert list(Event.objects.filter(request=sr).order_by("seq").values_list("kind", flat=True)) == [
        "submitted", "commented"]
    # The one document holds both the title and the text, and a comment later still reindexes.
    assert [h.request.pk for h in search_requests(cast.payroll_agent.user, "okapi worked").hits] == [sr.pk]
    actions.add_comment(cast.payroll_agent, sr.pk, "The quokka shift is confirmed.")
    assert [h.request.pk for h in search_requests(cast.payroll_agent.user, "quokka").hits] == [sr.pk]
