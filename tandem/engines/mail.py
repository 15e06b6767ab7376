"""Reading an incoming email (pure: the standard library's ``email`` package, no Django).

What a mail is for Tandem: who sent it, to which addresses, which earlier messages it answers,
its text and its files, and whether it was written by a program rather than a person (an
auto-reply, a bounce, a list), which Tandem never answers and never turns into work.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

SYSTEM_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply")
BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
QUOTE_HEADER = re.compile(r"^\s*(On .{4,200} wrote:|-----\s*Original Message\s*-----)\s*$", re.IGNORECASE)
TEXT_LIMIT = 20_000


@dataclass(frozen=True)
class MailFile:
    name: str
    content: bytes


@dataclass(frozen=True)
class Mail:
    key: str  # the Message-ID, or a digest of the bytes when it has none
    message_id: str
    sender: str  # the From address, lower case
    recipients: tuple[str, ...]  # To, Cc and Delivered-To addresses, as written (a plus tag keeps its case)
    subject: str
    text: str  # the plain text, without the quoted earlier message
    answers: tuple[str, ...]  # Message-IDs of In-Reply-To then References
    automated: str  # why it is a program's mail, or "" for a person's
    files: tuple[MailFile, ...] = field(default_factory=tuple)


def read(raw: bytes) -> Mail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    message_id = _ids(str(message.get("Message-ID", "")))
    key = message_id[0] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()
    sender = parseaddr(str(message.get("From", "")))[1].strip().lower()
    recipients = tuple(
        dict.fromkeys(
            address.strip()
            for _, address in getaddresses(
                [str(v) for name in ("To", "Cc", "Delivered-To", "X-Original-To") for v in message.get_all(name, [])]
            )
            if address
        )
    )
    replied = [*_ids(str(message.get("In-Reply-To", ""))), *_ids(str(message.get("References", "")))]
    answers = tuple(dict.fromkeys(replied))
    return Mail(
        key=key[:250],
        message_id=message_id[0][:250] if message_id else "",
        sender=sender,
        recipients=recipients,
        subject=" ".join(str(message.get("Subject", "")).split()),
        text=_text(message),
        answers=answers,
        automated=automated(message, sender),
        files=tuple(_files(message)),
    )


def _ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value)


def automated(message: EmailMessage, sender: str) -> str:
    """Why the mail was written by a program (RFC 3834 and common practice), or ""."""
    submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if submitted and not submitted.startswith("no"):
        return f"it is marked Auto-Submitted: {submitted}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"it is marked Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe", "X-Auto-Response-Suppress"):
        value = str(message.get(header, "")).strip().lower()
        if value and not (header == "X-Auto-Response-Suppress" and value in ("", "none")):
            return f"it carries {header}"
    if "Return-Path" in message and str(message.get("Return-Path", "")).strip() in ("<>", ""):
        return "its Return-Path is empty (a bounce)"
    local = sender.split("@", 1)[0]
    if not sender or local in SYSTEM_SENDERS or local.startswith(("mailer-daemon", "postmaster")):
        return f"it comes from a system address ({sender or 'none'})"
    if message.get_content_type() == "multipart/report":
        return "it is a delivery report"
    return ""


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        html = message.get_body(preferencelist=("html",))
        body = _strip_html(_content(html)) if html is not None else ""
    else:
        body = _content(part)
    return without_quote(body)[:TEXT_LIMIT]


def _content(part: MIMEPart) -> str:
    try:
        value = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset: keep what decodes
        payload = part.get_payload(decode=True)
        value = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return value if isinstance(value, str) else ""


def _strip_html(html: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
    return re.sub(r"<[^>]+>", "", text)


def without_quote(text: str) -> str:
    """The new text of a reply: up to the earlier message's quote ("On ... wrote:", "> ")."""
    text = text.replace("\r\n", "\n").replace("\x00", "")
    kept: list[str] = []
    for line in text.split("\n"):
        if QUOTE_HEADER.match(line) or line.startswith(">"):
            break
        kept.append(line)
    while kept and kept[-1].strip() in ("", "--"):
        kept.pop()
    return "\n".join(kept).strip()


def _files(message: EmailMessage) -> list[MailFile]:
    found = []
    for part in message.iter_attachments():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        found.append(MailFile(part.get_filename() or "attachment", payload if isinstance(payload, bytes) else b""))
    return found


def title(subject: str) -> str:
    """The subject without its Re:/Fwd: prefixes."""
    return SUBJECT_PREFIX.sub("", subject).strip()


def plus_tag(address: str, mailbox: str) -> str | None:
    """``tag`` when ``address`` is ``local+tag@domain`` of the mailbox ``local@domain``."""
    local, _, domain = mailbox.lower().partition("@")
    a_local, _, a_domain = address.partition("@")
    prefix = local + "+"
    if a_domain.lower() != domain or not a_local.lower().startswith(prefix):
        return None
    return a_local[len(prefix):] or None
