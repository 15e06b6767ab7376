"""The test identity provider (tests/oidc_op) as a real server on a free local port, and a
browser-less way through its sign-in: a ``requests`` session plays the person at the provider."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.oidc_op import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
CALLBACK = "http://testserver/accounts/sso/callback/"


class Provider:
    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.base = base
        self.issuer = f"{base}/o"
        self.env = env

    def allow(self, redirect_uri: str) -> None:
        subprocess.run([sys.executable, "-m", "tests.oidc_op.setup", "--allow", redirect_uri], env=self.env,
                       cwd=ROOT, check=True, capture_output=True)

    def sign_in(self, authorize_url: str, username: str, password: str = PASSWORD) -> str:
        """Follow the provider's pages as a person would, up to the redirect back to Tandem: its URL."""
        session = requests.Session()
        url = authorize_url
        for _ in range(10):
            response = session.get(url, allow_redirects=False, timeout=10)
            if response.status_code == 200 and 'name="csrfmiddlewaretoken"' in response.text:
                hidden = dict(re.findall(r'name="(csrfmiddlewaretoken|next)" value="([^"]*)"', response.text))
                response = session.post(url, data={**{k: html.unescape(v) for k, v in hidden.items()},
                                                   "username": username, "password": password},
                                        allow_redirects=False, timeout=10)
            location = response.headers.get("Location")
            if location is None:
                raise AssertionError(f"the provider stopped at {url}: {response.status_code} {response.text[:300]}")
            location = urljoin(url, location)
            if not location.startswith(self.base):
                return location
            url = location
        raise AssertionError("the provider redirected too often")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def identity_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    directory = tmp_path_factory.mktemp("identity-provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (directory / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env.update(OP_DIR=str(directory), DJANGO_SETTINGS_MODULE="tests.oidc_op.settings", PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-m", "tests.oidc_op.setup", CALLBACK], env=env, cwd=ROOT, check=True)
    port = _free_port()
    log = (directory / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/o/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None:
                raise RuntimeError((directory / "server.log").read_text())
            time.sleep(0.2)
        else:
            raise RuntimeError("the test identity provider did not start: " + (directory / "server.log").read_text())
        yield Provider(base, env)
    finally:
        server.terminate()
        server.wait(10)
        log.close()
