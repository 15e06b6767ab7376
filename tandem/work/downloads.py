"""A file as a download, the same from the page and the API: its type from the allow-list
(never the one it came with), never sniffed, never shown as a page, never cached."""

from __future__ import annotations

from typing import cast

from django.http import FileResponse, HttpResponse

from tandem.engines.attachments import CONTENT_TYPES, extension
from tandem.work.models import Attachment


def download(item: Attachment) -> HttpResponse:
    content_type = CONTENT_TYPES.get(extension(item.name), "application/octet-stream")
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return cast(HttpResponse, response)  # a streaming response, passed through as it is
