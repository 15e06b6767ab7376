"""Files on a request: checked against its service's limits before anything is saved, then
stored (through Django's storage API) inside the action that makes the request or comment they
belong to, so a refused file saves nothing and a saved comment has all its files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File

from tandem.catalogue.models import Service
from tandem.engines import attachments as rules
from tandem.org.models import Person
from tandem.refusal import Invalid
from tandem.work.models import Attachment, Comment, ServiceRequest

MAX_FILES = 10
HEAD_BYTES = 512


@dataclass(frozen=True)
class Checked:
    upload: File
    name: str
    content_type: str
    size: int
    field_key: str = ""


def limits(service: Service) -> tuple[tuple[str, ...], int]:
    """The kinds (extensions) and the largest size (bytes) a service takes: the site's, or
    less where the service narrows them."""
    site_types = tuple(t for t in settings.TANDEM_ATTACHMENT_TYPES if t in rules.CONTENT_TYPES)
    own = tuple(t.strip().lower().lstrip(".") for t in service.attachment_types.split(",") if t.strip())
    types = tuple(t for t in own if t in site_types) if own else site_types
    site_mb = settings.TANDEM_ATTACHMENT_MAX_MB
    mb = min(service.attachment_max_mb, site_mb) if service.attachment_max_mb else site_mb
    return types, mb * 1024 * 1024


def check_files(
    service: Service, files: Sequence[File], *, field_key: str = "", errors_key: str = "files"
) -> list[Checked]:
    """Each file checked, or Invalid naming every file at fault and what to do."""
    if len(files) > MAX_FILES:
        raise Invalid(f"At most {MAX_FILES} files at once; send the rest in another comment.",
                      errors={errors_key: [f"More than {MAX_FILES} files."]})
    allowed, max_bytes = limits(service)
    checked, problems = [], []
    for upload in files:
        name = rules.safe_name(str(upload.name or ""))
        size = int(upload.size or 0)
        upload.seek(0)
        head = upload.read(HEAD_BYTES) if size else b""
        upload.seek(0)
        found = rules.problem(name, size, head, allowed=allowed, max_bytes=max_bytes)
        if found:
            problems.append(found)
            continue
        content_type = rules.CONTENT_TYPES[rules.extension(name)]
        checked.append(Checked(upload, name, content_type, size, field_key))
    if problems:
        raise Invalid(" ".join(problems) + " Nothing was saved.", errors={errors_key: problems})
    return checked


class Stored(list[str]):
    """The storage names written during an action: deleted again when the action fails, since
    the storage is not part of the database transaction."""


@contextmanager
def discarded_on_failure() -> Iterator[Stored]:
    stored = Stored()
    try:
        yield stored
    except BaseException:
        storage = Attachment._meta.get_field("file").storage  # type: ignore[attr-defined]
        for name in stored:
            storage.delete(name)
        raise


def store(
    sr: ServiceRequest, files: Sequence[Checked], actor: Person, stored: Stored, comment: Comment | None = None
) -> list[Attachment]:
    """Save checked files for the request, inside the caller's action transaction (wrapped in
    ``discarded_on_failure``, which deletes the bytes again if the action does not commit)."""
    saved = []
    for item in files:
        attachment = Attachment(
            request=sr, comment=comment, field_key=item.field_key, name=item.name,
            content_type=item.content_type, size=item.size, uploaded_by=actor,
        )
        item.upload.seek(0)
        attachment.file.save(item.name, item.upload, save=False)
        stored.append(attachment.file.name)
        attachment.save(force_insert=True)
        saved.append(attachment)
    return saved
