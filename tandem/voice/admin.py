from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tandem.voice.models import (
    AskRating,
    Gift,
    Kudos,
    PulseAnswer,
    PulseAsker,
    PulseDismissal,
    PulseInvitation,
    PulseMonth,
    RequestRating,
    ServiceReport,
    UsedPulseLink,
)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(PulseAnswer)
class PulseAnswerAdmin(_ReadOnly):
    """Never lists answers, not even to administrators: a list of four answers about a unit
    would say what the anonymity threshold exists to hide. Results are on /pulse/results/."""

    list_display = ("unit", "period")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PulseAnswer]:
        return super().get_queryset(request).none()


@admin.register(PulseDismissal)
class PulseDismissalAdmin(_ReadOnly):
    list_display = ("unit", "period", "dismissed_at")
    fields = ("unit", "period", "dismissed_at")


@admin.register(PulseInvitation)
class PulseInvitationAdmin(_ReadOnly):
    list_display = ("unit", "period", "emailed_at")
    fields = ("unit", "period", "emailed_at")


@admin.register(PulseMonth)
class PulseMonthAdmin(_ReadOnly):
    """The worker's monthly summaries (tandem.voice.months): read-only, rebuilt, never edited."""

    list_display = ("unit", "month", "resolved", "late", "promised", "kept")
    list_filter = ("unit",)


@admin.register(PulseAsker)
class PulseAskerAdmin(_ReadOnly):
    list_display = ("unit", "month", "requester")
    list_filter = ("unit",)


@admin.register(UsedPulseLink)
class UsedPulseLinkAdmin(_ReadOnly):
    list_display = ("used_at",)


@admin.register(RequestRating)
class RequestRatingAdmin(_ReadOnly):
    list_display = ("request", "unit", "score", "rated_at", "answered_at")
    list_filter = ("unit", "score")
    search_fields = ("request__id",)


@admin.register(AskRating)
class AskRatingAdmin(_ReadOnly):
    list_display = ("request", "requesting_unit", "complete", "in_time", "rated_at")
    list_filter = ("requesting_unit", "complete", "in_time")
    search_fields = ("request__id",)


@admin.register(Kudos)
class KudosAdmin(admin.ModelAdmin):
    list_display = ("to_unit", "to_person", "given_by", "created_at")
    list_filter = ("to_unit",)
    search_fields = ("message",)
    raw_id_fields = ("given_by", "to_person", "request")


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin):
    """Compliance reviews flagged entries here (record who reviewed and when)."""

    list_display = ("received_on", "received_by", "giver", "value", "flagged", "reviewed_at")
    list_filter = ("flagged",)
    search_fields = ("giver", "description")
    raw_id_fields = ("received_by", "reviewed_by")


@admin.register(ServiceReport)
class ServiceReportAdmin(_ReadOnly):
    """The worker's monthly reports per client (read on /service-review/); a claim left
    unfinished shows without a made time."""

    list_display = ("organisation", "month", "claimed_at", "made_at")
    list_filter = ("organisation",)
    fields = ("organisation", "month", "claimed_at", "made_at", "markdown")
