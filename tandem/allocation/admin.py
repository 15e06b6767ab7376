from django.contrib import admin

from tandem.allocation.models import Loan, Plan, PlanLine


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


@admin.register(Loan)
class LoanAdmin(admin.ModelAdmin):
    list_display = ("id", "person", "unit", "starts_at", "ends_at", "agreed_by_lender", "ended_at")
    list_filter = ("unit",)
    raw_id_fields = ("person", "agreed_by_lender", "agreed_by_borrower", "created_by", "ended_by")
