"""API: the files of a request and its comments (docs/api.md "Attachments").

Files come in as multipart (``POST /api/requests/{id}/attachments``, a comment with its files)
or, for an intake field of type file, inside the submission's JSON
(``tandem.work.api_intake_files``). They go out only through
``GET /api/requests/{id}/attachments/{file_id}``, to exactly those who see them on the page.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status as HttpStatus

from tandem.org.api_shared import HIDDEN_ID, PathId, PersonRef, actor, errors, shared_id, shared_ids_hidden
from tandem.refusal import NotFound
from tandem.rows import one_or_none
from tandem.work import actions
from tandem.work.api import MOVE_ERRORS, _visible_request
from tandem.work.downloads import download
from tandem.work.models import Attachment
from tandem.work.queries import attachments_for
from tandem.work.schemas import CommentOut, RequestPath

router = Router(tags=["attachments"])


class AttachmentOut(Schema):
    id: int | None = Field(..., description=HIDDEN_ID)
    request_id: int | None = Field(..., description=HIDDEN_ID)
    name: str
    content_type: str
    size: int
    comment_id: int | None = Field(..., description="The comment it came with (null: an intake field's). " + HIDDEN_ID)
    field: str
    uploaded_by: PersonRef
    created_at: datetime
    download: str = Field(..., description="Its address: under the request's reference for a client's people.")

    @classmethod
    def of(cls, a: Attachment) -> AttachmentOut:
        return cls(
            id=shared_id(a.pk), request_id=shared_id(a.request_id), name=a.name, content_type=a.content_type,
            size=a.size, comment_id=shared_id(a.comment_id), field=a.field_key,
            uploaded_by=PersonRef.of(a.uploaded_by), created_at=a.created_at,
            download=f"/api/requests/{a.request.reference if shared_ids_hidden() else a.request_id}"
            f"/attachments/{a.pk}",
        )


class CommentWithFilesOut(Schema):
    comment: CommentOut
    attachments: list[AttachmentOut]


@router.get(
    "/requests/{request:request_id}/attachments",
    response={200: list[AttachmentOut], **errors(403, 404, 422)},
    summary="List a request's files",
)
def list_attachments(request: HttpRequest, request_id: RequestPath) -> list[AttachmentOut]:
    """The files of the request, its intake fields and its comments that you may open (none of
    a confidential request's unless you see its details; an internal note's only for the
    providing unit), oldest first."""
    person = actor(request)
    sr = _visible_request(request, request_id)
    files = attachments_for(person, sr).select_related("uploaded_by__user", "request")
    return [AttachmentOut.of(a) for a in files]


@router.get(
    "/requests/{request:request_id}/attachments/{file_id}",
    response=errors(403, 404, 422),
    openapi_extra={"responses": {"200": {"description": "The file, as a download.",
                                         "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}},
    summary="Download a file",
)
def download_attachment(request: HttpRequest, request_id: RequestPath, file_id: PathId) -> HttpResponse:
    """The file's bytes with `Content-Disposition: attachment`, its type from the allow-list and
    `X-Content-Type-Options: nosniff`; 404 to anyone who may not open it."""
    person = actor(request)
    item = one_or_none(attachments_for(person, _visible_request(request, request_id)).filter(pk=file_id))
    if item is None:
        raise NotFound(f"There is no file {file_id} on request {request_id} that you can open.")
    return download(item)


@router.post(
    "/requests/{request:request_id}/attachments",
    response={201: CommentWithFilesOut, **MOVE_ERRORS},
    summary="Attach files with a comment",
)
def attach_files(
    request: HttpRequest,
    request_id: RequestPath,
    files: File[list[UploadedFile]],
    body: Form[str] = "",
    internal: Form[bool] = False,
) -> HttpStatus:
    """Multipart: one or more `files` and an optional `body`; they become one comment (an
    internal note with `internal`, providing unit only). Each file is checked against the
    service's limits (size, kind, its first bytes); one refused file saves nothing."""
    count = len(files)
    text = body.strip() or f"Attached {count} file{'s' if count != 1 else ''}."
    comment = actions.add_comment(actor(request), request_id, text, internal=internal, files=list(files))
    saved = [AttachmentOut.of(a)
             for a in comment.attachments.select_related("uploaded_by__user", "request").order_by("id")]
    return HttpStatus(201, {"comment": CommentOut.of(comment), "attachments": saved})
