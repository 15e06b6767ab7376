"""Django admin for the service catalogue: a service with its intake form, cut-offs, required
skills and procedure inline. The everyday editor is ``/manage/services/``."""

from __future__ import annotations

from django.contrib import admin

from tandem.catalogue.models import (
    Contract,
    CutOff,
    IntakeField,
    ProcedureStep,
    ReviewAction,
    Service,
    ServiceEvent,
    ServiceReview,
    ServiceSkill,
)


class IntakeFieldInline(admin.TabularInline):
    model = IntakeField
    extra = 0
    fields = (
        "position", "key", "label", "kind", "required", "help_text", "choices",
        "min_value", "max_value", "days_past", "days_ahead", "weekday", "pattern", "pattern_message",
    )


class CutOffInline(admin.TabularInline):
    model = CutOff
    extra = 0


class ServiceSkillInline(admin.TabularInline):
    model = ServiceSkill
    extra = 0
    autocomplete_fields = ("skill",)


class ProcedureStepInline(admin.TabularInline):
    model = ProcedureStep
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "unit",
        "owner",
        "turnaround_days",
        "confidential",
        "external_allowed",
        "active",
        "last_reviewed_on",
        "review_interval_months",
        "owner_missing",
    )
    list_filter = ("active", "confidential", "external_allowed", "unit")
    search_fields = ("name", "slug", "summary")
    list_select_related = ("unit", "owner__user")
    autocomplete_fields = ("unit", "owner")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (IntakeFieldInline, CutOffInline, ServiceSkillInline, ProcedureStepInline)

    @admin.display(boolean=True, description="owner missing")
    def owner_missing(self, obj: Service) -> bool:
        """Flagged when the owner's account is deactivated: choose a new owner."""
        return not obj.owner.user.is_active


class ReviewActionInline(admin.TabularInline):
    model = ReviewAction
    extra = 0
    autocomplete_fields = ("owner",)


@admin.register(ServiceReview)
class ServiceReviewAdmin(admin.ModelAdmin):
    list_display = ("service", "reviewed_on", "reviewer")
    list_select_related = ("service", "reviewer__user")
    search_fields = ("service__name", "findings")
    autocomplete_fields = ("reviewer", "recorded_by")
    inlines = (ReviewActionInline,)


@admin.register(ServiceEvent)
class ServiceEventAdmin(admin.ModelAdmin):
    """Append-only history: read it here, change it through the actions."""

    list_display = ("service", "kind", "actor", "at")
    list_filter = ("kind",)
    search_fields = ("service__name",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """A client's contracted services (the everyday page is /manage/clients/)."""

    list_display = ("organisation", "service", "starts_on", "ends_on")
    list_filter = ("organisation",)
    autocomplete_fields = ("service",)
