from django.contrib import admin

from tandem.insights.models import WeeklyConformance, WeeklyFlow, WeeklyProcess, WeeklyTeamWait, WeeklyVariant


@admin.register(WeeklyFlow)
class WeeklyFlowAdmin(admin.ModelAdmin):
    """Derived rows (rebuilt by the worker): read-only."""

    list_display: tuple[str, ...] = ("week", "service", "requesting_unit", "channel", "resolved")
    list_filter = ("unit", "channel")
    date_hierarchy = "week"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(WeeklyTeamWait)
class WeeklyTeamWaitAdmin(WeeklyFlowAdmin):
    list_display = ("week", "service", "waited_on", "requests", "seconds")
    list_filter = ("unit", "waited_on")


@admin.register(WeeklyConformance)
class WeeklyConformanceAdmin(WeeklyFlowAdmin):
    list_display = ("week", "service", "requesting_unit", "channel", "checked", "following")


@admin.register(WeeklyProcess)
class WeeklyProcessAdmin(WeeklyFlowAdmin):
    list_display = ("week", "service", "cases", "events", "handovers", "ping_pong")
    list_filter = ("service", "week")


@admin.register(WeeklyVariant)
class WeeklyVariantAdmin(WeeklyFlowAdmin):
    list_display = ("week", "service", "key", "cases")
    list_filter = ("service", "week")
