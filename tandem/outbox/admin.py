"""The outbox in the Django admin: what is owed, what was handled, what failed and why."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tandem.outbox.actions import retry_failed
from tandem.outbox.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "topic", "key", "consumer", "created_at", "attempts", "handled_at", "failed_at")
    list_filter = ("consumer", "topic")
    search_fields = ("key", "topic")
    readonly_fields = [f.name for f in Message._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages are written by the actions that owe them

    @admin.action(description="Retry the selected failed messages")
    def retry(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = retry_failed(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} message(s) will be retried by the worker.", messages.SUCCESS)
