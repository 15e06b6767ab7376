"""Management pages for units, people, skills, working patterns and absences, through the HTTP
client against a real database: who may do what, and bad input that changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tandem.org import actions
from tandem.org.models import Absence, Person, PersonSkill, Role, Side, Skill, Unit
from tandem.refusal import Forbidden, Invalid
from tests.cast import Cast, make_person

pytestmark = pytest.mark.django_db


def client_for(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def unit_data(**overrides: str) -> dict[str, str]:
    return {
        "name": "Credit control", "slug": "credit-control", "side": "back",
        "description": "Chases unpaid invoices.", "time_zone": "Europe/London", **overrides,
    }


def person_data(cast: Cast, **overrides: object) -> dict[str, object]:
    return {
        "username": "newstarter", "first_name": "Nia", "last_name": "Starter",
        "email": "nia@example.test", "password": "a-long-first-password", "unit": cast.payroll.pk,
        "role": "member", "job_title": "Payroll clerk", "time_zone": "Europe/London",
        "email_notifications": "on", **overrides,
    }


def edit_data(person: Person, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": person.user.first_name, "last_name": person.user.last_name,
        "email": person.user.email, "unit": person.unit_id, "role": person.role,
        "job_title": person.job_title, "time_zone": person.time_zone, "active": "on",
    }
    if person.email_notifications:
        data["email_notifications"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def pattern_data(**days: str) -> dict[str, str]:
    week = {d: "" for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
    return {**week, **days}


# --- who may come in -----------------------------------------------------------------------------


MANAGE_GETS = [
    "/manage/", "/manage/units/", "/manage/units/new/", "/manage/people/", "/manage/people/new/",
    "/manage/skills/", "/manage/services/", "/manage/services/new/",
]


@pytest.mark.parametrize("url", MANAGE_GETS)
def test_it_forbids_a_front_office_member_every_management_page(cast: Cast, url: str) -> None:
    response = client_for(cast.consultant).get(url)
    assert response.status_code == 403
    assert b"team leads and administrators" in response.content


def test_it_forbids_a_member_to_post_anything_and_changes_nothing(cast: Cast) -> None:
    client = client_for(cast.payroll_agent)  # a back-office member, not a lead
    posts = {
        "/manage/units/new/": unit_data(),
        f"/manage/people/{cast.payroll_agent.pk}/pattern/": pattern_data(monday="08:00-20:00"),
        f"/manage/people/{cast.payroll_agent.pk}/absences/": {
            "kind": "leave", "starts_on": "2026-01-05", "ends_on": "2026-01-06"},
        f"/manage/services/{cast.timesheet.pk}/steps/": {"step-text": "Skip the checks."},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert not Unit.objects.filter(slug="credit-control").exists()
    assert not Absence.objects.exists()
    assert cast.timesheet.steps.count() == 2
    cast.payroll_agent.refresh_from_db()
    assert "08:00" not in str(cast.payroll_agent.working_pattern)


def test_it_forbids_an_executive_too(cast: Cast) -> None:
    assert client_for(cast.executive).get("/manage/people/").status_code == 403


def test_it_sends_an_anonymous_visitor_to_sign_in(cast: Cast) -> None:
    response = Client().get("/manage/people/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_shows_each_manager_the_hub_for_their_role(cast: Cast) -> None:
    admin_page = client_for(cast.admin).get("/manage/").content.decode()
    lead_page = client_for(cast.payroll_lead).get("/manage/").content.decode()
    assert "/manage/units/" in admin_page and "/manage/skills/" in admin_page
    assert "/manage/units/" not in lead_page and "You lead Payroll" in lead_page
    assert "/manage/services/" in lead_page


# --- units -------------------------------------------------------------------------------------


def test_it_lets_an_admin_create_and_edit_a_unit(cast: Cast) -> None:
    client = client_for(cast.admin)
    response = client.post("/manage/units/new/", unit_data())
    assert response.status_code == 302
    unit = Unit.objects.get(slug="credit-control")
    assert unit.side == Side.BACK and unit.description == "Chases unpaid invoices."
    response = client.post(f"/manage/units/{unit.pk}/", unit_data(name="Credit control (UK)", time_zone="Europe/Dublin"))
    assert response.status_code == 302
    unit.refresh_from_db()
    assert (unit.name, unit.time_zone) == ("Credit control (UK)", "Europe/Dublin")
    assert b"Credit control (UK)" in client.get("/manage/units/").content


def test_it_refuses_a_duplicate_unit_slug_and_keeps_what_was_typed(cast: Cast) -> None:
    response = client_for(cast.admin).post("/manage/units/new/", unit_data(name="Payroll two", slug="payroll"))
    assert response.status_code == 422
    body = response.content.decode()
    assert "Unit with this Slug already exists" in body
    assert 'value="Payroll two"' in body
    assert Unit.objects.count() == 4


def test_it_refuses_an_unknown_time_zone_and_changes_nothing(cast: Cast) -> None:
    client = client_for(cast.admin)
    response = client.post(f"/manage/units/{cast.york.pk}/", unit_data(
        name="York office", slug="york", side="front", time_zone="Mars/Olympus_Mons"))
    assert response.status_code == 422
    assert "is not a known time zone" in response.content.decode()
    assert 'value="Mars/Olympus_Mons"' in response.content.decode()
    cast.york.refresh_from_db()
    assert (cast.york.name, cast.york.time_zone) == ("York branch", "Europe/London")


def test_it_refuses_to_make_a_unit_with_services_front_office(cast: Cast) -> None:
    response = client_for(cast.admin).post(
        f"/manage/units/{cast.payroll.pk}/", unit_data(name="Payroll", slug="payroll", side="front"))
    assert response.status_code == 422
    assert "only back-office units provide services" in response.content.decode()
    cast.payroll.refresh_from_db()
    assert cast.payroll.side == Side.BACK


def test_it_forbids_a_lead_to_create_or_change_units(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    assert client.get("/manage/units/").status_code == 403
    response = client.post(f"/manage/units/{cast.payroll.pk}/", unit_data(name="Pay", slug="payroll"))
    assert response.status_code == 403 and b"Only administrators" in response.content
    cast.payroll.refresh_from_db()
    assert cast.payroll.name == "Payroll"


# --- skills ------------------------------------------------------------------------------------


def test_it_lets_an_admin_add_and_rename_a_skill(cast: Cast) -> None:
    client = client_for(cast.admin)
    assert client.post("/manage/skills/", {"name": "Payroll (UK)", "slug": "payroll-uk"}).status_code == 302
    skill = Skill.objects.get(slug="payroll-uk")
    assert client.post(f"/manage/skills/{skill.pk}/", {"name": "UK payroll", "slug": "uk-payroll"}).status_code == 302
    skill.refresh_from_db()
    assert (skill.name, skill.slug) == ("UK payroll", "uk-payroll")


def test_it_refuses_a_duplicate_skill_and_keeps_what_was_typed(cast: Cast) -> None:
    Skill.objects.create(name="Vetting", slug="vetting")
    response = client_for(cast.admin).post("/manage/skills/", {"name": "Vetting", "slug": "vetting-2"})
    assert response.status_code == 422
    assert "Skill with this Name already exists" in response.content.decode()
    assert 'value="vetting-2"' in response.content.decode()
    assert Skill.objects.count() == 1


def test_it_forbids_a_lead_to_add_skills(cast: Cast) -> None:
    response = client_for(cast.payroll_lead).post("/manage/skills/", {"name": "X", "slug": "x"})
    assert response.status_code == 403 and not Skill.objects.exists()


# --- people: accounts --------------------------------------------------------------------------


def test_it_lets_an_admin_add_a_person_who_can_then_sign_in(cast: Cast) -> None:
    response = client_for(cast.admin).post("/manage/people/new/", person_data(cast))
    assert response.status_code == 302
    person = Person.objects.select_related("user").get(user__username="newstarter")
    assert person.unit == cast.payroll and person.job_title == "Payroll clerk"
    assert person.user.email == "nia@example.test" and not person.user.is_staff
    assert Client().login(username="newstarter", password="a-long-first-password")


def test_it_refuses_a_weak_password_and_a_taken_username_at_once(cast: Cast) -> None:
    response = client_for(cast.admin).post(
        "/manage/people/new/", person_data(cast, username="consultant", password="short", time_zone="Nowhere/Land"))
    assert response.status_code == 422
    body = response.content.decode()
    assert "A user with that username already exists" in body
    assert "too short" in body
    assert "is not a known time zone" in body
    assert 'value="Nia"' in body  # what was typed is kept (except the password)
    assert not get_user_model().objects.filter(first_name="Nia").exists()


def test_it_refuses_an_email_address_someone_else_uses(cast: Cast) -> None:
    response = client_for(cast.admin).post("/manage/people/new/", person_data(cast, email="CONSULTANT@example.test"))
    assert response.status_code == 422
    assert "already uses" in response.content.decode()
    assert not Person.objects.filter(user__username="newstarter").exists()


def test_it_lets_an_admin_change_someones_unit_role_and_preferences(cast: Cast) -> None:
    person = cast.colleague
    response = client_for(cast.admin).post(f"/manage/people/{person.pk}/edit/", edit_data(
        person, unit=cast.york.pk, role="lead", job_title="Branch lead", time_zone="Europe/Paris",
        email_notifications=None))
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.unit, person.role, person.job_title, person.time_zone) == (
        cast.york, Role.LEAD, "Branch lead", "Europe/Paris")
    assert person.email_notifications is False


def test_it_gives_the_administrator_role_the_django_admin_and_takes_it_back(cast: Cast) -> None:
    client = client_for(cast.admin)
    client.post(f"/manage/people/{cast.colleague.pk}/edit/", edit_data(cast.colleague, role="admin"))
    cast.colleague.user.refresh_from_db()
    assert cast.colleague.user.is_staff and cast.colleague.user.is_superuser
    client.post(f"/manage/people/{cast.colleague.pk}/edit/", edit_data(cast.colleague, role="member"))
    cast.colleague.user.refresh_from_db()
    assert not cast.colleague.user.is_staff and not cast.colleague.user.is_superuser


def test_it_deactivates_a_person_who_then_cannot_sign_in(cast: Cast) -> None:
    response = client_for(cast.admin).post(
        f"/manage/people/{cast.colleague.pk}/edit/", edit_data(cast.colleague, active=None))
    assert response.status_code == 302
    cast.colleague.user.refresh_from_db()
    assert not cast.colleague.user.is_active
    assert not Client().login(username="colleague", password="pw")


def test_it_refuses_to_deactivate_the_owner_of_a_published_service(cast: Cast) -> None:
    response = client_for(cast.admin).post(
        f"/manage/people/{cast.payroll_lead.pk}/edit/", edit_data(cast.payroll_lead, active=None))
    assert response.status_code == 422
    assert "owns Timesheet correction" in response.content.decode()
    cast.payroll_lead.user.refresh_from_db()
    assert cast.payroll_lead.user.is_active


def test_it_refuses_to_move_someone_who_holds_work_in_their_units_queue(cast: Cast) -> None:
    from tandem.work.actions import start_request, submit_request
    from tests.cast import TIMESHEET_OK

    sr = submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    start_request(cast.payroll_agent, sr.pk)
    response = client_for(cast.admin).post(
        f"/manage/people/{cast.payroll_agent.pk}/edit/", edit_data(cast.payroll_agent, unit=cast.hr.pk))
    assert response.status_code == 422
    assert "holds 1 open request in Payroll" in response.content.decode()
    cast.payroll_agent.refresh_from_db()
    assert cast.payroll_agent.unit == cast.payroll


def test_it_refuses_an_admin_deactivating_themselves(cast: Cast) -> None:
    with pytest.raises(Forbidden, match="ask another administrator"):
        actions.update_person(
            cast.admin, cast.admin.pk, first_name="Admin", last_name="", email="admin@example.test",
            unit=cast.hr, role=Role.ADMIN, job_title="", time_zone="Europe/London",
            email_notifications=True, active=False,
        )
    cast.admin.user.refresh_from_db()
    assert cast.admin.user.is_active


def test_it_forbids_a_lead_to_add_people_or_edit_accounts(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    assert client.post("/manage/people/new/", person_data(cast)).status_code == 403
    response = client.post(f"/manage/people/{cast.payroll_agent.pk}/edit/",
                           edit_data(cast.payroll_agent, role="admin"))
    assert response.status_code == 403
    cast.payroll_agent.refresh_from_db()
    assert cast.payroll_agent.role == Role.MEMBER
    assert not Person.objects.filter(user__username="newstarter").exists()


# --- people: the list --------------------------------------------------------------------------


def test_it_lists_everyone_to_an_admin_with_search_and_unit_filter(cast: Cast, django_assert_max_num_queries) -> None:
    client = client_for(cast.admin)
    with django_assert_max_num_queries(12):
        body = client.get("/manage/people/").content.decode()
    assert "Consultant" in body and "Payroll Agent" in body
    body = client.get("/manage/people/", {"unit": cast.payroll.pk}).content.decode()
    assert "Payroll Lead" in body and "Consultant" not in body
    body = client.get("/manage/people/", {"q": "other_con"}).content.decode()
    assert "Other Consultant" in body and "Payroll Agent" not in body


def test_it_lists_only_their_units_people_to_a_lead(cast: Cast) -> None:
    body = client_for(cast.payroll_lead).get("/manage/people/").content.decode()
    assert "Payroll Agent2" in body
    assert "Consultant" not in body and "Hr Agent" not in body


# --- people: skills, working pattern, absences -------------------------------------------------


def test_it_lets_a_lead_set_their_peoples_skills(cast: Cast) -> None:
    payroll = Skill.objects.create(name="Payroll", slug="payroll")
    vetting = Skill.objects.create(name="Vetting", slug="vetting")
    PersonSkill.objects.create(person=cast.payroll_agent, skill=vetting, level=1)
    client = client_for(cast.payroll_lead)
    assert client.get(f"/manage/people/{cast.payroll_agent.pk}/").status_code == 200
    response = client.post(f"/manage/people/{cast.payroll_agent.pk}/skills/",
                           {f"skill_{payroll.pk}": "4", f"skill_{vetting.pk}": ""})
    assert response.status_code == 302
    assert dict(cast.payroll_agent.skill_levels.values_list("skill__slug", "level")) == {"payroll": 4}


def test_it_refuses_a_skill_level_off_the_scale(cast: Cast) -> None:
    skill = Skill.objects.create(name="Payroll", slug="payroll")
    response = client_for(cast.payroll_lead).post(
        f"/manage/people/{cast.payroll_agent.pk}/skills/", {f"skill_{skill.pk}": "9"})
    assert response.status_code == 422
    assert not PersonSkill.objects.exists()


def test_it_saves_a_working_pattern_and_shows_the_weekly_hours(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    response = client.post(f"/manage/people/{cast.payroll_agent.pk}/pattern/", pattern_data(
        monday="9-13, 14:00-17:30", tuesday="09:00 - 13:00", saturday="10.00-12.00"), follow=True)
    assert response.status_code == 200
    cast.payroll_agent.refresh_from_db()
    assert cast.payroll_agent.working_pattern == {
        "0": [["09:00", "13:00"], ["14:00", "17:30"]], "1": [["09:00", "13:00"]], "5": [["10:00", "12:00"]],
    }
    assert cast.payroll_agent.weekly_hours() == 13.5
    assert "13.5 hours a week" in response.content.decode()


def test_it_accepts_a_week_with_no_working_days(cast: Cast) -> None:
    response = client_for(cast.admin).post(f"/manage/people/{cast.payroll_agent.pk}/pattern/", pattern_data())
    assert response.status_code == 302
    cast.payroll_agent.refresh_from_db()
    assert cast.payroll_agent.working_pattern == {} and cast.payroll_agent.weekly_hours() == 0


def test_it_refuses_overlapping_intervals_and_keeps_what_was_typed(cast: Cast) -> None:
    before = cast.payroll_agent.working_pattern
    response = client_for(cast.payroll_lead).post(f"/manage/people/{cast.payroll_agent.pk}/pattern/", pattern_data(
        monday="09:00-13:00, 12:00-17:00", tuesday="09:00-17:00"))
    assert response.status_code == 422
    body = response.content.decode()
    assert "Monday: 12:00-17:00 overlaps 09:00-13:00" in body
    assert 'value="09:00-13:00, 12:00-17:00"' in body
    cast.payroll_agent.refresh_from_db()
    assert cast.payroll_agent.working_pattern == before


@pytest.mark.parametrize("typed, message", [
    ("17:00-09:00", "ends before it starts"),
    ("09:00-09:00", "ends before it starts"),
    ("25:00-26:00", "is not HH:MM-HH:MM"),
    ("nine to five", "is not HH:MM-HH:MM"),
])
def test_it_refuses_a_malformed_interval(cast: Cast, typed: str, message: str) -> None:
    response = client_for(cast.admin).post(f"/manage/people/{cast.payroll_agent.pk}/pattern/",
                                           pattern_data(wednesday=typed))
    assert response.status_code == 422
    assert message in response.content.decode()
    cast.payroll_agent.refresh_from_db()
    assert cast.payroll_agent.working_pattern["2"] == [["09:00", "12:30"], ["13:30", "17:30"]]


def test_it_adds_and_removes_an_absence(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    response = client.post(f"/manage/people/{cast.payroll_agent.pk}/absences/", {
        "kind": "leave", "starts_on": "2026-08-03", "ends_on": "2026-08-14", "note": "Summer"})
    assert response.status_code == 302
    absence = Absence.objects.get(person=cast.payroll_agent)
    assert (absence.starts_on, absence.ends_on, absence.note) == (date(2026, 8, 3), date(2026, 8, 14), "Summer")
    assert b"Summer" in client.get(f"/manage/people/{cast.payroll_agent.pk}/").content
    response = client.post(f"/manage/people/{cast.payroll_agent.pk}/absences/{absence.pk}/remove/")
    assert response.status_code == 302 and not Absence.objects.exists()


def test_it_refuses_an_absence_that_ends_before_it_starts(cast: Cast) -> None:
    response = client_for(cast.payroll_lead).post(f"/manage/people/{cast.payroll_agent.pk}/absences/", {
        "kind": "sick", "starts_on": "2026-03-10", "ends_on": "2026-03-09", "note": "Flu"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "before it starts" in body and 'value="Flu"' in body and 'value="2026-03-10"' in body
    assert not Absence.objects.exists()


def test_it_refuses_an_absence_that_overlaps_another(cast: Cast) -> None:
    Absence.objects.create(person=cast.payroll_agent, kind="leave", starts_on=date(2026, 3, 9), ends_on=date(2026, 3, 13))
    response = client_for(cast.payroll_lead).post(f"/manage/people/{cast.payroll_agent.pk}/absences/", {
        "kind": "training", "starts_on": "2026-03-12", "ends_on": "2026-03-12"})
    assert response.status_code == 422
    assert "already away then" in response.content.decode()
    assert Absence.objects.count() == 1


def test_it_forbids_a_lead_another_units_people(cast: Cast) -> None:
    client = client_for(cast.payroll_lead)
    hr_agent = cast.hr_agent
    assert client.get(f"/manage/people/{hr_agent.pk}/").status_code == 403
    response = client.post(f"/manage/people/{hr_agent.pk}/pattern/", pattern_data(monday="06:00-22:00"))
    assert response.status_code == 403 and b"only that unit" in response.content
    response = client.post(f"/manage/people/{hr_agent.pk}/absences/", {
        "kind": "leave", "starts_on": "2026-01-05", "ends_on": "2026-01-06"})
    assert response.status_code == 403
    absence = Absence.objects.create(person=hr_agent, kind="leave", starts_on=date(2026, 2, 2), ends_on=date(2026, 2, 3))
    assert client.post(f"/manage/people/{hr_agent.pk}/absences/{absence.pk}/remove/").status_code == 403
    hr_agent.refresh_from_db()
    assert "06:00" not in str(hr_agent.working_pattern)
    assert list(Absence.objects.values_list("pk", flat=True)) == [absence.pk]


def test_it_lets_a_front_office_lead_manage_their_branch(cast: Cast) -> None:
    leeds_lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    client = client_for(leeds_lead)
    assert client.get(f"/manage/people/{cast.consultant.pk}/").status_code == 200
    assert client.get(f"/manage/people/{cast.other_consultant.pk}/").status_code == 403
    body = client.get("/manage/services/").content.decode()
    assert "front-office unit, so it has no services" in body


def test_it_refuses_the_same_bad_input_through_the_action(cast: Cast) -> None:
    with pytest.raises(Invalid) as refused:
        actions.set_working_pattern(cast.admin, cast.payroll_agent.pk, {0: [["09:00", "12:00"], ["11:00", "13:00"]]})
    assert "monday" in refused.value.errors
    with pytest.raises(Invalid) as refused:
        actions.set_working_pattern(cast.admin, cast.payroll_agent.pk, {7: [["09:00", "12:00"]]})
    assert "must be 0 (Monday) to 6 (Sunday)" in refused.value.message
