"""Fixtures of the trust tests that run Tandem in separate processes (tests/stack.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cast import Cast, build_cast
from tests.stack import Stack, Template


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: starts real server and worker processes (seconds, not milliseconds); runs in CI"
    )


@pytest.fixture
def cast(db, settings) -> Cast:
    """The test cast (tests/cast.py), with passwords hashed the fast way."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_cast()


@pytest.fixture(scope="session")
def stack_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """One migrated database per session (migrating takes ~8 s); each stack copies it."""
    template = Template.create(tmp_path_factory.mktemp("stack-template"))
    try:
        yield template
    finally:
        template.close()


@pytest.fixture
def stack(stack_template: Template, tmp_path: Path) -> Iterator[Stack]:
    """A fresh database of our own, with its server and worker killed at the end."""
    made = Stack(stack_template, tmp_path / "stack")
    try:
        yield made
    finally:
        made.close()
