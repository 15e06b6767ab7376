"""Django admin for cases, service requests, events and comments.

Service requests are read-only here: a status change goes through an action, which checks the
life cycle and writes its event. Events are append-only, so the admin can neither add, change
nor delete them. ServiceRequest and Event reach a million rows: lists never count the whole
table, and related objects are picked by id, never from a drop-down.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tandem.work.models import Attachment, Case, Comment, Event, SavedView, ServiceRequest, TimeEntry
from tandem.work.numbering import canonical


def request_id_in(search_term: str) -> int | None:
    """The request a search names: its reference as people copy it from a page or an email
    ("SR-000123", "sr123", "NORTHERN-000042"; 0 when no request has it), or its id ("123");
    None when the text is neither."""
    text = search_term.strip()
    if text.isdigit() and len(text) <= 12:
        return int(text)
    reference = canonical(text)
    if reference is None:
        return None
    return ServiceRequest.objects.filter(reference=reference).values_list("pk", flat=True).first() or 0


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = Event
    fields = ("seq", "kind", "actor", "at", "from_status", "to_status", "internal", "data")
    readonly_fields = fields
    ordering = ("seq",)
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("actor__user")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TimeEntryInline(admin.TabularInline):
    """Time people logged: shown with the request, changed only by the people who logged it
    (through the request page or the API)."""

    model = TimeEntry
    fields = ("person", "worked_on", "seconds", "note", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AttachmentInline(admin.TabularInline):
    """The request's files, listed (name, size, who, where); opened only through the request's
    page, which checks who may see them."""

    model = Attachment
    fields = ("name", "content_type", "size", "comment", "field_key", "uploaded_by", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "customer_reference",
        "title",
        "owner",
        "unit",
        "status",
        "created_at",
    )
    list_filter = ("status", "unit")
    search_fields = ("customer_reference", "title")
    list_select_related = ("owner__user", "unit")
    raw_id_fields = ("owner",)
    readonly_fields = ("unit", "status", "created_at", "closed_at")
    show_full_result_count = False

    @admin.display(description="reference", ordering="id")
    def reference(self, obj: Case) -> str:
        return obj.reference


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "title",
        "service",
        "unit",
        "requesting_unit",
        "status",
        "channel",
        "assignee",
        "submitted_at",
        "due_at",
    )
    list_filter = ("status", "channel", "confidential", "unit", "requesting_unit", "service")
    search_fields = ("title",)
    search_help_text = "A reference (SR-000123 or 123), or words from the title."
    list_select_related = ("service", "unit", "requesting_unit", "assignee__user")
    raw_id_fields = ("service", "unit", "requesting_unit", "requester", "case", "assignee")
    exclude = ("submission_digest",)
    show_full_result_count = False
    inlines = (EventInline, TimeEntryInline, AttachmentInline)

    @admin.display(description="reference", ordering="id")
    def reference(self, obj: ServiceRequest) -> str:
        return obj.reference

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ServiceRequest], search_term: str
    ) -> tuple[QuerySet[ServiceRequest], bool]:
        request_id = request_id_in(search_term)
        if request_id is not None:
            return queryset.filter(pk=request_id), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """Append-only: no add, change or delete, for anyone."""

    list_display = ("request", "seq", "kind", "actor", "at", "from_status", "to_status", "internal")
    list_filter = ("kind", "internal")
    search_fields = ("=request__id",)
    search_help_text = "A request's reference (SR-000123 or 123)."
    list_select_related = ("request", "actor__user")
    raw_id_fields = ("request", "actor")
    ordering = ("-id",)
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Event], search_term: str
    ) -> tuple[QuerySet[Event], bool]:
        request_id = request_id_in(search_term)
        if request_id is None:
            return (queryset.none(), False) if search_term.strip() else (queryset, False)
        return queryset.filter(request_id=request_id), False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Only the text can be changed (to remove something that must not be kept); comments are
    written on the request page, and the events refer to them, so they are never deleted here."""

    list_display = ("request", "author", "visibility", "is_advice", "addressed_to", "created_at")
    list_filter = ("visibility", "is_advice")
    search_fields = ("=request__id",)
    search_help_text = "A request's reference (SR-000123 or 123)."
    list_select_related = ("request", "author__user", "addressed_to__user")
    raw_id_fields = ("request", "author", "addressed_to", "acknowledged_by")
    readonly_fields = (
        "request",
        "author",
        "visibility",
        "addressed_to",
        "is_advice",
        "acknowledged_at",
        "acknowledged_by",
        "created_at",
    )
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Comment], search_term: str
    ) -> tuple[QuerySet[Comment], bool]:
        request_id = request_id_in(search_term)
        if request_id is None:
            return (queryset.none(), False) if search_term.strip() else (queryset, False)
        return queryset.filter(request_id=request_id), False


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    """A team queue's named filters: leads keep them from the queue page."""

    list_display = ("name", "unit", "query", "created_by", "created_at")
    list_filter = ("unit",)
