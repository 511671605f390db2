"""The security scans of the test command: ruff's S rules, bandit's and pip-audit's verdicts."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def _audit_deps():
    path = ROOT / "scripts" / "audit-deps"
    loader = importlib.machinery.SourceFileLoader("audit_deps", str(path))
    spec = importlib.util.spec_from_loader("audit_deps", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


audit = _audit_deps()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_ruff_security_rules_stay_on():
    assert "S" in PYPROJECT["tool"]["ruff"]["lint"]["select"]


def test_bandit_skips_only_the_reviewed_tests():
    assert set(PYPROJECT["tool"]["bandit"]["skips"]) == {"B105", "B106", "B107"}
    script = (ROOT / "scripts" / "test").read_text()
    assert 'bandit" -c pyproject.toml -r idp clients -q --severity-level high' in script
    assert "scripts/audit-deps" in script


def test_the_shipped_allowlist_reads():
    audit.read_allowlist((ROOT / "audit-allowlist.txt").read_text())


def test_allowlist_entries_need_a_reason():
    text = "# comment\n\nGHSA-aaaa-bbbb-cccc  only the XML parser, unused; recheck 2027-01\n"
    assert audit.read_allowlist(text) == {
        "GHSA-aaaa-bbbb-cccc": "only the XML parser, unused; recheck 2027-01"
    }
    with pytest.raises(ValueError, match="audit-allowlist.txt:1: PYSEC-2024-1 needs a reason"):
        audit.read_allowlist("PYSEC-2024-1\n")


def _dep(name: str, *vulns: str) -> dict:
    found = [{"id": v, "fix_versions": ["9.9"], "aliases": [], "description": ""} for v in vulns]
    return {"name": name, "version": "1.0", "vulns": found}


def test_a_known_vulnerability_fails():
    status, lines = audit.verdict({"dependencies": [_dep("flask"), _dep("jinja2", "GHSA-x")]})
    assert status == 1
    assert "  jinja2 1.0: GHSA-x (fixed in 9.9)" in lines


def test_no_vulnerability_passes():
    status, lines = audit.verdict({"dependencies": [_dep("flask"), _dep("jinja2")]})
    assert (status, lines) == (0, ["pip-audit: 2 dependencies, no known vulnerabilities."])


def test_an_unreachable_vulnerability_source_warns_and_passes():
    skipped = {"name": "flask", "skip_reason": "Dependency not found on PyPI"}
    status, lines = audit.verdict({"dependencies": [skipped]})
    assert status == 0
    assert lines[0].startswith("WARNING: pip-audit could not check any dependency")


def test_partly_skipped_dependencies_are_named():
    skipped = {"name": "idp-local", "skip_reason": "not on PyPI"}
    status, lines = audit.verdict({"dependencies": [_dep("flask"), skipped]})
    assert status == 0
    assert lines[1:] == [
        "WARNING: 1 dependencies could not be audited:",
        "  idp-local: not on PyPI",
    ]
