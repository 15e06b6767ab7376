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
