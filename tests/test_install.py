"""`pip install .` alone gives working `idp` and `benefits` commands (issue 17)."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).parent.parent


def _runtime_distributions() -> set[str]:
    """The project's main requirements and theirs, without any extra (test tools)."""
    seen: set[str] = set()
    pending = [Requirement(r) for r in distribution("idp").requires or []]
    while pending:
        requirement = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        pending.extend(Requirement(r) for r in distribution(name).requires or [])
    return seen


def _imported_modules() -> set[str]:
    modules = set()
    for path in [*ROOT.glob("idp/**/*.py"), *ROOT.glob("clients/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"idp", "clients", "__future__"}


def test_every_runtime_import_is_a_main_dependency():
    runtime = _runtime_distributions()
    owners = packages_distributions()
    # Modules named by string, not imported: the JSON log formatter in logging_setup.py.
    modules = _imported_modules() | {"pythonjsonlogger"}
    missing = {
        module: owners.get(module)
        for module in modules
        if not {d.lower().replace("_", "-") for d in owners.get(module, [])} & runtime
    }
    assert missing == {}, f"imported at run time but only a test extra (or absent): {missing}"


def test_both_commands_are_installed_entry_points():
    scripts = {ep.name: ep.value for ep in distribution("idp").entry_points}
    assert scripts["idp"] == "idp.cli:main" and scripts["benefits"] == "clients.benefits.cli:main"
