"""The benefits app knows the identity provider only over HTTP: it never imports `idp` and
never names the identity provider's database or settings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CLIENTS = Path(__file__).parents[2] / "clients"
# The identity provider's database settings, its default SQLite file and its config variable.
FORBIDDEN = re.compile(r"IDP_DATABASE|IDP_CONFIG|idp\.sqlite3", re.I)


def _imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            names += [a.value for a in node.args[:1] if isinstance(a, ast.Constant)]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names += [a.value for a in node.args[:1] if isinstance(a, ast.Constant)]
    return names


def test_no_module_under_clients_imports_idp():
    sources = sorted(CLIENTS.rglob("*.py"))
    assert len(sources) > 10
    for path in sources:
        for name in _imported_modules(ast.parse(path.read_text(), str(path))):
            assert name != "idp" and not name.startswith("idp."), f"{path} imports {name}"


def test_nothing_under_clients_names_the_identity_providers_database():
    for path in sorted(CLIENTS.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".toml", ".html", ".sh", ".cfg", ".po"):
            match = FORBIDDEN.search(path.read_text())
            assert match is None, f"{path}: {match.group(0)}"


def test_the_checks_would_notice():
    tree = ast.parse("import idp.db\nfrom idp import cli\n__import__('idp')\n")
    assert _imported_modules(tree) == ["idp.db", "idp", "idp"]
    assert FORBIDDEN.search('url = os.environ["IDP_DATABASE_URL"]')
