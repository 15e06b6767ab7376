"""The link in an approver's email (docs/approvals.md): signed with the site's secret key, naming
the request and its approver, valid for ``TANDEM_APPROVAL_LINK_DAYS``.

Opening it only shows a page (mail scanners open links); the decision is the page's POST. The
link is the approver's credential for that one request: it decides as them without signing in,
so it is signed (nobody can make one up) and expires. Used again after the decision, it shows
who decided and when, and changes nothing (the request no longer waits for approval).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "tandem.approval"


@dataclass(frozen=True)
class LinkReading:
    request_id: int | None  # None: not a link Tandem signed
    approver_id: int | None
    expired: bool = False


def approval_token(request_id: int, approver_id: int) -> str:
    return signing.dumps({"r": request_id, "p": approver_id}, salt=SALT, compress=False)


def approval_url(request_id: int, approver_id: int) -> str:
    return f"{settings.SITE_URL}/approvals/{approval_token(request_id, approver_id)}/"


def read_token(token: str) -> LinkReading:
    """What a link says; ``expired`` when its signature holds but its days have passed (the
    request it names is still given, so the page can point to it)."""
    max_age = settings.TANDEM_APPROVAL_LINK_DAYS * 86400
    try:
        value = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        value = signing.loads(token, salt=SALT)
        return LinkReading(_int(value, "r"), _int(value, "p"), expired=True)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        return LinkReading(None, None)
    return LinkReading(_int(value, "r"), _int(value, "p"))


def _int(value: object, key: str) -> int | None:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None
