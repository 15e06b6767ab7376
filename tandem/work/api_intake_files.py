"""API: the files of a submission's intake fields of type file, given inside its JSON as
``{"name": "timesheet.pdf", "content_base64": "..."}`` (docs/api.md "Attachments"). The
submission checks them against the service's limits like any other file.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.files.base import ContentFile

from tandem.catalogue.models import IntakeField, Service
from tandem.refusal import Invalid
from tandem.work.actions.attachments import check_files


def intake_files(service: Service, intake: dict[str, Any]) -> tuple[dict[str, Any], dict[str, ContentFile]]:
    """The intake without its file fields' values, and those files decoded: a file field's
    value is ``{"name": "timesheet.pdf", "content_base64": "..."}``."""
    kinds = {f.key: f.kind for f in service.fields.all()}
    rest: dict[str, Any] = {}
    files: dict[str, ContentFile] = {}
    for key, value in intake.items():
        if kinds.get(key) != IntakeField.Kind.FILE:
            rest[key] = value
            continue
        if value in (None, ""):
            continue
        if not isinstance(value, dict) or not isinstance(value.get("content_base64"), str):
            raise Invalid(
                f"Give the file of {key!r} as {{\"name\": ..., \"content_base64\": ...}}.",
                errors={f"intake.{key}": ["A file: an object with name and content_base64."]},
            )
        try:
            content = base64.b64decode(value["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"The content_base64 of {key!r} is not base64.",
                          errors={f"intake.{key}": ["Not base64."]}) from None
        files[key] = ContentFile(content, name=str(value.get("name") or "file"))
        check_files(service, [files[key]], field_key=key, errors_key=f"intake.{key}")  # refused as intake.<key>
    return rest, files
