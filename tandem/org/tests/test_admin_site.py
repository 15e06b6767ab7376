"""Django admin: every model is there and loads for a superuser; requests are read-only and
events are append-only; token hashes never show; big lists never count the whole table."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tandem.notifications.actions import notify
from tandem.notifications.models import Notification
from tandem.org.models import Absence, ApiToken, PersonSkill, Skill
from tandem.org.tokens import issue_token
from tandem.work import actions
from tandem.work.models import Case, Comment, Event, ServiceRequest
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.test", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def worked(cast: Cast) -> ServiceRequest:
    """A request with a case, events, a comment, a notification and a token around it."""
    case = actions.create_case(cast.consultant, customer_reference="ACME-1", title="Acme onboarding")
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, case_id=case.pk).request
    actions.start_request(cast.payroll_agent, sr.pk)
    actions.add_comment(cast.payroll_agent, sr.pk, "Checking with the client.")
    notify([cast.consultant.pk], Notification.Kind.COMMENT, sr, "Payroll wrote to you")
    skill = Skill.objects.create(name="Payroll", slug="payroll")
    PersonSkill.objects.create(person=cast.payroll_agent, skill=skill, level=3)
    Absence.objects.create(person=cast.payroll_agent, starts_on="2026-08-03", ends_on="2026-08-07")
    issue_token(cast.consultant.user, "laptop script")
    return sr


def test_it_registers_every_tandem_model_or_shows_it_inline() -> None:
    from django.apps import apps

    from tandem.pay.models import PayRow

    ours = {m for m in apps.get_models() if m.__module__.startswith("tandem.")}
    inline = {i.model for model_admin in admin.site._registry.values() for i in model_admin.inlines}
    # A person's pay is read only through the pay pages, where every read is audited (docs/pay.md).
    kept_out = {PayRow}
    assert ours - set(admin.site._registry) - inline == kept_out
    assert not kept_out & set(admin.site._registry)


def test_it_loads_every_changelist_for_a_superuser(superuser_client: Client, worked: ServiceRequest) -> None:
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        assert superuser_client.get(url, {"q": "SR-1"}).status_code == 200, url


def test_it_loads_every_change_page_for_a_superuser(superuser_client: Client, cast: Cast, worked: ServiceRequest) -> None:
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert superuser_client.get(url).status_code == 200, url


def test_it_shows_a_request_read_only_with_its_events(superuser_client: Client, worked: ServiceRequest) -> None:
    url = reverse("admin:work_servicerequest_change", args=[worked.pk])
    body = superuser_client.get(url).content.decode()
    assert "Submitted" in body and "Started" in body and "Commented" in body
    assert 'name="status"' not in body and 'name="title"' not in body  # nothing to edit
    response = superuser_client.post(url, {"status": "closed", "title": "Changed"})
    assert response.status_code == 403
    worked.refresh_from_db()
    assert worked.status == "in_progress" and worked.title != "Changed"
    assert superuser_client.get(reverse("admin:work_servicerequest_add")).status_code == 403
    assert superuser_client.get(reverse("admin:work_servicerequest_delete", args=[worked.pk])).status_code == 403


def test_it_allows_no_add_change_or_delete_of_events(superuser_client: Client, worked: ServiceRequest) -> None:
    event = Event.objects.get(request=worked, seq=1)
    model_admin = admin.site._registry[Event]
    request = superuser_client.get("/").wsgi_request
    request.user = get_user_model().objects.get(username="root")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert superuser_client.get(reverse("admin:work_event_add")).status_code == 403
    assert superuser_client.post(reverse("admin:work_event_change", args=[event.pk]), {"kind": "resolved"}).status_code == 403
    assert superuser_client.post(reverse("admin:work_event_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    changelist = superuser_client.get(reverse("admin:work_event_changelist")).content.decode()
    assert "delete_selected" not in changelist
    assert Event.objects.filter(request=worked).count() == 3


def test_it_finds_a_request_and_its_events_by_reference(superuser_client: Client, worked: ServiceRequest) -> None:
    body = superuser_client.get(reverse("admin:work_servicerequest_changelist"), {"q": worked.reference}).content.decode()
    assert worked.reference in body and "1 result" in body
    body = superuser_client.get(reverse("admin:work_event_changelist"), {"q": worked.reference}).content.decode()
    assert "3 results" in body


def test_it_never_counts_the_whole_table_of_big_lists_nor_lists_every_request() -> None:
    for model in (ServiceRequest, Event, Comment, Case, Notification):
        assert admin.site._registry[model].show_full_result_count is False, model
    for model in (Event, Comment, Notification):
        assert "request" in admin.site._registry[model].raw_id_fields, model


def test_it_never_shows_a_token_hash_and_revokes_tokens(superuser_client: Client, worked: ServiceRequest) -> None:
    token = ApiToken.objects.get()
    change = superuser_client.get(reverse("admin:org_apitoken_change", args=[token.pk])).content.decode()
    assert token.key_hash not in change and "key_hash" not in change and token.prefix in change
    assert superuser_client.get(reverse("admin:org_apitoken_add")).status_code == 403
    response = superuser_client.post(reverse("admin:org_apitoken_changelist"), {
        "action": "revoke", "_selected_action": [token.pk]}, follow=True)
    assert "Revoked 1 token" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_keeps_people_out_of_the_admin_unless_they_are_administrators(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.payroll_lead.user)
    response = client.get(reverse("admin:work_servicerequest_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
