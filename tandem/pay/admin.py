"""Django admin: the HR role is granted here by administrators; pay rows are never listed here
(only through the audited pages), and the audit trail is read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from tandem.org.queries import person_of
from tandem.pay import actions
from tandem.pay.models import GradeExplanation, HrRole, PayAudit, PaySnapshot


@admin.register(HrRole)
class HrRoleAdmin(admin.ModelAdmin):
    list_display = ("person", "granted_by", "granted_at")
    autocomplete_fields = ("person",)
    readonly_fields = ("granted_by", "granted_at")

    def save_model(self, request: HttpRequest, obj: HrRole, form: object, change: bool) -> None:
        # Through the action, so that the grant is audited like every other act on pay data.
        admin_person = person_of(request.user)
        if admin_person is None:
            super().save_model(request, obj, form, change)
            return
        saved = actions.grant_hr_role(admin_person, obj.person)
        obj.pk, obj.granted_by, obj.granted_at = saved.pk, saved.granted_by, saved.granted_at

    def delete_model(self, request: HttpRequest, obj: HrRole) -> None:
        admin_person = person_of(request.user)
        if admin_person is None:
            super().delete_model(request, obj)
            return
        actions.revoke_hr_role(admin_person, obj.person)


@admin.register(PayAudit)
class PayAuditAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "what", "snapshot", "detail")
    list_filter = ("what",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Seen here, changed only through the audited pages and API."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PaySnapshot)
class PaySnapshotAdmin(ReadOnlyAdmin):
    """Which snapshots were imported, when and by whom: their rows are not here."""

    list_display = ("snapshot_date", "file_name", "imported_by", "imported_at")


@admin.register(GradeExplanation)
class GradeExplanationAdmin(ReadOnlyAdmin):
    list_display = ("grade", "review_date", "by", "at")
