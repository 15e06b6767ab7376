"""Docs that tests keep honest: every setting and every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_is_documented() -> None:
    settings_text = (ROOT / "tandem" / "settings.py").read_text()
    used = set(re.findall(r"environ\.get\(\s*\"(TANDEM_[A-Z_]+)\"", settings_text))
    documented = set(re.findall(r"`(TANDEM_[A-Z_]+)`", (ROOT / "docs" / "configuration.md").read_text()))
    assert used, "settings.py reads no TANDEM_ variables?"
    assert used - documented == set()


def test_every_tandem_command_is_documented() -> None:
    commands = {
        p.stem
        for p in (ROOT / "tandem").glob("*/management/commands/*.py")
        if not p.name.startswith("_")
    }
    docs = "\n".join(p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
    missing = {c for c in commands if f"tandem {c}" not in docs}
    assert missing == set()
