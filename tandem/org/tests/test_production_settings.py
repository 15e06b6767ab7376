"""Production settings: safe cookies and HSTS, refusal of unsafe configurations, `tandem check --deploy`,
and Argon2 as the password hasher."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import tandem.settings

SETTINGS = Path(tandem.settings.__file__)
GOOD_KEY = "k7Hq2vLx9pR4sT8wZ1yB6nM3cF5gJ0aD-eU_iO2lK9hQ4rV7xW1zS3"
PRODUCTION = {
    "TANDEM_ENV": "production",
    "TANDEM_SECRET_KEY": GOOD_KEY,
    "TANDEM_ALLOWED_HOSTS": "tandem.example.com",
    "TANDEM_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
}
TANDEM_VARIABLES = [name for name in os.environ if name.startswith("TANDEM_")]


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run the settings module afresh under the given environment (nothing else TANDEM_ set)."""

    def run(**env: str) -> dict:
        for name in TANDEM_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS))

    return run


def test_it_lists_argon2_first_in_the_settings_module(load) -> None:
    hashers = load()["PASSWORD_HASHERS"]
    assert hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    # The older hashers stay, to verify (and upgrade) passwords stored before the switch.
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in hashers[1:]


def test_it_hashes_with_argon2_when_the_tests_fast_hasher_is_off(settings) -> None:
    from django.contrib.auth.hashers import check_password, make_password

    settings.PASSWORD_HASHERS = tandem.settings.PASSWORD_HASHERS
    encoded = make_password("correct horse")
    assert encoded.startswith("argon2$argon2id$") and check_password("correct horse", encoded)


def test_it_runs_the_demo_defaults_in_development(load) -> None:
    loaded = load()
    assert loaded["ENVIRONMENT"] == "development" and not loaded["PRODUCTION"]
    assert loaded["SESSION_COOKIE_SECURE"] is False and loaded["SECURE_HSTS_SECONDS"] == 0
    assert loaded["SECURE_SSL_REDIRECT"] is False
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True and loaded["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_it_secures_cookies_hsts_and_https_in_production(load) -> None:
    loaded = load(**PRODUCTION)
    assert loaded["SESSION_COOKIE_SECURE"] is True and loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["SESSION_COOKIE_SAMESITE"] == loaded["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert loaded["SECURE_HSTS_SECONDS"] == 31_536_000 and loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded["DEBUG"] is False


def test_it_lets_the_operator_tune_hsts_and_the_redirect(load) -> None:
    loaded = load(**PRODUCTION, TANDEM_HSTS_SECONDS="600", TANDEM_SSL_REDIRECT="0", TANDEM_HSTS_PRELOAD="1")
    assert loaded["SECURE_HSTS_SECONDS"] == 600 and loaded["SECURE_HSTS_PRELOAD"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is False and "security.W008" in loaded["SILENCED_SYSTEM_CHECKS"]


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"TANDEM_DEBUG": "1"}, "TANDEM_DEBUG"),
        ({"TANDEM_SECRET_KEY": ""}, "TANDEM_SECRET_KEY"),
        ({"TANDEM_SECRET_KEY": "insecure-demo-key-change-me-in-production-0123456789"}, "TANDEM_SECRET_KEY"),
        ({"TANDEM_SECRET_KEY": "short-key"}, "TANDEM_SECRET_KEY"),
        ({"TANDEM_SECRET_KEY": "a" * 60}, "TANDEM_SECRET_KEY"),
        ({"TANDEM_ALLOWED_HOSTS": "*"}, "TANDEM_ALLOWED_HOSTS"),
        ({"TANDEM_ALLOWED_HOSTS": "tandem.example.com,*"}, "TANDEM_ALLOWED_HOSTS"),
        ({"TANDEM_ALLOWED_HOSTS": " , "}, "TANDEM_ALLOWED_HOSTS"),
        ({"TANDEM_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, "TANDEM_PROXY_SSL_HEADER"),
    ],
)
def test_it_refuses_to_start_production_with_an_unsafe_setting(load, env: dict, names: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=names):
        load(**{**PRODUCTION, **env})


def test_it_refuses_an_unknown_environment_name(load) -> None:
    with pytest.raises(ImproperlyConfigured, match="TANDEM_ENV is 'prod'"):
        load(TANDEM_ENV="prod")


def tandem_command(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "tandem.cli", *args],
        env={**clean, "TANDEM_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_check_deploy_on_a_correct_production_environment(tmp_path: Path) -> None:
    result = tandem_command(tmp_path, "check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_fails_check_deploy_on_the_demo_defaults_naming_what_to_set(tmp_path: Path) -> None:
    result = tandem_command(tmp_path, "check", "--deploy")
    assert result.returncode == 1
    for expected in ("TANDEM_ENV=production", "TANDEM_SECRET_KEY", "TANDEM_ALLOWED_HOSTS", "SESSION_COOKIE_SECURE"):
        assert expected in result.stderr
    # Without --deploy the demo configuration is fine.
    assert tandem_command(tmp_path, "check").returncode == 0


def test_it_refuses_to_start_production_with_the_demo_key_without_a_traceback(tmp_path: Path) -> None:
    result = tandem_command(tmp_path, "check", "--deploy", **{**PRODUCTION, "TANDEM_SECRET_KEY": ""})
    assert result.returncode == 2
    assert "TANDEM_SECRET_KEY must be set" in result.stderr and "Traceback" not in result.stderr
    debug = tandem_command(tmp_path, "check", **{**PRODUCTION, "TANDEM_DEBUG": "1"})
    assert debug.returncode == 2 and "unset TANDEM_DEBUG" in debug.stderr
