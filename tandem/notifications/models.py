"""In-product notifications: "it is your move", with an unread count and an hourly email digest."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tandem.org.models import Person


class Notification(models.Model):
    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Assigned to you"
        INFORMATION_NEEDED = "information_needed", "Waiting for your information"
        RESOLVED = "resolved", "Resolved: accept or reopen"
        COMMENT = "comment", "Comment for you"
        ADVICE = "advice", "Advice for you"
        REOPENED = "reopened", "Reopened"
        INFORMATION_PROVIDED = "information_provided", "Requester answered"
        NEW_IN_QUEUE = "new_in_queue", "New in your queue"
        SLA_WARNING = "sla_warning", "Agreed time nearly used"
        SLA_BREACHED = "sla_breached", "Agreed time missed"
        SLA_RESPONSE_MISSED = "sla_response_missed", "First response time missed"
        PROMISE_SLIPPING = "promise_slipping", "Promise slipping"
        PLAN_TO_REVIEW = "plan_to_review", "Allocation plan to review"
        LOAN = "loan", "Lending"
        DEMAND_ASK = "demand_ask", "Demand ahead to declare"
        CHANGE_NOTICE = "change_notice", "Changes taking effect"
        CHANGE_REMINDER = "change_reminder", "Change to acknowledge"
        CHANGE_MOVED = "change_moved", "Change moved or cancelled"
        CHANGE_COMMENT = "change_comment", "Comment on your change"
        CHANGE_ANSWER = "change_answer", "Answer to your comment"
        SERVICE_CHANGED = "service_changed", "Service changed by a change"
        APPROVAL_NEEDED = "approval_needed", "Your approval is asked"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    recipient = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    request = models.ForeignKey(
        "work.ServiceRequest", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-id"], name="notif_unread"),
            models.Index(fields=["emailed_at", "recipient"], name="notif_to_email"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.message}"


#: The event kinds a webhook subscriber may choose, each with the ``request.<event kind>``
#: messages it maps to (tandem.notifications.webhooks). ``status_changed`` is every event that
#: moved a request's status; ``promise_slipping`` comes from the promises' worker duty.
WEBHOOK_KINDS: dict[str, str] = {
    "submitted": "A request was created (request.submitted)",
    "status_changed": "A request's status moved (any request event with a new status)",
    "commented": "A comment the requester can see was added (request.commented)",
    "sla_warning": "80 % of the agreed time used (request.sla_warning)",
    "sla_breached": "The agreed time was missed (request.sla_breached)",
    "sla_response_missed": "The first response time was missed (request.sla_response_missed)",
    "promise_slipping": "A promise will probably be missed (the promises' worker duty)",
}
#: What the subscriber of TANDEM_WEBHOOK_URL receives until an administrator changes it: the
#: SLA alerts it always received.
SETTINGS_KINDS = ["sla_warning", "sla_breached", "sla_response_missed"]


def subscriber_problems(url: str, kinds: object) -> dict[str, list[str]]:
    """What is wrong with a subscriber's address and kinds, per field, in words (empty: nothing)."""
    from urllib.parse import urlsplit

    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    problems: dict[str, list[str]] = {}
    try:
        URLValidator(schemes=["http", "https"])(url)
        if len(url) > 500:
            raise ValidationError("too long")
        if urlsplit(url).username or urlsplit(url).password:
            problems["url"] = ["Put no user name or password in the address; receivers check the signature."]
    except ValidationError:
        problems["url"] = [f"{url[:80]!r} is not an http:// or https:// address with a host name "
                           "(for example https://hooks.example.com/tandem)."]
    if "url" not in problems:
        from tandem.notifications.destinations import address_refusal

        refusal = address_refusal(url)
        if refusal:
            problems["url"] = [refusal]
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        problems["kinds"] = ["Choose at least one event kind: " + ", ".join(WEBHOOK_KINDS) + "."]
    else:
        unknown = [k for k in kinds if k not in WEBHOOK_KINDS]
        if unknown:
            problems["kinds"] = [f"Unknown event kind(s) {', '.join(repr(k[:40]) for k in unknown[:5])}; "
                                 "choose from " + ", ".join(WEBHOOK_KINDS) + "."]
    return problems


def new_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class Subscriber(models.Model):
    """A receiver of webhooks: an address, its own signing secret, the kinds it wants."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500, help_text="http:// or https:// address that receives the POSTs.")
    secret = models.CharField(
        max_length=200, default=new_secret, blank=True,
        help_text="Key of the X-Tandem-Signature HMAC-SHA256 (blank: unsigned; only the settings' subscriber).",
    )
    kinds = models.JSONField(default=list, help_text="Event kinds it wants: " + ", ".join(WEBHOOK_KINDS) + ".")
    active = models.BooleanField(default=True, help_text="Inactive: nothing is queued for it or sent to it.")
    #: The subscriber of TANDEM_WEBHOOK_URL / TANDEM_WEBHOOK_SECRET: its address and secret
    #: follow the settings; its kinds may be changed.
    from_settings = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Its health, kept by the sender: a receiver that failed is left alone until retry_at.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_settings"], condition=models.Q(from_settings=True),
                                    name="webhook_one_settings_subscriber"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        problems = subscriber_problems(self.url, self.kinds)
        if problems:
            raise ValidationError(problems)

    @property
    def failing(self) -> bool:
        """Its receiver failed the last attempt (and the ones before it since the last success)."""
        return self.consecutive_failures > 0


class Delivery(models.Model):
    """One webhook owed to one subscriber about one event. Its ``uuid`` is the
    ``X-Tandem-Delivery`` header, the same on every attempt and every replay."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(unique=True, editable=False)
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=24)
    request = models.ForeignKey("work.ServiceRequest", on_delete=models.CASCADE, null=True, related_name="+")
    payload = models.JSONField(help_text="The body, frozen when the event happened (sent_at is added when sent).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Since it was queued or last replayed.")
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            # The sender's "what is due", oldest first: pending rows only.
            models.Index(fields=["id"], name="webhook_pending", condition=models.Q(status="pending")),
            # A subscriber's log, newest first.
            models.Index(fields=["subscriber", "-id"], name="webhook_by_subscriber"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.subscriber_id} ({self.uuid})"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: when, the answer's status (none: no answer), how long, what failed."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True)
    milliseconds = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at}: {self.status_code or self.error}"
