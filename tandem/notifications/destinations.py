"""Where webhooks may go (docs/webhooks.md): to public addresses only, unless the operator's
``TANDEM_WEBHOOK_ALLOW_PRIVATE`` says otherwise.

An administrator's subscriber could otherwise make Tandem POST to this machine (loopback), to
the private network behind it (RFC 1918, unique-local IPv6) or to a cloud's metadata service
(link-local): places the administrator cannot reach themselves. So an address naming such a
host is refused when the subscriber is added, and, since a name may resolve to anything later
(DNS rebinding), every name is resolved again at sending time: the attempt fails when any of its
addresses is private, and the POST goes to the address that was checked, never to a second
lookup of the name.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

ALLOW_SETTING = "TANDEM_WEBHOOK_ALLOW_PRIVATE"


def _why_not(ip: str) -> str | None:
    """Why this IP address is no place for a webhook, in words; None for a public one."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address (this machine)"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private-network address"
    if address.is_unspecified or address.is_multicast or address.is_reserved or not address.is_global:
        return "not a public address"
    return None


def _host_refusal(host: str, what: str) -> str | None:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return f"{what} is this machine (localhost)"
    reason = _why_not(name.strip("[]"))
    return f"{what} is {reason}" if reason else None


def _refused(problem: str) -> str:
    return (f"{problem}: webhooks go to public addresses only. Give the receiver's public address, or ask "
            f"the operator to set {ALLOW_SETTING} if this network is meant.")


def address_refusal(url: str) -> str | None:
    """Why a subscriber's address is refused when it is added (None: accepted). A host name is
    not resolved here (it may resolve elsewhere at sending time, which checks it again)."""
    if settings.TANDEM_WEBHOOK_ALLOW_PRIVATE:
        return None
    host = urlsplit(url).hostname or ""
    problem = _host_refusal(host, host)
    return _refused(problem) if problem else None


def sending_address(host: str, port: int) -> tuple[str | None, str | None]:
    """(the IP address to connect to, or None to connect by name; the refusal, or None).

    With private networks allowed, the name is left to the connection. Otherwise the name is
    resolved once, every address it has is checked, and the connection is pinned to the first,
    so a name that answers a public address to the check and a private one to the connection
    cannot slip through."""
    if settings.TANDEM_WEBHOOK_ALLOW_PRIVATE:
        return None, None
    problem = _host_refusal(host, host)
    if problem:
        return None, _refused(problem)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        return None, f"could not resolve {host}: {error}"[:300]
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for ip in addresses:
        reason = _why_not(ip)
        if reason:
            return None, _refused(f"{host} resolves to {ip}, {reason}")
    if not addresses:
        return None, f"could not resolve {host}: no address"
    return addresses[0], None
