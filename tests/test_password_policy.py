"""Password policy (NIST SP 800-63B §5.1.1.2): length, blocklist, personal data, NFKC."""

from __future__ import annotations

from datetime import date

import pytest

from idp.auth.policy import common_passwords, password_problem


def test_blocklist_holds_at_least_100000_common_passwords():
    words = common_passwords()
    assert len(words) >= 100_000
    assert {"123456", "password", "qwerty"} <= words


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("correct horse battery staple", None),
        ("kata sandi yang panjang sekali", None),
        ("ñandú 🙂 über alles ok", None),  # any characters
        ("short", "at least 12"),
        ("x" * 129, "at most 128"),
        ("1234567890123", "too common"),
        ("PASSWORD1234", "too common"),  # case does not help
        ("ｐａｓｓｗｏｒｄ１２３４", "too common"),  # NFKC folds full-width forms
        ("my name is rahayu!!", "name"),
        ("siti.rahayu-rocks", "name"),
        ("x12345678901x yes", "name"),  # membership number
        ("born 15071990 here", "name"),  # birthdate
        ("3174051507900001 ok!", "name"),  # NIK
    ],
)
def test_password_rules(app, password, expected):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        problem = password_problem(
            password,
            name="Siti Rahayu",
            email="siti.rahayu@example.id",
            membership_number="12345678901",
            nik="3174051507900001",
            birthdate=date(1990, 7, 15),
        )
    assert (problem is None) == (expected is None), problem
    if expected:
        assert expected in str(problem).lower()


def test_new_password_forms_carry_the_strength_meter(client):
    page = client.get("/account/activate")
    assert 'data-meter="password-meter"' in page.text
    assert 'id="password-meter"' in page.text and "password-meter.js" in page.text
    script = client.get("/static/password-meter.js")
    assert script.status_code == 200 and "data-meter" in script.text
    script.close()  # static files are streamed from disk


def test_strength_meter_script_parses():
    import shutil
    import subprocess
    from pathlib import Path

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the meter script's syntax is not checked here")
    script = Path(__file__).parent.parent / "idp" / "static" / "password-meter.js"
    subprocess.run([node, "--check", str(script)], check=True)
