from django.contrib import admin

from tandem.demand.models import ArrivalForecast, DeclaredDemand, DemandAsk, PlanInputs, WeekForecast


@admin.register(DeclaredDemand)
class DeclaredDemandAdmin(admin.ModelAdmin):
    list_display = ("unit", "service", "week", "count", "declared_by", "declared_at")
    list_filter = ("unit", "week")


@admin.register(ArrivalForecast)
class ArrivalForecastAdmin(admin.ModelAdmin):
    list_display = ("service", "day", "expected", "p10", "p50", "p90", "made_on")
    list_filter = ("service__unit",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # made by the worker


@admin.register(WeekForecast)
class WeekForecastAdmin(admin.ModelAdmin):
    list_display = ("service", "week", "made_on", "expected", "p10", "p90")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(DemandAsk)
class DemandAskAdmin(admin.ModelAdmin):
    list_display = ("unit", "month", "asked_at")


@admin.register(PlanInputs)
class PlanInputsAdmin(admin.ModelAdmin):
    list_display = ("service", "made_on", "effort_seconds", "effort_learned")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # made by the worker
