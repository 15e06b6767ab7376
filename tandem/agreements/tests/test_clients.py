"""Client organisations: contracted services, their own targets, cut-offs and holidays, and
adding a client (docs/organisations.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.test import Client

from tandem.agreements.actions import define_agreement
from tandem.agreements.clients import NewClient, NewContract, NewPerson, add_client
from tandem.agreements.models import Agreement
from tandem.agreements.queries import matching_agreement
from tandem.catalogue.models import Contract, CutOff
from tandem.catalogue.queries import services_visible_to
from tandem.engines.mail import Mail
from tandem.mail.models import Outcome
from tandem.mail.routing import new_request
from tandem.org.models import Organisation, Person, Role, Unit
from tandem.refusal import Forbidden, Invalid
from tandem.work import actions
from tandem.work.models import ServiceRequest
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, TIMESHEET_OK, Cast, make_person

pytestmark = pytest.mark.django_db


def scots(cast: Cast, **changes: object) -> NewClient:
    client = NewClient(
        name="Highland Staffing", slug="highland", holiday_country="GB", holiday_subdivision="SCT",
        units=[("Highland Glasgow branch", "highland-glasgow")],
        people=[NewPerson("hilda", "Hilda", "Ross", "hilda@highland.test", "highland-glasgow", Role.MEMBER),
                NewPerson("hamish", "Hamish", "Grant", "hamish@highland.test", "highland-glasgow", Role.EXECUTIVE)],
        contracts=[NewContract("timesheet-correction", first_response_minutes=60, resolution_minutes=480,
                               target_percent=95)],
    )
    for key, value in changes.items():
        setattr(client, key, value)
    return client


def with_password(username: str) -> Person:
    person = Person.objects.select_related("user", "unit").get(user__username=username)
    person.user.set_password(PASSWORD)
    person.user.save()
    return person


def test_it_adds_a_client_with_its_units_people_contracts_and_targets(cast: Cast) -> None:
    org = add_client(cast.admin, scots(cast), today=date(2026, 11, 2))
    unit = Unit.objects.get(slug="highland-glasgow")
    assert unit.organisation == org and unit.side == "front"
    assert (org.holiday_country, org.holiday_subdivision) == ("GB", "SCT")
    assert set(Person.objects.filter(unit=unit).values_list("user__username", "role")) == {
        ("hilda", "member"), ("hamish", "executive")}
    assert not Person.objects.get(user__username="hilda").user.has_usable_password()
    contract = Contract.objects.get(organisation=org)
    assert (contract.service, contract.starts_on, contract.ends_on) == (cast.timesheet, date(2026, 11, 2), None)
    agreement = Agreement.objects.get(requesting_organisation=org)
    assert (agreement.service, agreement.resolution_minutes, float(agreement.target_percent)) == (
        cast.timesheet, 480, 95.0)


def test_a_clients_person_sees_and_asks_only_contracted_services(cast: Cast) -> None:
    add_client(cast.admin, scots(cast))
    hilda = with_password("hilda")
    assert list(services_visible_to(hilda.user)) == [cast.timesheet]
    # The provider's own people still see the whole catalogue.
    assert set(services_visible_to(cast.consultant.user)) == {cast.timesheet, cast.grievance}
    api = ApiClient(hilda)
    assert [s["slug"] for s in api.get("/api/services").json()["items"]] == ["timesheet-correction"]
    browser = Client()
    browser.login(username="hilda", password=PASSWORD)
    page = browser.get("/catalogue/")
    assert "Timesheet correction" in page.content.decode() and "Grievance" not in page.content.decode()
    done = actions.submit_request(hilda, cast.timesheet, TIMESHEET_OK).request
    assert done.requesting_unit.organisation_id == Organisation.objects.get(slug="highland").pk


def test_a_request_for_a_service_not_contracted_is_refused_everywhere_and_creates_nothing(cast: Cast) -> None:
    add_client(cast.admin, scots(cast))
    hilda = with_password("hilda")
    before = ServiceRequest.objects.count()
    with pytest.raises(Invalid) as refused:
        actions.submit_request(hilda, cast.grievance, {"details": "x"})
    assert "has not contracted Grievance" in refused.value.message and "service" in refused.value.errors
    answer = ApiClient(hilda).post("/api/requests", {"service": "grievance", "intake": {"details": "x"}})
    assert answer.status_code == 422 and "service" in answer.json()["errors"]
    browser = Client()
    browser.login(username="hilda", password=PASSWORD)
    page = browser.post("/catalogue/grievance/request/", {"details": "x", "channel": "internal"})
    assert page.status_code == 404
    mail = Mail(key="<m1@highland.test>", message_id="<m1@highland.test>", sender="hilda@highland.test",
                recipients=("grievance@tandem.test",), subject="A grievance", text="About my manager.", answers=(),
                automated="")
    decision = new_request(hilda, cast.grievance, mail)
    assert decision.outcome == Outcome.REFUSED and "has not contracted" in decision.answer
    assert "/catalogue/grievance" not in decision.answer  # no link to a form the client cannot open
    assert ServiceRequest.objects.count() == before


def test_an_ended_contract_no_longer_lets_the_client_ask(cast: Cast) -> None:
    add_client(cast.admin, scots(cast))
    Contract.objects.update(starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    hilda = Person.objects.get(user__username="hilda")
    assert not services_visible_to(hilda.user).exists()
    with pytest.raises(Invalid):
        actions.submit_request(hilda, cast.timesheet, TIMESHEET_OK)


def test_the_most_specific_agreement_wins_unit_then_organisation_then_service(cast: Cast) -> None:
    org = add_client(cast.admin, scots(cast))
    unit = Unit.objects.get(slug="highland-glasgow")
    general = define_agreement(cast.admin, cast.timesheet, name="Everyone", first_response_minutes=120,
                               resolution_minutes=960)
    client_own = Agreement.objects.get(requesting_organisation=org)
    assert matching_agreement(cast.timesheet, cast.leeds.pk, "internal") == general
    assert matching_agreement(cast.timesheet, unit.pk, "internal") == client_own
    branch = define_agreement(cast.admin, cast.timesheet, name="Glasgow branch", first_response_minutes=30,
                              resolution_minutes=240, requesting_unit=unit)
    assert matching_agreement(cast.timesheet, unit.pk, "internal") == branch
    # Another client's agreement never governs this one's requests.
    other = Organisation.objects.create(name="Other", slug="other")
    Agreement.objects.create(service=cast.timesheet, requesting_organisation=other, name="Other's",
                             first_response_minutes=1, resolution_minutes=2)
    assert matching_agreement(cast.timesheet, cast.leeds.pk, "internal") == general
    sr = actions.submit_request(Person.objects.get(user__username="hilda"), cast.timesheet, TIMESHEET_OK).request
    assert (sr.agreement_id, sr.resolve_seconds) == (branch.pk, 240 * 60)


def test_a_scottish_clients_clock_skips_st_andrews_day_and_the_providers_does_not(cast: Cast) -> None:
    add_client(cast.admin, scots(cast))
    hilda = Person.objects.get(user__username="hilda")
    # Friday 27 Nov 2026, 16:30 London; Monday 30 Nov is St Andrew's Day (a Scottish bank holiday).
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    theirs = actions.submit_request(hilda, cast.timesheet, TIMESHEET_OK, now=friday).request
    ours = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=friday).request
    # 480 working minutes (the client's target): the last hour of Friday, then seven hours of
    # Tuesday (09:00–12:30, 13:30–17:00).
    # Ours has no agreement: the published 2 working days (15 h of 7.5 h days).
    assert theirs.resolve_by is not None and ours.due_at is not None
    assert theirs.resolve_by.astimezone(UTC) == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tue, not Mon
    assert theirs.due_at.date() == date(2026, 12, 2)  # two working days: Tue 1 and Wed 2 Dec
    assert ours.due_at.date() == date(2026, 12, 1)  # Mon 30 Nov counts for the provider's own


def test_a_client_follows_its_own_cut_offs_and_nobody_else_sees_them(cast: Cast) -> None:
    org = add_client(cast.admin, scots(cast))
    CutOff.objects.create(service=cast.timesheet, weekday=1, time=time(12), description="Everyone's payroll",
                          run_weekday=4, run_name="payroll")
    CutOff.objects.create(service=cast.timesheet, organisation=org, weekday=0, time=time(10),
                          description="Highland payroll", run_weekday=3, run_name="Highland payroll")
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    theirs = actions.submit_request(Person.objects.get(user__username="hilda"), cast.timesheet, TIMESHEET_OK,
                                    now=monday).request
    ours = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK, now=monday).request
    assert (theirs.run_name, theirs.run_on) == ("Highland payroll", date(2026, 11, 26))
    assert (ours.run_name, ours.run_on) == ("payroll", date(2026, 11, 27))
    browser = Client()
    browser.login(username="consultant", password=PASSWORD)
    assert "Highland payroll" not in browser.get("/catalogue/timesheet-correction/").content.decode()
    assert "Highland payroll" not in browser.get("/catalogue/timesheet-correction/request/").content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contracts": []}, "contracts"),
        ({"contracts": [NewContract("no-such-service")]}, "contracts[0].service"),
        ({"contracts": [NewContract("timesheet-correction", first_response_minutes=60)]},
         "contracts[0].resolution_minutes"),
        ({"contracts": [NewContract("timesheet-correction", first_response_minutes=0, resolution_minutes=60)]},
         "contracts[0].first_response_minutes"),
        ({"slug": "Not a slug!"}, "slug"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_subdivision": "NOWHERE"}, "holiday_subdivision"),
        ({"units": [("Leeds branch", "leeds")]}, "units[0].slug"),
        ({"people": [NewPerson("consultant", "C", "D", "c@d.test", "highland-glasgow")]}, "people[0].username"),
        ({"people": [NewPerson("newbie", "N", "B", "not-an-address", "highland-glasgow")]}, "people[0].email"),
        ({"people": [NewPerson("newbie", "N", "B", "n@b.test", "leeds")]}, "people[0].unit"),
        ({"people": [NewPerson("newbie", "N", "B", "n@b.test", "highland-glasgow", Role.ADMIN)]}, "people[0].role"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_created(cast: Cast, changes: dict, field: str) -> None:
    counts = (Organisation.objects.count(), Unit.objects.count(), Person.objects.count(), Contract.objects.count())
    with pytest.raises(Invalid) as refused:
        add_client(cast.admin, scots(cast, **changes))
    assert field in refused.value.errors, refused.value.errors
    assert "was not added" in refused.value.message
    assert (Organisation.objects.count(), Unit.objects.count(), Person.objects.count(),
            Contract.objects.count()) == counts


def test_only_the_providers_administrators_add_clients(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        add_client(cast.payroll_lead, scots(cast))
    org = add_client(cast.admin, scots(cast))
    client_admin = make_person("client_admin", Unit.objects.get(organisation=org), Role.ADMIN)
    with pytest.raises(Forbidden):
        add_client(client_admin, scots(cast, name="Another", slug="another", units=[("Another", "another")]))
    # A client's administrator is no provider's: the operation does not exist for them (404).
    assert ApiClient(client_admin).get("/api/clients").status_code == 404


def test_the_api_adds_lists_and_reads_a_client_and_answers_422_naming_the_field(cast: Cast) -> None:
    api = ApiClient(cast.admin)
    body = {
        "name": "Border Temps", "slug": "border", "holiday_country": "GB", "holiday_subdivision": "SCT",
        "units": [{"name": "Border branch", "slug": "border-branch"}],
        "people": [{"username": "bea", "first_name": "Bea", "last_name": "Hall", "email": "bea@border.test",
                    "unit": "border-branch", "role": "lead"}],
        "contracts": [{"service": "timesheet-correction", "first_response_minutes": 60, "resolution_minutes": 900}],
    }
    bad = api.post("/api/clients", {**body, "contracts": []})
    assert bad.status_code == 422 and "contracts" in bad.json()["errors"]
    assert not Organisation.objects.filter(slug="border").exists()
    made = api.post("/api/clients", body)
    assert made.status_code == 201, made.json()
    out = made.json()
    assert [c["service"]["slug"] for c in out["contracts"]] == ["timesheet-correction"]
    assert out["contracts"][0]["resolution_minutes"] == 900 and out["people"] == 1
    assert [t["slug"] for t in out["serving_teams"]] == ["payroll"]
    assert [c["slug"] for c in api.get("/api/clients").json()] == ["border"]
    assert api.get(f"/api/clients/{out['id']}").json()["holiday_subdivision"] == "SCT"
    assert api.get("/api/clients/999999").status_code == 404
    assert ApiClient(cast.payroll_lead).post("/api/clients", body).status_code == 403


def test_the_page_adds_a_client_and_keeps_what_was_typed_when_refused(cast: Cast) -> None:
    browser = Client()
    browser.login(username="admin", password=PASSWORD)
    assert browser.get("/manage/clients/new/").status_code == 200
    typed = {
        "name": "Glen Recruitment", "slug": "glen", "holiday_country": "GB", "holiday_subdivision": "SCT",
        "units": "Glen branch, glen-branch",
        "people": "gail, Gail, Shaw, gail@glen.test, glen-branch, executive",
        "contracts": "timesheet-correction, 60, 480, 95\nno-such-service",
    }
    refused = browser.post("/manage/clients/new/", typed)
    body = refused.content.decode()
    assert refused.status_code == 422
    assert "Line 2: &#x27;no-such-service&#x27; is not a published service" in body
    assert "gail@glen.test" in body and "Glen Recruitment" in body  # what was typed is kept
    assert not Organisation.objects.filter(slug="glen").exists()
    shape = browser.post("/manage/clients/new/", {**typed, "units": "just a name"})
    assert shape.status_code == 422 and "Line 1: give a name and a slug" in shape.content.decode()
    done = browser.post("/manage/clients/new/", {**typed, "contracts": "timesheet-correction, 60, 480, 95"})
    org = Organisation.objects.get(slug="glen")
    assert done.status_code == 302 and done["Location"] == f"/manage/clients/{org.pk}/"
    page = browser.get(done["Location"]).content.decode()
    assert "Timesheet correction" in page and "resolve in 480 min" in page and "GB-SCT" in page
    assert "Glen Recruitment" in browser.get("/manage/clients/").content.decode()
    lead = Client()
    lead.login(username="payroll_lead", password=PASSWORD)
    assert lead.get("/manage/clients/").status_code == 403

