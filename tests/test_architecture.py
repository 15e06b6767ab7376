"""Rules of the code's shape that import-linter cannot check (its contracts, the layers among
them, are in pyproject.toml and run by `lint-imports`; docs/architecture.md explains them)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LONGEST = 600


def sources() -> list[Path]:
    return sorted(
        p for folder in ("tandem", "tests", "bench") for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts
    )


def test_no_module_is_longer_than_600_lines() -> None:
    """A module that long holds more than one concept: split it by concept."""
    long = {str(p.relative_to(ROOT)): n for p in sources() if (n := len(p.read_text().splitlines())) > LONGEST}
    assert long == {}


def test_every_durable_transaction_is_an_action_transaction() -> None:
    """``action_transaction`` is ``transaction.atomic(durable=True)`` that also handles the
    messages published inside it once it commits: a bare durable block would leave them to the
    worker's next round."""
    found = []
    for path in sources():
        if path.parts[-3:-1] == ("tandem", "outbox"):
            continue  # where action_transaction itself opens the durable block
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and any(
                k.arg == "durable" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
