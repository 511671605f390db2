"""New-browser notices (idp/auth/devices.py): the device check runs in the database."""

from __future__ import annotations

from .helpers import Actions, mail_text, mails

NOTICE = "/account/security"  # the notice's link to the security log, in either language


def _notices(app) -> int:
    return sum(NOTICE in mail_text(message) for message in mails(app))


def test_a_sign_in_from_a_new_browser_is_emailed_once(app, actions):
    member = actions.create_member()
    assert actions.sign_in(member["email"]).status_code == 302
    assert _notices(app) == 0  # the very first sign-in: no browser to compare with
    actions.client.get("/logout")
    assert actions.sign_in(member["email"]).status_code == 302
    assert _notices(app) == 0  # the same browser (its device cookie) again

    other = Actions(app, app.test_client())
    assert other.sign_in(member["email"]).status_code == 302
    assert _notices(app) == 1
    assert other.sign_in(member["email"]).status_code == 302
    assert _notices(app) == 1  # that browser is known now


def test_the_device_of_another_member_does_not_count(app, actions):
    first = actions.create_member()
    second = actions.create_member(
        email="budi@example.id", membership_number="12345678902", nik="3174051507900002"
    )
    assert actions.sign_in(first["email"]).status_code == 302
    other = Actions(app, app.test_client())
    assert other.sign_in(second["email"]).status_code == 302
    # The second member signs in with the first member's browser: new to them.
    actions.client.get("/logout")
    assert actions.sign_in(second["email"]).status_code == 302
    assert _notices(app) == 1
