"""Tandem's outgoing mail (docs/email.md).

Every mail Tandem sends is marked ``Auto-Submitted: auto-generated`` (an answer to a mail:
``auto-replied``), so that auto-responders do not answer it and Tandem's own mail intake never
takes it back in: no loop. A mail about one request carries a signed reference to it twice: in
its Message-ID (a reply's In-Reply-To and References name it) and in its Reply-To, a
plus-address of Tandem's mailbox (``tandem+r12.SIGNATURE@example.org``). Either leads a reply
back to its request; the subject never does. The signature (Django's signing, keyed by the
secret key) means nobody can make up a reference to a request they were never written about.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage

from tandem.work.models import ServiceRequest

SALT = "tandem.mail.reply"
SEP = "."  # not in the signature's alphabet (URL-safe base64), and fine in an address's local part


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=SEP)


def reference(request_id: int) -> str:
    """``r12.SIGNATURE``: request 12, signed; a client's request is named by its reference
    (``rNORTHERN-000042.SIGNATURE``), because a client reads these addresses and must not learn the
    id every client's requests share (docs/isolation.md, "References")."""
    found = ServiceRequest.objects.filter(pk=request_id).values_list("organisation_id", "reference").first()
    if found is not None and found[0] is not None:
        return _signer().sign(f"r{found[1]}")
    return _signer().sign(f"r{request_id}")


def request_of(token: str) -> int | None:
    """The request a reference names, or None when it is not one Tandem signed."""
    try:
        value = _signer().unsign(token.strip())
    except signing.BadSignature:
        return None
    if not value.startswith("r") or len(value) < 2:
        return None
    if value[1:].isdigit():
        return int(value[1:])
    return ServiceRequest.objects.filter(reference=value[1:]).values_list("pk", flat=True).first()


def mailbox() -> str:
    """The address of Tandem's mailbox (TANDEM_MAIL_ADDRESS), or "" when mail is not read."""
    return settings.TANDEM_MAIL_ADDRESS


def _domain() -> str:
    return (mailbox() or settings.DEFAULT_FROM_EMAIL).rpartition("@")[2] or "tandem.invalid"


def reply_address(request_id: int) -> str:
    """Where a reply about the request goes: a plus-address of the mailbox ("" when unset)."""
    box = mailbox()
    if not box:
        return ""
    local, _, domain = box.partition("@")
    return f"{local}+{reference(request_id)}@{domain}"


def message_id(request_id: int | None = None) -> str:
    """A new Message-ID; about a request, it holds the request's signed reference."""
    unique = uuid.uuid4().hex
    if request_id is None:
        return f"<tandem.{unique}@{_domain()}>"
    return f"<tandem.{reference(request_id)}.{unique}@{_domain()}>"


def request_of_message_id(value: str) -> int | None:
    """The request a Message-ID made by ``message_id`` is about (None for any other)."""
    local = value.strip("<>").partition("@")[0]
    parts = local.split(".")
    if len(parts) != 4 or parts[0] != "tandem":
        return None
    return request_of(f"{parts[1]}.{parts[2]}")


def send(
    subject: str,
    body: str,
    to: Sequence[str],
    *,
    request_id: int | None = None,
    in_reply_to: str = "",
    auto: str = "auto-generated",
) -> str:
    """Send one mail marked as Tandem's; returns its Message-ID."""
    mid = message_id(request_id)
    headers = {"Message-ID": mid, "Auto-Submitted": auto, "X-Auto-Response-Suppress": "All"}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = in_reply_to
    reply_to = [reply_address(request_id)] if request_id is not None and mailbox() else None
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, list(to), headers=headers, reply_to=reply_to).send()
    return mid
