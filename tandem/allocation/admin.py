from django.contrib import admin

from tandem.allocation.models import Plan, PlanLine


class PlanLineInline(admin.TabularInline):
    model = PlanLine
    extra = 0
    raw_id_fields = ("request", "person", "was_assignee")
    readonly_fields = ("accepted_at", "outcome", "outcome_note")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("id", "unit", "status", "created_at", "created_by", "gap")
    list_filter = ("status", "unit")
    raw_id_fields = ("created_by", "accepted_by")
    inlines = [PlanLineInline]
