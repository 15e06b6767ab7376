from django.contrib import admin

from tandem.promises.models import EngineFit, Promise


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written from the admin."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Promise)
class PromiseAdmin(ReadOnlyAdmin):
    """Read-only: a promise is written once at submission and refreshed only by the worker."""

    list_display = ("request", "service", "confidence", "promised_at", "forecast_at", "slipped_at")
    list_filter = ("basis", "unit")
    search_fields = ("request__id",)
    list_select_related = ("request", "service")


@admin.register(EngineFit)
class EngineFitAdmin(ReadOnlyAdmin):
    """Read-only: the worker writes the nightly fits; the admin shows what quotes and why a fit failed."""

    list_display = ("due_on", "state", "fitted_at", "cases", "fit_seconds", "reason")
    list_filter = ("state",)
    exclude = ("model_json",)
