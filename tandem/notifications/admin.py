"""Django admin for notifications: look, and mark read; they are created by the actions."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from tandem.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "recipient",
        "kind",
        "request",
        "message",
        "created_at",
        "read_at",
        "emailed_at",
    )
    list_filter = (
        "kind",
        ("read_at", admin.EmptyFieldListFilter),
        ("emailed_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("recipient__user__username", "recipient__user__last_name")
    list_select_related = ("recipient__user", "request")
    raw_id_fields = ("recipient", "request")
    readonly_fields = ("recipient", "kind", "request", "message", "created_at", "emailed_at")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
