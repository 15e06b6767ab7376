"""Django admin: the change calendar's rows, to look at. Changes are drafted, moved and published
on the change pages, whose actions check the rules (docs/changes.md)."""

from __future__ import annotations

from django.contrib import admin

from tandem.changes.models import (
    AudienceLimit,
    Blackout,
    Change,
    ChangeAudience,
    ChangeComment,
    ChangePeriod,
    ChangeReceipt,
    NoticeDay,
    ServiceEdit,
)


class ChangeAudienceInline(admin.TabularInline):
    model = ChangeAudience
    extra = 0
    readonly_fields = ("unit", "role", "must_do", "by_when", "effective_on")
    can_delete = False


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    list_display = ("title", "unit", "kind", "status", "effective_on", "minutes")
    list_filter = ("status", "kind", "unit")
    readonly_fields = ("status", "requested_on", "created_by", "created_at", "updated_at", "published_at",
                       "cancelled_at", "reminded_on")
    inlines = [ChangeAudienceInline]


@admin.register(AudienceLimit)
class AudienceLimitAdmin(admin.ModelAdmin):
    list_display = ("unit", "minutes_per_week", "batching_required", "set_by", "set_at")


@admin.register(Blackout)
class BlackoutAdmin(admin.ModelAdmin):
    list_display = ("reason", "unit", "kind", "starts_on", "ends_on")


@admin.register(ChangePeriod)
class ChangePeriodAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_on", "ends_on")


@admin.register(ChangeComment)
class ChangeCommentAdmin(admin.ModelAdmin):
    list_display = ("change", "author", "unit", "created_at", "answered_at")
    readonly_fields = ("change", "author", "unit", "text", "created_at", "answer", "answered_by", "answered_at")


@admin.register(ChangeReceipt)
class ChangeReceiptAdmin(admin.ModelAdmin):
    list_display = ("change", "person", "noticed_on", "acknowledged_at")
    readonly_fields = ("change", "person", "noticed_on", "acknowledged_at")


@admin.register(NoticeDay)
class NoticeDayAdmin(admin.ModelAdmin):
    list_display = ("person", "day")
    readonly_fields = ("person", "day")


@admin.register(ServiceEdit)
class ServiceEditAdmin(admin.ModelAdmin):
    list_display = ("change", "service", "state", "applied_at")
    list_filter = ("state",)
    readonly_fields = ("change", "service", "edit", "describe", "state", "applied_at", "problem")
