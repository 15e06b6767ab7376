"""Requests by email (docs/email.md): one row per mail read from Tandem's mailbox, claimed by
the worker that handles it and kept with what became of it and why, for operators."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Outcome(models.TextChoices):
    CREATED = "created", "Became a request"
    COMMENTED = "commented", "Became a comment"
    ANSWERED = "answered", "Answered the question"
    REFUSED = "refused", "Refused (the sender was told why)"
    IGNORED = "ignored", "Ignored (not answered)"
    FAILED = "failed", "Failed (see the reason)"


class InboundMail(models.Model):
    # The Message-ID, or a digest of the bytes: the same mail delivered twice is one row, so it
    # is handled once, and two workers can never both claim it.
    key = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(max_length=255, blank=True)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    claimed_by = models.CharField(max_length=120, help_text="The worker that handles it.")
    claimed_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    reason = models.TextField(blank=True, help_text="What happened, and why, in words.")
    request = models.ForeignKey(
        "work.ServiceRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered = models.BooleanField(default=False, help_text="Tandem wrote back to the sender.")

    class Meta:
        ordering = ["-id"]
        verbose_name = "incoming mail"
        verbose_name_plural = "incoming mail"
        indexes = [models.Index(fields=["outcome", "-id"], name="inbound_outcome")]

    def __str__(self) -> str:
        return f"{self.sender}: {self.subject} ({self.outcome or 'claimed'})"
