"""Personal API tokens: issuing, revoking, and finding whose a presented token is.

Only a token's SHA-256 is stored (``ApiToken.key_hash``); the raw value is returned once, by
``issue_token``, and can never be shown again. A lost token is revoked and replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from tandem.org.models import ApiToken, hash_token
from tandem.outbox.actions import action_transaction
from tandem.refusal import Conflict, Invalid, NotFound
from tandem.rows import one_or_none

NAME_LIMIT = 80
MAX_EXPIRY_DAYS = 3650
# Writing last_used_at on every request would turn every read into a write (and, on SQLite,
# queue every reader behind the write lock). A minute is precise enough to tell a token that
# is in use from one that is forgotten.
LAST_USED_PRECISION = timedelta(minutes=1)
HOW_TO_GET_ONE = (
    "Create a new token with `tandem createtoken USERNAME --name NAME` or POST /api/tokens "
    "while signed in, and send it as `Authorization: Bearer <token>`."
)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown to its owner once; only its hash is kept


class TokenRefused(Exception):
    """The presented token does not authenticate anyone; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def issue_token(
    user: AbstractBaseUser,
    name: str,
    *,
    expires_in_days: int | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """Create a personal token for ``user``; the raw value is in the result and nowhere else."""
    name = (name or "").strip()
    if not name:
        raise Invalid(
            "Give the token a name that says where it is used, e.g. 'laptop script'.",
            errors={"name": ["This field is required."]},
        )
    if len(name) > NAME_LIMIT:
        raise Invalid(
            f"A token name has at most {NAME_LIMIT} characters.",
            errors={"name": [f"At most {NAME_LIMIT} characters."]},
        )
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise Invalid(
            f"A token expires after 1 to {MAX_EXPIRY_DAYS} days, or never (leave it out).",
            errors={"expires_in_days": [f"Between 1 and {MAX_EXPIRY_DAYS}."]},
        )
    if not user.is_active:
        raise Invalid(
            "This account is deactivated; it cannot have API tokens.",
            errors={"user": ["Deactivated account."]},
        )
    now = now or timezone.now()
    raw = ApiToken.new_raw_key()
    with action_transaction():
        token = ApiToken.objects.create(
            user_id=user.pk,
            name=name,
            prefix=raw[:8],
            key_hash=hash_token(raw),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
    return IssuedToken(token=token, raw=raw)


def revoke_token(user: AbstractBaseUser, token_id: int, *, now: datetime | None = None) -> ApiToken:
    """Revoke one of ``user``'s own tokens. It stops working at once and for good."""
    now = now or timezone.now()
    with action_transaction():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user_id=user.pk).first()
        if token is None:
            raise NotFound(f"You have no API token {token_id}; GET /api/tokens lists yours.")
        if token.revoked_at is not None:
            raise Conflict(f"The token {token.name!r} is already revoked.")
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        return token


def user_for_token(raw: str, *, now: datetime | None = None) -> AbstractBaseUser:
    """The active user a raw token belongs to, or ``TokenRefused`` saying why not."""
    now = now or timezone.now()
    raw = (raw or "").strip()
    if not raw:
        raise TokenRefused(
            "The Authorization header has no token after 'Bearer'. " + HOW_TO_GET_ONE
        )
    key_hash = hash_token(raw)
    # The person and their unit come along: every API call needs them (who acts, which queues).
    token = one_or_none(ApiToken.objects.active().select_related("user__person__unit").filter(key_hash=key_hash))
    if token is None:
        raise TokenRefused(_why_not(key_hash) + " " + HOW_TO_GET_ONE)
    if not token.user.is_active:
        raise TokenRefused(
            "The account this token belongs to is deactivated; ask an administrator."
        )
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # Conditional, so concurrent requests with one token write at most once a minute.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
    return token.user


def _why_not(key_hash: str) -> str:
    """Only reached on failure: one more look-up to say which of the three problems it is."""
    token = (
        ApiToken.objects.filter(key_hash=key_hash).only("revoked_at", "expires_at", "name").first()
    )
    if token is None:
        return "This API token is unknown (mistyped, or never issued)."
    if token.revoked_at is not None:
        return (
            f"This API token ({token.name!r}) was revoked at {token.revoked_at:%Y-%m-%d %H:%M} UTC."
        )
    return f"This API token ({token.name!r}) expired at {token.expires_at:%Y-%m-%d %H:%M} UTC."
