"""A throwaway Dovecot (Debian's ``dovecot-imapd``) for the mail tests and the mail intake
bench: started in a temporary folder on a free localhost port, with one passwd-file user, and
removed on exit. Mail is delivered into it by IMAP APPEND, as a mail server would.

    with running_dovecot() as server:      # raises Unavailable(why) when it cannot start
        server.deliver(raw_bytes)

The tests turn ``Unavailable`` into a skip (a failure under ``CI=true``): see
``tandem/mail/tests/conftest.py``.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class Unavailable(Exception):
    """Dovecot is not installed, or did not start; the message says why."""


DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "tandem", "imap-test-password"


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def deliver(self, raw: bytes) -> None:
        imap = self.connect()
        try:
            imap.append("INBOX", None, None, raw)
        finally:
            imap.logout()

    def empty(self) -> None:
        imap = self.connect()
        try:
            imap.select("INBOX")
            imap.store("1:*", "+FLAGS", "(\\Deleted)")
            imap.expunge()
        except imaplib.IMAP4.error:
            pass  # an empty mailbox has no 1:*
        finally:
            imap.logout()

    def flagged(self, flag: str) -> int:
        imap = self.connect()
        try:
            imap.select("INBOX")
            _, found = imap.search(None, "KEYWORD", flag)
            return len((found[0] or b"").split())
        finally:
            imap.logout()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(root: Path, port: int, owner: pwd.struct_passwd) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {owner.pw_name}
default_internal_group = {grp.getgrgid(owner.pw_gid).gr_name}
default_login_user = {owner.pw_name}
first_valid_uid = {owner.pw_uid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@contextmanager
def running_dovecot() -> Iterator[ImapServer]:
    if not os.access(DOVECOT, os.X_OK):
        raise Unavailable(f"{DOVECOT} is not installed")
    # Dovecot never gives mail to uid 0: as root, the mail belongs to an unprivileged user.
    owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    root = Path(tempfile.mkdtemp(prefix="tandem-dovecot-"))
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    if os.geteuid() == 0:
        os.chmod(root, 0o755)
        for sub in ("mail", "home"):
            os.chown(root / sub, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, owner))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = ImapServer("127.0.0.1", port, USER, PASSWORD)
    deadline = time.monotonic() + 15
    try:
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise Unavailable(f"it exited at start: {output.strip()} {log.strip()[-500:]}")
            try:
                server.connect().logout()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise Unavailable("it did not answer on its port within 15 s") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
