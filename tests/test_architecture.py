"""Rules of the code's shape that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINES = Path(__file__).resolve().parent.parent / "tandem" / "engines"


def test_engines_never_import_django() -> None:
    offenders = []
    for path in ENGINES.rglob("*.py"):
        if "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in {"django", "ninja"}
                          or (n.startswith("tandem.") and not n.startswith("tandem.engines"))]
    assert offenders == []
