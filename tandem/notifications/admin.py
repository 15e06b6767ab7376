"""Django admin for notifications (look, and mark read; they are created by the actions) and for
webhook subscribers with their delivery log (docs/webhooks.md)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from tandem.notifications.actions import replay_delivery, replay_failed
from tandem.notifications.models import WEBHOOK_KINDS, Delivery, DeliveryAttempt, Notification, Subscriber
from tandem.notifications.queries import deliveries_visible_to, subscriber_health, subscribers_visible_to
from tandem.work.admin import request_id_in


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


class SubscriberForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="http:// or https:// address.")
    kinds = forms.MultipleChoiceField(choices=list(WEBHOOK_KINDS.items()), widget=forms.CheckboxSelectMultiple,
                                      help_text="The event kinds it receives.")

    class Meta:
        model = Subscriber
        fields = ["name", "url", "kinds", "active"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Who receives webhooks; the delivery log is each subscriber's deliveries (below)."""

    form = SubscriberForm
    list_display = ("name", "url", "active", "health", "pending", "failed", "last_success_at", "last_failure_at")
    list_filter = ("active",)
    search_fields = ("name", "url")
    readonly_fields = ("secret", "from_settings", "created_at", "health", "retry_at", "last_success_at",
                       "last_failure_at", "log")
    actions = ["replay_failed_deliveries"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscriber]:
        return subscribers_visible_to(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Subscriber | None = None) -> list[str]:
        fixed = list(self.readonly_fields)
        return [*fixed, "url"] if obj is not None and obj.from_settings else fixed  # the settings say it

    @admin.display(description="Health")
    def health(self, obj: Subscriber) -> str:
        return subscriber_health(obj)

    @admin.display(description="Pending")
    def pending(self, obj: Subscriber) -> int:
        return getattr(obj, "pending", 0)

    @admin.display(description="Failed")
    def failed(self, obj: Subscriber) -> int:
        return getattr(obj, "failed", 0)

    @admin.display(description="Delivery log")
    def log(self, obj: Subscriber) -> str:
        url = reverse("admin:notifications_delivery_changelist") + f"?subscriber__id__exact={obj.pk}"
        return format_html('<a href="{}">Its deliveries and their attempts</a>', url)

    @admin.action(description="Replay the failed deliveries of the selected subscribers")
    def replay_failed_deliveries(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = sum(replay_failed(request.user, pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} failed delivery(ies) will be sent in the worker's next round.",
                          messages.SUCCESS)


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("at", "status_code", "milliseconds", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: each webhook owed, its state, and every attempt (inline)."""

    list_display = ("id", "subscriber", "kind", "request", "status", "attempts", "created_at", "delivered_at",
                    "last_error")
    list_filter = ("status", "subscriber", "kind")
    search_fields = ("=uuid",)  # see get_search_results
    list_select_related = ("subscriber", "request")
    readonly_fields = ("uuid", "subscriber", "kind", "request", "payload", "status", "created_at",
                       "next_attempt_at", "attempts", "delivered_at", "last_error", "claimed_by", "claimed_until")
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["replay"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return deliveries_visible_to(request.user)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Delivery], search_term: str
                           ) -> tuple[QuerySet[Delivery], bool]:
        """A delivery id (X-Tandem-Delivery), or a request's reference (SR-000123) or number."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(uuid=uuid.UUID(term)), False
        except ValueError:
            pass
        request_id = request_id_in(term)
        if request_id is not None:
            return queryset.filter(request_id=request_id), False
        return queryset.none(), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written when an event owes them

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Replay the selected deliveries (same X-Tandem-Delivery)")
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            replay_delivery(request.user, pk)
        self.message_user(request, "The selected deliveries will be sent in the worker's next round.",
                          messages.SUCCESS)
