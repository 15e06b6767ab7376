"""The record of incoming mail, for operators: read-only (the worker writes it)."""

from django.contrib import admin
from django.http import HttpRequest

from tandem.mail.models import InboundMail


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "sender", "subject", "outcome", "reason", "request", "answered")
    list_filter = ("outcome", "answered")
    search_fields = ("sender", "subject", "message_id", "reason")
    readonly_fields = [f.name for f in InboundMail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
