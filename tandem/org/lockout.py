"""Sign-in throttling and lockout, shared by every app server through the database.

After ``TANDEM_LOGIN_MAX_FAILURES`` failed sign-ins for one account (the username as typed,
case-insensitively) within ``TANDEM_LOGIN_WINDOW_MINUTES``, or ``TANDEM_LOGIN_MAX_FAILURES_PER_IP``
from one client address, further sign-ins are refused, even with the right password, until the
window has passed since the failure that tipped it over, or an administrator runs
``tandem unlock`` (or deletes the rows in the admin's "Login failures"). A successful sign-in
clears its account's failures.

The check sits in the authentication backend, so it holds wherever Django authenticates (the
sign-in page, the admin's sign-in, ``Client.login``); the sign-in forms only turn the refusal
into a message that says until when. Refused attempts are not counted: a locked-out person who
keeps trying does not extend their own lockout. Passwords are never stored or logged here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone

from tandem.org.models import LoginFailure

USERNAME_LIMIT = 150


@dataclass(frozen=True)
class Lockout:
    scope: str  # "account" or "address"
    until: datetime

    def message(self) -> str:
        at = timezone.localtime(self.until).strftime("%H:%M")
        whose = "for this account" if self.scope == "account" else "from your network address"
        return f"Too many failed sign-ins {whose}; try again after {at} or ask an administrator to unlock it."

    def retry_after_seconds(self, now: datetime | None = None) -> int:
        return max(1, int((self.until - (now or timezone.now())).total_seconds()) + 1)


def window() -> timedelta:
    return timedelta(minutes=settings.TANDEM_LOGIN_WINDOW_MINUTES)


def account_key(username: str) -> str:
    return (username or "").strip().lower()[:USERNAME_LIMIT]


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the last entry of ``TANDEM_CLIENT_IP_HEADER`` (the one our own
    proxy appended; earlier entries are whatever the client claimed), else ``REMOTE_ADDR``."""
    if request is None:
        return None
    raw = ""
    if settings.TANDEM_CLIENT_IP_HEADER:
        raw = request.META.get("HTTP_" + settings.TANDEM_CLIENT_IP_HEADER.upper().replace("-", "_"), "")
    raw = raw or request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw.split(",")[-1].strip()))
    except ValueError:
        return None


def _locked_until(failures: Any, limit: int, now: datetime) -> datetime | None:
    """When the ``limit``-th most recent failure in the window leaves it, if there are that many."""
    if limit < 1:
        return None
    tipping = failures.filter(at__gt=now - window()).order_by("-at").values_list("at", flat=True)[limit - 1 : limit]
    found = list(tipping)
    return found[0] + window() if found else None


def lockout_for(username: str, ip: str | None, *, now: datetime | None = None) -> Lockout | None:
    """The lockout in force for this account or address, or None."""
    now = now or timezone.now()
    until = _locked_until(
        LoginFailure.objects.filter(username=account_key(username)), settings.TANDEM_LOGIN_MAX_FAILURES, now
    )
    if until is not None:
        return Lockout("account", until)
    if ip:
        until = _locked_until(LoginFailure.objects.filter(ip=ip), settings.TANDEM_LOGIN_MAX_FAILURES_PER_IP, now)
        if until is not None:
            return Lockout("address", until)
    return None


def record_failure(username: str, ip: str | None, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    # Pruning as we go keeps the table at one window's worth of failures without a worker.
    LoginFailure.objects.filter(at__lte=now - window()).delete()
    LoginFailure.objects.create(username=account_key(username), ip=ip, at=now)


def unlock(*, username: str | None = None, ip: str | None = None) -> int:
    """Forget the failures of an account and/or an address; returns how many were forgotten."""
    forgotten = 0
    if username is not None:
        forgotten += LoginFailure.objects.filter(username=account_key(username)).delete()[0]
    if ip is not None:
        forgotten += LoginFailure.objects.filter(ip=ip).delete()[0]
    return forgotten


def locked_now(*, now: datetime | None = None) -> list[tuple[str, str, datetime]]:
    """Every account and address locked out right now: (scope, who, until)."""
    now = now or timezone.now()
    recent = LoginFailure.objects.filter(at__gt=now - window())
    found: list[tuple[str, str, datetime]] = []
    for username in recent.values_list("username", flat=True).distinct().order_by("username"):
        lock = lockout_for(username, None, now=now)
        if lock:
            found.append(("account", username, lock.until))
    for address in recent.exclude(ip=None).values_list("ip", flat=True).distinct().order_by("ip"):
        limit = settings.TANDEM_LOGIN_MAX_FAILURES_PER_IP
        until = _locked_until(LoginFailure.objects.filter(ip=address), limit, now)
        if address and until:
            found.append(("address", address, until))
    return found


class ThrottledModelBackend(ModelBackend):
    """Django's username-and-password backend, refusing locked-out accounts and addresses."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None or password is None:
            return None
        ip = client_ip(request)
        if lockout_for(username, ip) is not None:
            # PermissionDenied stops Django trying other backends; authenticate() returns None.
            raise PermissionDenied("locked out")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username, ip)
        else:
            unlock(username=username)
        return user
