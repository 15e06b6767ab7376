"""Django admin for calendars and agreements (validated by the models' ``clean``)."""

from __future__ import annotations

from django.contrib import admin

from tandem.agreements.models import Agreement, Calendar, CustomerAgreement


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ("unit", "service", "updated_at")
    autocomplete_fields = ("unit", "service")


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ("name", "service", "requesting_unit", "channel", "resolution_minutes", "active")
    list_filter = ("active", "channel")
    search_fields = ("name", "service__name")
    autocomplete_fields = ("service", "requesting_unit")


@admin.register(CustomerAgreement)
class CustomerAgreementAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "resolution_minutes", "margin_minutes", "active")
    list_filter = ("active",)
    search_fields = ("name", "unit__name")
    autocomplete_fields = ("unit",)
    filter_horizontal = ("services",)
