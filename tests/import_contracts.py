"""A contract type of our own for `lint-imports` (registered in pyproject.toml).

``private_names``: no module imports a private name (``_name``, not a dunder) from another app.
Inside an app its modules share private helpers freely (``tandem.work.actions.moves._locked``);
across apps only the public surface may be used, so an app can change its insides without
breaking another. import-linter's own contracts see modules, not names, so this one reads the
sources: every ``from X import _name`` and ``import X._module`` whose target is in another app.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import grimp
from importlinter import Contract, ContractCheck, fields, output


def _area(module: str, depth: int) -> str:
    """``tandem.work.actions.moves`` → ``tandem.work`` at depth 2 (a top-level module is its own area)."""
    return ".".join(module.split(".")[:depth])


def _source(module: str) -> Path | None:
    """The file of a module, found without importing it (importing would need Django set up)."""
    root, *rest = module.split(".")
    spec = importlib.util.find_spec(root)
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


class PrivateNamesContract(Contract):
    type_name = "private_names"

    containers = fields.ListField(subfield=fields.StringField())
    exclude = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        excluded = [str(e) for e in (self.exclude or [])]  # type: ignore[union-attr]
        offences: list[str] = []
        for container in self.containers:  # type: ignore[attr-defined]
            depth = str(container).count(".") + 2
            for module in sorted(graph.find_descendants(str(container))):
                if any(part in excluded for part in module.split(".")):
                    continue
                path = _source(module)
                if path is not None:
                    offences += self._offences(module, path, depth)
        return ContractCheck(kept=not offences, metadata={"offences": offences})

    @staticmethod
    def _offences(module: str, path: Path, depth: int) -> list[str]:
        found = []
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                source = node.module or ""
                if node.level:  # relative: resolve against this module's package
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join([*base, *([source] if source else [])])
                names = [alias.name for alias in node.names]
                targets = [(source, n) for n in names if _private(n)]
                targets += [(source, n) for n in [source.rsplit(".", 1)[-1]] if _private(n)]
            elif isinstance(node, ast.Import):
                targets = [
                    (alias.name, part) for alias in node.names for part in alias.name.split(".") if _private(part)
                ]
            else:
                continue
            for source, name in targets:
                if source.startswith("tandem.") and _area(source, depth) != _area(module, depth):
                    found.append(f"{module} (l.{node.lineno}) imports {name} from {source}")
        return found

    def render_broken_contract(self, check: ContractCheck) -> None:
        for offence in check.metadata["offences"]:
            output.print_error(f"- {offence}")
        output.new_line()
        output.print("Make the name public in its own app (and part of its documented surface), or move the")
        output.print("code that needs it into that app.")
