"""The `tandem` console script: every command answers --help."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COMMANDS = [
    "demo", "serve", "createuser", "check", "worker", "migrate", "createtoken", "import-log", "export-log", "promise",
    "allocate", "backup", "restore", "unlock", "verify-audit", "analyse", "convert-log", "insights-rebuild", "forecast",
    "outbox", "sla_report", "search-index",
]


def run_cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "tandem.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_it_answers_help_for_every_command(command: str, tmp_path) -> None:
    result = run_cli(command, "--help", env_extra={"TANDEM_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "usage: tandem " + command in result.stdout


def test_it_checks_the_configuration_including_the_database(tmp_path) -> None:
    env = {"TANDEM_DATA_DIR": str(tmp_path)}
    assert run_cli("migrate", "-v0", env_extra=env).returncode == 0
    result = run_cli("check", env_extra=env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_reports_an_unreachable_database(tmp_path) -> None:
    env = {"TANDEM_DATA_DIR": str(tmp_path), "TANDEM_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    result = run_cli("check", env_extra=env)
    assert result.returncode != 0
    assert "Cannot reach the database" in result.stderr
