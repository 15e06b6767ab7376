"""Django admin for the service catalogue: a service with its intake form, cut-offs, required
skills and procedure inline. The everyday editor is ``/manage/services/``."""

from __future__ import annotations

from django.contrib import admin

from tandem.catalogue.models import CutOff, IntakeField, ProcedureStep, Service, ServiceSkill


class IntakeFieldInline(admin.TabularInline):
    model = IntakeField
    extra = 0
    fields = ("position", "key", "label", "kind", "required", "help_text", "choices")


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
    )
    list_filter = ("active", "confidential", "external_allowed", "unit")
    search_fields = ("name", "slug", "summary")
    list_select_related = ("unit", "owner__user")
    autocomplete_fields = ("unit", "owner")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (IntakeFieldInline, CutOffInline, ServiceSkillInline, ProcedureStepInline)
