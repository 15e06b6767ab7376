"""The service editor (/manage/services/) through the HTTP client against a real database: a lead
keeps their unit's catalogue, administrators every unit's, and bad input changes nothing."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tandem.catalogue import actions
from tandem.catalogue.intake import intake_form_class
from tandem.catalogue.models import CutOff, IntakeField, ProcedureStep, Service, ServiceSkill
from tandem.org.models import Person, Role, Skill
from tandem.refusal import Forbidden, Invalid
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def service_data(cast: Cast, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Pay rate change", "slug": "pay-rate-change", "unit": cast.payroll.pk,
        "owner": cast.payroll_lead.pk, "summary": "Change a worker's pay rate from a date.",
        "scope_includes": "Rate changes agreed with the client.", "scope_excludes": "Hours (ask for a timesheet correction).",
        "turnaround_days": "3", "external_allowed": "on", "last_reviewed_on": "2026-01-15",
        **overrides,
    }
    return {k: v for k, v in data.items() if v is not None}


def field_data(**overrides: str | None) -> dict[str, str]:
    data: dict[str, str | None] = {
        "label": "Worker name", "key": "", "kind": "text", "required": "on", "help_text": "", "choices": "",
        **overrides,
    }
    return {f"field-{k}": v for k, v in data.items() if v is not None}


def keys(service: Service) -> list[str]:
    return list(service.fields.order_by("position").values_list("key", flat=True))


# --- who may edit what -----------------------------------------------------------------------


def test_it_lists_only_the_services_a_lead_may_edit(cast: Cast) -> None:
    body = client_for(cast.payroll_lead).get("/manage/services/").content.decode()
    assert "Timesheet correction" in body and "Grievance" not in body
    body = client_for(cast.admin).get("/manage/services/").content.decode()
    assert "Timesheet correction" in body and "Grievance" in body


def test_it_forbids_a_lead_another_units_service_and_changes_nothing(cast: Cast) -> None:
    hr_lead = make_person("hr_lead", cast.hr, Role.LEAD)
    client = client_for(hr_lead)
    service = cast.timesheet
    assert client.get(f"/manage/services/{service.pk}/").status_code == 403
    posts = {
        f"/manage/services/{service.pk}/": service_data(cast, name="Taken over", slug="timesheet-correction"),
        f"/manage/services/{service.pk}/fields/": field_data(label="Sneaky"),
        f"/manage/services/{service.pk}/steps/": {"step-text": "Skip the approval."},
        f"/manage/services/{service.pk}/reviewed/": {},
        f"/manage/services/{service.pk}/fields/{service.fields.get(key='worker').pk}/remove/": {},
    }
    for url, data in posts.items():
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert b"only its lead or an administrator" in response.content
    service.refresh_from_db()
    assert service.name == "Timesheet correction" and service.fields.count() == 5 and service.steps.count() == 2


def test_it_forbids_a_lead_to_create_a_service_for_another_unit(cast: Cast) -> None:
    response = client_for(cast.payroll_lead).post("/manage/services/new/", service_data(cast, unit=cast.hr.pk))
    assert response.status_code == 422
    assert "Choose one of the back-office units you lead" in response.content.decode()
    assert not Service.objects.filter(slug="pay-rate-change").exists()
    with pytest.raises(Forbidden):
        actions.create_service(cast.payroll_lead, unit=cast.hr, owner=cast.hr_agent, name="Pay rate change",
                               slug="pay-rate-change", summary="S", scope_includes="S", turnaround_days=3)


def test_it_forbids_a_member_of_the_providing_unit(cast: Cast) -> None:
    client = client_for(cast.payroll_agent)
    assert client.get(f"/manage/services/{cast.timesheet.pk}/").status_code == 403
    assert client.post("/manage/services/new/", service_data(cast)).status_code == 403
    assert not Service.objects.filter(slug="pay-rate-change").exists()


# --- the service itself ----------------------------------------------------------------------


def test_it_lets_a_lead_create_a_service_that_starts_unpublished(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    assert client.get("/manage/services/new/").status_code == 200
    response = client.post("/manage/services/new/", service_data(cast))
    assert response.status_code == 302
    service = Service.objects.get(slug="pay-rate-change")
    assert response["Location"] == f"/manage/services/{service.pk}/"
    assert (service.unit, service.owner, service.turnaround_days) == (cast.payroll, cast.payroll_lead, 3)
    assert not service.active and service.external_allowed and not service.confidential
    assert service.last_reviewed_on == date(2026, 1, 15)
    assert client.get(f"/manage/services/{service.pk}/").status_code == 200


def test_it_refuses_a_service_provided_by_a_front_office_unit_and_keeps_what_was_typed(cast: Cast) -> None:
    response = client_for(cast.admin).post("/manage/services/new/", service_data(cast, unit=cast.leeds.pk))
    assert response.status_code == 422
    body = response.content.decode()
    assert "services are provided by back-office units" in body
    assert 'value="Pay rate change"' in body and "Rate changes agreed with the client." in body
    assert not Service.objects.filter(slug="pay-rate-change").exists()
    # The action says the same to any caller, whatever the form offered.
    with pytest.raises(Invalid) as refused:
        actions.create_service(cast.admin, unit=cast.leeds, owner=cast.consultant, name="X", slug="x",
                               summary="X", scope_includes="X", turnaround_days=1)
    assert "unit" in refused.value.errors and "front-office unit" in refused.value.message
    assert not Service.objects.filter(slug="x").exists()


@pytest.mark.parametrize("overrides, message", [
    ({"turnaround_days": "0"}, "greater than or equal to 1"),
    ({"slug": "grievance"}, "Service with this Slug already exists"),
    ({"owner": ""}, "This field is required"),
    ({"last_reviewed_on": "2026-02-30"}, "Enter a valid date"),
])
def test_it_refuses_a_bad_service_and_changes_nothing(cast: Cast, overrides: dict, message: str) -> None:
    response = client_for(cast.payroll_lead).post(f"/manage/services/{cast.timesheet.pk}/", service_data(
        cast, name="Renamed", **overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert 'value="Renamed"' in response.content.decode()
    cast.timesheet.refresh_from_db()
    assert cast.timesheet.name == "Timesheet correction" and cast.timesheet.turnaround_days == 2


def test_it_refuses_an_owner_who_is_deactivated(cast: Cast) -> None:
    cast.payroll_agent2.user.is_active = False
    cast.payroll_agent2.user.save()
    with pytest.raises(Invalid, match="is deactivated"):
        actions.update_service(cast.payroll_lead, cast.timesheet.pk, **{
            **{f: getattr(cast.timesheet, f) for f in (
                "name", "slug", "summary", "scope_includes", "scope_excludes", "turnaround_days",
                "confidential", "external_allowed", "active", "last_reviewed_on")},
            "unit": cast.payroll, "owner": cast.payroll_agent2})
    cast.timesheet.refresh_from_db()
    assert cast.timesheet.owner == cast.payroll_lead


def test_it_lets_a_lead_update_publish_and_mark_a_service_reviewed(cast: Cast) -> None:
    service = cast.timesheet
    Service.objects.filter(pk=service.pk).update(active=False, last_reviewed_on=date(2024, 1, 1))
    client = client_for(cast.payroll_lead)
    assert "review" in client.get(f"/manage/services/{service.pk}/").content.decode()
    response = client.post(f"/manage/services/{service.pk}/", service_data(
        cast, name="Timesheet corrections", slug="timesheet-correction", owner=cast.payroll_agent.pk,
        turnaround_days="1", confidential="on", active="on", last_reviewed_on="2024-01-01"))
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.name, service.owner, service.turnaround_days) == ("Timesheet corrections", cast.payroll_agent, 1)
    assert service.active and service.confidential
    assert client.post(f"/manage/services/{service.pk}/reviewed/").status_code == 302
    service.refresh_from_db()
    assert service.last_reviewed_on == timezone.localdate()


def test_it_refuses_to_move_a_service_with_open_requests(cast: Cast) -> None:
    from tandem.work.actions import submit_request
    from tests.cast import TIMESHEET_OK

    submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK)
    response = client_for(cast.admin).post(f"/manage/services/{cast.timesheet.pk}/", service_data(
        cast, name="Timesheet correction", slug="timesheet-correction", unit=cast.hr.pk, active="on"))
    assert response.status_code == 422
    assert "1 open request" in response.content.decode()
    cast.timesheet.refresh_from_db()
    assert cast.timesheet.unit == cast.payroll


# --- the intake form -----------------------------------------------------------------------------


def test_it_builds_an_intake_form_that_requesters_then_fill_in(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    service = cast.timesheet
    IntakeField.objects.filter(service=service).delete()
    response = client.post(f"/manage/services/{service.pk}/fields/", field_data(label="Worker name"))
    assert response.status_code == 302 and response["Location"].endswith("#intake")
    client.post(f"/manage/services/{service.pk}/fields/", field_data(
        label="Reason", kind="choice", choices="Missed shift\n\nOvertime\nMissed shift\n", required=None))
    client.post(f"/manage/services/{service.pk}/fields/", field_data(label="Hours", key="hours", kind="number"))
    assert keys(service) == ["worker_name", "reason", "hours"]
    reason = service.fields.get(key="reason")
    assert reason.choices == ["Missed shift", "Overtime"] and not reason.required
    form = intake_form_class(service)(data={"worker_name": "Ann", "hours": "7.5", "reason": "Overtime"})
    assert list(form.fields) == ["worker_name", "reason", "hours"] and form.is_valid()


def test_it_refuses_a_choice_field_without_choices_and_keeps_what_was_typed(cast: Cast) -> None:
    response = client_for(cast.payroll_lead).post(f"/manage/services/{cast.timesheet.pk}/fields/", field_data(
        label="Client approval", kind="choice", choices="  \n ", help_text="Who approved it"))
    assert response.status_code == 422
    body = response.content.decode()
    assert "A choice field needs its choices" in body
    assert 'value="Client approval"' in body and 'value="Who approved it"' in body
    assert cast.timesheet.fields.count() == 5


def test_it_refuses_a_duplicate_field_key(cast: Cast) -> None:
    response = client_for(cast.payroll_lead).post(f"/manage/services/{cast.timesheet.pk}/fields/", field_data(
        label="Hours again", key="hours"))
    assert response.status_code == 422
    assert "already has a field with the key" in response.content.decode()
    assert cast.timesheet.fields.filter(key="hours").count() == 1


def test_it_edits_a_field_and_clears_choices_of_a_field_that_is_no_longer_a_choice(cast: Cast) -> None:
    reason = cast.timesheet.fields.get(key="reason")
    client = client_for(cast.payroll_lead)
    url = f"/manage/services/{cast.timesheet.pk}/fields/{reason.pk}/"
    assert "Missed shift\nOvertime" in client.get(url).content.decode()
    response = client.post(url, field_data(label="Why", key="why", kind="long_text", choices="Ignored", required=None))
    assert response.status_code == 302
    reason.refresh_from_db()
    assert (reason.key, reason.label, reason.kind, reason.choices, reason.required) == (
        "why", "Why", "long_text", [], False)


def test_it_moves_and_removes_intake_fields_keeping_the_order_without_gaps(cast: Cast) -> None:
    service = cast.timesheet
    client = client_for(cast.payroll_lead)
    hours = service.fields.get(key="hours")
    notes = service.fields.get(key="notes")
    client.post(f"/manage/services/{service.pk}/fields/{hours.pk}/move/", {"direction": "up"})
    assert keys(service) == ["hours", "worker", "week_ending", "reason", "notes"]
    client.post(f"/manage/services/{service.pk}/fields/{hours.pk}/move/", {"direction": "down"})
    assert keys(service) == ["worker", "hours", "week_ending", "reason", "notes"]
    response = client.post(f"/manage/services/{service.pk}/fields/{notes.pk}/move/", {"direction": "down"})
    assert response.status_code == 409 and b"already last" in response.content
    client.post(f"/manage/services/{service.pk}/fields/{hours.pk}/remove/")
    assert keys(service) == ["worker", "week_ending", "reason", "notes"]
    assert list(service.fields.order_by("position").values_list("position", flat=True)) == [1, 2, 3, 4]


# --- cut-offs, skills, procedure --------------------------------------------------------------


def test_it_adds_and_removes_cut_offs(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    url = f"/manage/services/{cast.timesheet.pk}/cutoffs/"
    data = {"cutoff-weekday": "1", "cutoff-time": "12:00", "cutoff-description": "Timesheets for Friday's payroll"}
    assert client.post(url, data).status_code == 302
    cutoff = CutOff.objects.get(service=cast.timesheet)
    assert (cutoff.weekday, cutoff.time) == (1, time(12, 0))
    response = client.post(url, data)
    assert response.status_code == 422 and b"already has a cut-off on Tuesday at 12:00" in response.content
    response = client.post(url, {**data, "cutoff-time": "25:00"})
    assert response.status_code == 422 and CutOff.objects.count() == 1
    assert client.post(f"{url}{cutoff.pk}/remove/").status_code == 302
    assert not CutOff.objects.exists()


def test_it_sets_changes_and_removes_required_skills(cast: Cast) -> None:
    skill = Skill.objects.create(name="Payroll", slug="payroll")
    client = client_for(cast.payroll_lead)
    url = f"/manage/services/{cast.timesheet.pk}/skills/"
    assert client.post(url, {"need-skill": skill.pk, "need-min_level": "2"}).status_code == 302
    assert client.post(url, {"need-skill": skill.pk, "need-min_level": "3"}).status_code == 302
    assert list(ServiceSkill.objects.values_list("skill__slug", "min_level")) == [("payroll", 3)]
    assert client.post(url, {"need-skill": skill.pk, "need-min_level": "7"}).status_code == 422
    assert client.post(f"{url}{skill.pk}/remove/").status_code == 302
    assert not ServiceSkill.objects.exists()


def test_it_writes_reorders_and_removes_procedure_steps(cast: Cast) -> None:
    service = cast.timesheet
    client = client_for(cast.payroll_lead)
    assert client.post(f"/manage/services/{service.pk}/steps/", {"step-text": "Tell the worker."}).status_code == 302
    last = service.steps.get(text="Tell the worker.")
    assert last.position == 3
    client.post(f"/manage/services/{service.pk}/steps/{last.pk}/move/", {"direction": "up"})
    assert list(service.steps.values_list("text", flat=True)) == [
        "Check the client's approval.", "Tell the worker.", "Correct the hours in the payroll system."]
    response = client.post(f"/manage/services/{service.pk}/steps/{last.pk}/", {"step-text": "Tell the worker and the client."})
    assert response.status_code == 302
    first = service.steps.get(position=1)
    client.post(f"/manage/services/{service.pk}/steps/{first.pk}/remove/")
    assert list(service.steps.values_list("position", "text")) == [
        (1, "Tell the worker and the client."), (2, "Correct the hours in the payroll system.")]
    response = client.post(f"/manage/services/{service.pk}/steps/", {"step-text": "x" * 401})
    assert response.status_code == 422 and ProcedureStep.objects.filter(service=service).count() == 2


def test_it_shows_the_editor_in_a_bounded_number_of_queries(cast: Cast, django_assert_max_num_queries) -> None:
    service = cast.timesheet
    for n in range(5):
        ProcedureStep.objects.create(service=service, position=10 + n, text=f"Step {n}")
        CutOff.objects.create(service=service, weekday=n, time=time(12), description=f"Cut-off {n}")
    client = client_for(cast.admin)
    with django_assert_max_num_queries(20):
        response = client.get(f"/manage/services/{service.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cut-off 4" in body and "Step 4" in body and "Corrected hours" in body


def test_it_flags_services_due_for_review(cast: Cast) -> None:
    # Reviewed every 18 months by default: 400 days ago is not yet due, 600 days ago is.
    Service.objects.filter(pk=cast.timesheet.pk).update(last_reviewed_on=timezone.localdate() - timedelta(days=400))
    assert "review due" not in client_for(cast.payroll_lead).get("/manage/services/").content.decode()
    Service.objects.filter(pk=cast.timesheet.pk).update(last_reviewed_on=timezone.localdate() - timedelta(days=600))
    body = client_for(cast.payroll_lead).get("/manage/services/").content.decode()
    assert "review due" in body
    assert "due for a process review" in client_for(cast.payroll_lead).get("/manage/").content.decode()
