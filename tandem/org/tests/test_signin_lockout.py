"""Sign-in throttling and lockout: per account and per client address, kept in the database."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from tandem.org.lockout import Lockout, client_ip, lockout_for
from tandem.org.models import LoginFailure
from tests.cast import PASSWORD, Cast

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def sign_in(client: Client, username: str, password: str, ip: str = "192.0.2.10"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client: Client, username: str, times: int, ip: str = "192.0.2.10") -> None:
    for _ in range(times):
        response = sign_in(client, username, "wrong-password", ip)
        assert response.status_code == 200 and b"Check the username and password" in response.content


def test_it_locks_an_account_after_too_many_failures_even_for_the_right_password(cast: Cast, settings) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 3
    client = Client()
    fail(client, "consultant", 2)
    response = sign_in(client, "consultant", "wrong-password")  # the third tips it over
    assert response.status_code == 429
    assert b"Too many failed sign-ins for this account; try again after" in response.content
    assert b"or ask an administrator to unlock it" in response.content
    assert int(response["Retry-After"]) > 0

    refused = sign_in(client, "consultant", PASSWORD)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    lock = lockout_for("consultant", None)
    assert lock is not None and lock.scope == "account"
    until = timezone.localtime(lock.until).strftime("%H:%M")
    assert f"try again after {until}".encode() in refused.content
    # Refused attempts are not counted: trying again does not push the lockout further out.
    assert LoginFailure.objects.filter(username="consultant").count() == 3
    # Another account is unaffected.
    assert sign_in(Client(), "colleague", PASSWORD, ip="192.0.2.99").status_code == 302


def test_it_counts_the_account_case_insensitively_and_across_addresses(cast: Cast, settings) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 3
    fail(Client(), "Consultant", 1, ip="192.0.2.1")
    fail(Client(), "CONSULTANT ", 1, ip="192.0.2.2")
    assert sign_in(Client(), "consultant", "wrong-password", ip="2001:db8::3").status_code == 429
    assert sign_in(Client(), "consultant", PASSWORD, ip="192.0.2.4").status_code == 429


def test_it_lifts_the_lockout_when_the_window_passes(cast: Cast, settings) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 2
    settings.TANDEM_LOGIN_WINDOW_MINUTES = 15
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(Client(), "consultant", 1)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        assert sign_in(Client(), "consultant", "nope").status_code == 429
        lock = lockout_for("consultant", None)
        assert lock is not None and lock.until == start + timedelta(minutes=15)
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert sign_in(Client(), "consultant", PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        # One failure left in the window (the second): below the limit, so the password works.
        assert sign_in(Client(), "consultant", PASSWORD).status_code == 302


def test_it_clears_an_accounts_failures_on_a_successful_sign_in(cast: Cast, settings) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 3
    fail(Client(), "consultant", 2)
    assert sign_in(Client(), "consultant", PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(username="consultant").exists()
    fail(Client(), "consultant", 2)  # a fresh count: two more failures do not lock
    assert sign_in(Client(), "consultant", PASSWORD).status_code == 302


def test_it_locks_a_client_address_that_tries_many_accounts(cast: Cast, settings) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 100
    settings.TANDEM_LOGIN_MAX_FAILURES_PER_IP = 4
    for name in ("a", "b", "c", "d"):
        sign_in(Client(), name, "guess", ip="198.51.100.7")
    response = sign_in(Client(), "consultant", PASSWORD, ip="198.51.100.7")
    assert response.status_code == 429
    assert b"Too many failed sign-ins from your network address" in response.content
    # The same account from another address signs in: only the address was locked.
    assert sign_in(Client(), "consultant", PASSWORD, ip="198.51.100.8").status_code == 302


def test_it_reads_the_client_address_from_the_configured_proxy_header(settings, rf) -> None:
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "10.0.0.1"
    settings.TANDEM_CLIENT_IP_HEADER = "X-Forwarded-For"
    assert client_ip(request) == "203.0.113.9"  # the entry our proxy added, not the client's claim
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"  # header missing
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR="not-an-address", REMOTE_ADDR="")) is None
    assert client_ip(None) is None


def test_it_locks_the_admin_sign_in_and_client_login_alike(cast: Cast, settings) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 2
    cast.admin.user.is_staff = cast.admin.user.is_superuser = True
    cast.admin.user.save()
    client = Client()
    for _ in range(2):
        client.post("/admin/login/", {"username": "admin", "password": "bad"}, REMOTE_ADDR="192.0.2.5")
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD}, REMOTE_ADDR="192.0.2.5")
    assert b"Too many failed sign-ins for this account" in response.content
    assert "_auth_user_id" not in client.session
    assert Client().login(username="admin", password=PASSWORD) is False


def test_it_unlocks_an_account_from_the_command_line(cast: Cast, settings) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 2
    settings.TANDEM_LOGIN_MAX_FAILURES_PER_IP = 2
    fail(Client(), "consultant", 1, ip="192.0.2.20")
    sign_in(Client(), "consultant", "wrong-password", ip="192.0.2.20")
    for name in ("x", "y"):
        sign_in(Client(), name, "guess", ip="192.0.2.30")
    out = io.StringIO()
    call_command("unlock", "--list", stdout=out)
    listed = out.getvalue()
    assert "account  consultant" in listed and "address  192.0.2.30" in listed and "address  192.0.2.20" in listed
    out = io.StringIO()
    call_command("unlock", "consultant", stdout=out)
    assert "Unlocked account 'consultant': forgot 2 failed sign-ins" in out.getvalue()
    assert lockout_for("consultant", None) is None
    assert sign_in(Client(), "consultant", PASSWORD, ip="192.0.2.20").status_code == 302
    # The address that tried other accounts stays locked until it is unlocked too.
    assert sign_in(Client(), "consultant", PASSWORD, ip="192.0.2.30").status_code == 429
    call_command("unlock", "--ip", " 192.0.2.30", stdout=io.StringIO())
    assert sign_in(Client(), "consultant", PASSWORD, ip="192.0.2.30").status_code == 302
    out = io.StringIO()
    call_command("unlock", "--list", "--json", stdout=out)
    assert out.getvalue().strip() == "[]"


def test_it_refuses_bad_unlock_input(cast: Cast) -> None:
    with pytest.raises(CommandError, match="Name the account"):
        call_command("unlock", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not an IP address"):
        call_command("unlock", "--ip", "300.1.1.1", stdout=io.StringIO())
    out = io.StringIO()
    call_command("unlock", "nobody", stdout=out)
    assert "forgot 0 failed sign-ins" in out.getvalue()


def test_it_unlocks_from_the_admin_by_deleting_the_failures(cast: Cast, settings) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 2
    fail(Client(), "consultant", 1)
    sign_in(Client(), "consultant", "wrong-password")
    cast.admin.user.is_staff = cast.admin.user.is_superuser = True
    cast.admin.user.save()
    admin = Client()
    admin.force_login(cast.admin.user)
    listing = admin.get("/admin/org/loginfailure/")
    assert listing.status_code == 200 and b"consultant" in listing.content
    ids = [str(pk) for pk in LoginFailure.objects.values_list("pk", flat=True)]
    admin.post("/admin/org/loginfailure/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert sign_in(Client(), "consultant", PASSWORD).status_code == 302


def test_it_never_records_or_logs_the_password(cast: Cast, settings, caplog) -> None:
    settings.TANDEM_LOGIN_MAX_FAILURES = 2
    secret = "Sup3r-s3cret-typo"
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            sign_in(Client(), "consultant", secret)
    assert secret not in caplog.text
    assert {f.name for f in LoginFailure._meta.get_fields()} == {"id", "username", "ip", "at"}
    assert not any(secret in str(row) for row in LoginFailure.objects.values_list())


def test_it_ignores_bad_sign_in_input_without_counting_blank_passwords(cast: Cast) -> None:
    client = Client()
    assert client.post(LOGIN, {"username": "consultant", "password": ""}).status_code == 200
    assert client.post(LOGIN, {"username": "x" * 10_000, "password": "p"}).status_code == 200
    assert client.post(LOGIN, {"username": "\x00", "password": "p"}).status_code == 200
    assert LoginFailure.objects.filter(username="consultant").count() == 0


def test_it_words_the_lockout_in_the_local_time_zone() -> None:
    until = timezone.now()
    message = Lockout("account", until).message()
    assert f"after {timezone.localtime(until):%H:%M} or ask an administrator" in message
