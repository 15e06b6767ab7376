"""A real IMAP server for the mail tests: Debian's Dovecot, started once per test session as a
throwaway instance (``tests/dovecot.py``, which the mail intake bench uses too). Tests deliver
mail into it by IMAP APPEND, as a mail server would.

``scripts/test`` installs ``dovecot-imapd`` when it is missing. Without it the tests skip with a
message, except in CI (``CI=true``), where they fail: CI must never pass without the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.dovecot import ImapServer, Unavailable, running_dovecot

__all__ = ["ImapServer", "imap_server", "mailbox"]


def _unavailable(why: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the mail tests against Dovecot, but {why}", pytrace=False)
    pytest.skip(f"Dovecot is not available ({why}); install dovecot-imapd (scripts/test does) to run the mail tests")


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    try:
        with running_dovecot() as server:
            yield server
    except Unavailable as why:
        _unavailable(str(why))


@pytest.fixture
def mailbox(imap_server: ImapServer, settings, tmp_path) -> ImapServer:  # type: ignore[no-untyped-def]
    """The test's settings pointed at the server, its mailbox empty, files in a scratch folder."""
    imap_server.empty()
    settings.TANDEM_IMAP_HOST = imap_server.host
    settings.TANDEM_IMAP_PORT = imap_server.port
    settings.TANDEM_IMAP_SECURITY = "none"
    settings.TANDEM_IMAP_USER = imap_server.user
    settings.TANDEM_IMAP_PASSWORD = imap_server.password
    settings.TANDEM_MAIL_ADDRESS = "tandem@example.test"
    settings.DEFAULT_FROM_EMAIL = "tandem@example.test"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "files")}}}
    return imap_server
