"""`tandem demo --provider` against the test database: a small provider demo (three weeks)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tandem.agreements.models import Agreement
from tandem.agreements.queries import client_holidays, matching_agreement
from tandem.catalogue.models import Contract
from tandem.catalogue.queries import services_visible_to
from tandem.org.models import Organisation, Person, Role, Unit
from tandem.voice.models import ServiceReport
from tandem.work.models import ServiceRequest

pytestmark = pytest.mark.django_db

END = "2026-12-03T11:00:00Z"


@pytest.fixture
def provider_demo() -> str:
    out = StringIO()
    call_command("demo", "--provider", "--no-serve", "--weeks", "3", "--end", END, "--seed", "5", stdout=out)
    return out.getvalue()


def test_it_builds_three_clients_of_different_sizes_one_in_scotland(provider_demo: str) -> None:
    orgs = {o.slug: o for o in Organisation.objects.all()}
    assert set(orgs) == {"northern", "caledonia", "harbour"}
    sizes = {slug: Person.objects.filter(unit__organisation=o).count() for slug, o in orgs.items()}
    assert sizes["northern"] > sizes["caledonia"] > sizes["harbour"] > 0
    assert (orgs["caledonia"].holiday_country, orgs["caledonia"].holiday_subdivision) == ("GB", "SCT")
    glasgow = Unit.objects.get(slug="caledonia-glasgow")
    assert client_holidays(glasgow.pk) == ("GB", "SCT")
    # The leadership team and the back office stay the provider's.
    assert Unit.objects.get(slug="leadership").organisation is None
    assert not Unit.objects.filter(side="back", organisation__isnull=False).exists()
    for slug in ("david.ashworth", "fiona.macleod", "grace.bell"):
        assert slug in provider_demo
        assert Person.objects.get(user__username=slug).role == Role.EXECUTIVE


def test_every_clients_history_agrees_with_its_contracts(provider_demo: str) -> None:
    for org in Organisation.objects.all():
        contracted = set(Contract.objects.filter(organisation=org).values_list("service_id", flat=True))
        asked = set(ServiceRequest.objects.filter(requesting_unit__organisation=org).values_list("service_id", flat=True))
        assert asked and asked == contracted
        member = Person.objects.filter(unit__organisation=org, role=Role.MEMBER).first() or Person.objects.filter(
            unit__organisation=org).first()
        assert member is not None
        assert set(services_visible_to(member.user).values_list("pk", flat=True)) == contracted
        own = Agreement.objects.filter(requesting_organisation=org)
        assert own.exists()
        unit = Unit.objects.filter(organisation=org).first()
        assert unit is not None
        for agreement in own:
            assert matching_agreement(agreement.service, unit.pk, "external") in (
                agreement, *Agreement.objects.filter(service=agreement.service, requesting_unit=unit))


def test_the_client_executive_reads_the_review_and_last_months_report(provider_demo: str) -> None:
    assert ServiceReport.objects.filter(made_at__isnull=False).count() == 3
    browser = Client()
    assert browser.login(username="fiona.macleod", password="demo")
    page = browser.get("/service-review/?month=2026-11")
    body = page.content.decode()
    assert page.status_code == 200 and "Caledonia Staffing" in body
    assert "Northern Recruitment" not in body and "Harbour Temps" not in body
    report = ServiceReport.objects.get(organisation__slug="caledonia")
    assert browser.get(f"/service-review/reports/{report.pk}/").status_code == 200
    other = ServiceReport.objects.get(organisation__slug="northern")
    assert browser.get(f"/service-review/reports/{other.pk}/").status_code == 404
