"""`tandem createuser` and `tandem serve` (configured, not started)."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.management.base import CommandError

from tandem.org.models import Person, Role, Side, Unit
from tandem.site.management.commands.serve import TandemApplication, address

pytestmark = pytest.mark.django_db


@pytest.fixture
def payroll() -> Unit:
    return Unit.objects.create(name="Payroll", slug="payroll", side=Side.BACK)


def test_it_creates_a_person_who_can_sign_in(payroll: Unit, client) -> None:
    out = StringIO()
    call_command(
        "createuser",
        "jo.bloggs",
        "--unit",
        "payroll",
        "--role",
        "lead",
        "--email",
        "jo@example.test",
        "--first-name",
        "Jo",
        "--last-name",
        "Bloggs",
        "--password",
        "a long pass phrase",
        stdout=out,
    )
    person = Person.objects.select_related("user").get(user__username="jo.bloggs")
    assert (
        person.unit == payroll and person.role == Role.LEAD and person.display_name == "Jo Bloggs"
    )
    assert not person.user.is_staff
    assert "Created jo.bloggs (lead) in Payroll" in out.getvalue()
    assert client.login(username="jo.bloggs", password="a long pass phrase")


def test_it_reads_the_password_from_stdin_and_makes_admins_staff(
    payroll: Unit, monkeypatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    call_command(
        "createuser",
        "root.person",
        "--unit",
        "payroll",
        "--role",
        "admin",
        "--password-stdin",
        stdout=StringIO(),
    )
    user = Person.objects.get(user__username="root.person").user
    assert user.is_staff and user.is_superuser and user.check_password("correct horse battery")


def test_it_refuses_an_unknown_unit(payroll: Unit) -> None:
    with pytest.raises(CommandError, match=r"no unit 'nowhere'\. Known units: payroll"):
        call_command("createuser", "jo", "--unit", "nowhere", "--password", "a long pass phrase")
    assert not Person.objects.exists()


def test_it_refuses_a_taken_username(payroll: Unit) -> None:
    call_command(
        "createuser",
        "jo",
        "--unit",
        "payroll",
        "--password",
        "a long pass phrase",
        stdout=StringIO(),
    )
    with pytest.raises(CommandError, match="'Jo' is taken"):
        call_command("createuser", "Jo", "--unit", "payroll", "--password", "another pass phrase")
    assert Person.objects.count() == 1


def test_it_refuses_a_weak_or_missing_password(payroll: Unit, monkeypatch) -> None:
    with pytest.raises(CommandError, match="password was refused"):
        call_command("createuser", "jo", "--unit", "payroll", "--password", "short")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="No password"):
        call_command("createuser", "jo", "--unit", "payroll")
    assert not Person.objects.exists()


def test_serve_runs_the_wsgi_application_under_gunicorn(settings, tmp_path) -> None:
    settings.STATIC_ROOT = tmp_path
    app = TandemApplication(
        {"bind": "127.0.0.1:8123", "workers": 3, "worker_class": "sync", "accesslog": None}
    )
    assert app.cfg.bind == ["127.0.0.1:8123"] and app.cfg.workers == 3
    assert isinstance(app.load(), WSGIHandler)
    assert address("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert address("::1", 8000) == "http://[::1]:8000/"


def test_serve_refuses_zero_workers() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("serve", "--workers", "0")
