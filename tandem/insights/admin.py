from django.contrib import admin

from tandem.insights.models import WeeklyFlow


@admin.register(WeeklyFlow)
class WeeklyFlowAdmin(admin.ModelAdmin):
    """Derived rows (rebuilt by the worker): read-only."""

    list_display = ("week", "service", "requesting_unit", "channel", "resolved")
    list_filter = ("unit", "channel")
    date_hierarchy = "week"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
