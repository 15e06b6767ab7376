from django.contrib import admin

from tandem.search.models import SearchDocument


@admin.register(SearchDocument)
class SearchDocumentAdmin(admin.ModelAdmin):
    """Read-only: documents are written from their requests (``tandem search_index`` rebuilds)."""

    list_display = ("request_id", "heading", "indexed_at")
    search_fields = ("=request__id",)
    show_full_result_count = False
    readonly_fields = ("request", "heading", "requester", "payload", "internal", "indexed_at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
