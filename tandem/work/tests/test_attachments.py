"""Files on requests and comments: kept through the storage API, opened only by those who see
them, served as downloads; bad files refused with what to do and nothing saved."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tandem.catalogue.models import IntakeField
from tandem.engines.attachments import safe_name
from tandem.refusal import Invalid
from tandem.work import actions
from tandem.work.models import Attachment, Comment, ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


@pytest.fixture(autouse=True)
def _files_in_scratch(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}


def client_for(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.mark.parametrize("given, kept", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\evil.pdf", "evil.pdf"),
    ("in\x00voice\x1b[31m.pdf", "invoice[31m.pdf"),
    ("re\u202eport\u202c.pdf", "report.pdf"),  # a right-to-left override would disguise the extension
    ("Cafe\u0301 \u00e9t\u00e9.pdf", "Caf\u00e9 \u00e9t\u00e9.pdf"),
    ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
    ("...", "file"),
    ('what?<is>:this|".pdf', "what__is__this__.pdf"),
])
def test_it_keeps_a_safe_name(given: str, kept: str) -> None:
    assert safe_name(given) == kept


def test_it_keeps_files_with_a_comment_and_serves_them_only_as_downloads(cast: Cast) -> None:
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    comment = actions.add_comment(cast.consultant, sr.pk, "The signed sheet.",
                                  files=[upload("../sheet.pdf", PDF), upload("photo.png", PNG)])
    files = list(comment.attachments.order_by("id"))
    assert [(f.name, f.size, f.content_type) for f in files] == [
        ("sheet.pdf", len(PDF), "application/pdf"), ("photo.png", len(PNG), "image/png")]
    assert ".." not in files[0].file.name and "sheet" not in files[0].file.name

    response = client_for("payroll_agent").get(f"/requests/{sr.pk}/files/{files[0].pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="sheet.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    page = client_for("consultant").get(f"/requests/{sr.pk}/")
    assert f"/requests/{sr.pk}/files/{files[0].pk}/" in page.content.decode()


@pytest.mark.parametrize("name, content, told", [
    ("huge.pdf", b"%PDF-" + b"0" * (1024 * 1024 + 1), "files here take at most 1 MB"),
    ("invoice.pdf", b"MZ\x90\x00\x03", "is a program"),
    ("invoice.pdf", b"<html><script>alert(1)</script>", "does not hold what a .pdf file holds"),
    ("page.html", b"<html></html>", "not a kind of file taken here"),
    ("empty.txt", b"", "is empty"),
])
def test_a_bad_file_is_refused_on_the_page_with_what_to_do_nothing_saved_and_the_text_kept(
    cast: Cast, name: str, content: bytes, told: str
) -> None:
    cast.timesheet.attachment_max_mb = 1
    cast.timesheet.save(update_fields=["attachment_max_mb"])
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    response = client_for("consultant").post(
        f"/requests/{sr.pk}/comment/", {"comment-comment": "Typed with care", "comment-attachments": upload(name, content)}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert told in body and "Typed with care" in body
    assert not Comment.objects.filter(request=sr).exists() and not Attachment.objects.exists()


def test_a_service_may_take_fewer_kinds_than_the_site(cast: Cast) -> None:
    cast.timesheet.attachment_types = "pdf"
    cast.timesheet.save(update_fields=["attachment_types"])
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    with pytest.raises(Invalid, match="attach one of: pdf"):
        actions.add_comment(cast.consultant, sr.pk, "Photo", files=[upload("photo.png", PNG)])


def test_an_intake_file_field_takes_a_real_file_and_honours_required(cast: Cast) -> None:
    IntakeField.objects.create(service=cast.timesheet, position=9, key="sheet", label="Signed timesheet", kind="file")
    client = client_for("consultant")
    form = {f"intake-{k}": v for k, v in TIMESHEET_OK.items()} | {"token": "t-1", "channel": "internal",
                                                                  "title": "Ann's week"}
    missing = client.post("/catalogue/timesheet-correction/request/", form)
    assert missing.status_code == 422
    assert "Attach the file: this field needs one." in missing.content.decode()
    assert "Ann&#x27;s week" in missing.content.decode() and not ServiceRequest.objects.exists()

    sent = client.post("/catalogue/timesheet-correction/request/", form | {"intake-sheet": upload("week.pdf", PDF)})
    assert sent.status_code == 302
    sr = ServiceRequest.objects.get()
    (kept,) = sr.attachments.all()
    assert (sr.intake["sheet"], kept.field_key, kept.comment_id) == ("week.pdf", "sheet", None)
    assert client.get(f"/requests/{sr.pk}/files/{kept.pk}/").status_code == 200


def test_the_api_submits_a_file_field_lists_attaches_and_downloads(cast: Cast) -> None:
    IntakeField.objects.create(service=cast.timesheet, position=9, key="sheet", label="Signed timesheet", kind="file")
    api = ApiClient(cast.consultant)
    sheet = {"name": "week.pdf", "content_base64": base64.b64encode(PDF).decode()}
    made = api.post("/api/requests", {"service": "timesheet-correction", "intake": TIMESHEET_OK | {"sheet": sheet}})
    assert made.status_code == 201, made.json()
    sr_id = made.json()["id"]
    bad = api.post("/api/requests", {"service": "timesheet-correction",
                                     "intake": TIMESHEET_OK | {"sheet": {"name": "x.pdf", "content_base64": "MZ=="}}})
    assert bad.status_code == 422 and "intake.sheet" in bad.json()["errors"], bad.json()

    attached = api.client.post(f"/api/requests/{sr_id}/attachments",
                               {"files": [upload("photo.png", PNG)], "body": "A photo"})
    assert attached.status_code == 201, attached.json()
    assert attached.json()["comment"]["body"] == "A photo"
    listed = api.get(f"/api/requests/{sr_id}/attachments").json()
    assert [(a["name"], a["field"], a["size"]) for a in listed] == [("week.pdf", "sheet", len(PDF)),
                                                                      ("photo.png", "", len(PNG))]
    download = api.get(listed[1]["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"] == 'attachment; filename="photo.png"'
    refused = api.client.post(f"/api/requests/{sr_id}/attachments", {"files": [upload("run.pdf", b"\x7fELF")]})
    assert refused.status_code == 422 and "is a program" in refused.json()["detail"]
    assert Attachment.objects.count() == 2


def test_only_those_who_see_the_payload_open_a_confidential_requests_files(cast: Cast) -> None:
    sr = actions.submit_request(cast.consultant, cast.grievance, {"details": "x"}).request
    comment = actions.add_comment(cast.consultant, sr.pk, "Evidence", files=[upload("evidence.pdf", PDF)])
    note = actions.add_comment(cast.hr_agent, sr.pk, "Our notes", internal=True, files=[upload("notes.pdf", PDF)])
    shared, internal = comment.attachments.get(), note.attachments.get()
    for username, sees_shared, sees_internal in [
        ("consultant", 200, 404), ("hr_agent", 200, 200), ("admin", 200, 200),
        ("executive", 404, 404), ("colleague", 404, 404), ("payroll_lead", 404, 404),
    ]:
        client = client_for(username)
        assert client.get(f"/requests/{sr.pk}/files/{shared.pk}/").status_code == sees_shared, username
        assert client.get(f"/requests/{sr.pk}/files/{internal.pk}/").status_code == sees_internal, username
        # A file is reached through its own request only.
        other = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
        assert client.get(f"/requests/{other.pk}/files/{shared.pk}/").status_code == 404
