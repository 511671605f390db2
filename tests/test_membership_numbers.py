"""Issued membership numbers (issue 20): 11 digits whose last is a Luhn check digit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from idp.db import db
from idp.members import issue_membership_number, luhn_check_digit, luhn_valid, typo_neighbours
from idp.models import Member

from .helpers import csrf_from


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("79927398713", True),  # the textbook example
        ("79927398710", False),
        ("12345678903", True),
        ("12345678901", False),  # the demo's registry number: valid as given, not issued
        ("1234567890a", False),
        ("", False),
    ],
)
def test_luhn(number, valid):
    assert luhn_valid(number) is valid


def test_issued_numbers_catch_every_single_digit_typo_and_adjacent_transposition(app):
    with app.app_context():
        issued = [issue_membership_number() for _ in range(200)]
    for number in issued:
        assert len(number) == 11 and number.isdigit() and luhn_valid(number)
        assert luhn_check_digit(number[:-1]) == number[-1]
        for typo in typo_neighbours(number):
            assert not luhn_valid(typo), (number, typo)


def test_issuing_skips_numbers_one_typo_away_from_an_existing_one(app, actions, monkeypatch):
    taken = "3141592653"
    taken += luhn_check_digit(taken)
    assert "09" not in taken and "90" not in taken
    near = taken[:3] + ("1" if taken[3] != "1" else "2") + taken[4:]
    actions.create_member(membership_number=near)  # an operator's registry number
    payloads = iter([int(taken[:-1]) - 10**9, 5555555554 - 10**9])
    monkeypatch.setattr("idp.members.secrets.randbelow", lambda _limit: next(payloads))
    with app.app_context():
        issued = issue_membership_number()
    assert issued != taken and issued.startswith("5555555554")


def _sign_in_answer(client, identifier: str):
    page = client.get("/login")
    form = {"identifier": identifier, "password": "wrong password here", "csrf_token": ""}
    form["csrf_token"] = csrf_from(page.text)
    return client.post("/login", data=form)


def test_a_typo_of_an_issued_number_gets_the_usual_not_found_answer(app, client, cli):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    created = cli(
        "members", "create", "--nik", "3174051507900001", "--name", "Siti Rahayu",
        "--birthdate", "1990-07-15", "--email", "siti@example.id", "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    number = json.loads(created.output)["membership_number"]
    assert luhn_valid(number)
    unknown = _sign_in_answer(client, "98989898989")
    digit = "1" if number[4] != "1" else "2"
    typos = [number[:4] + digit + number[5:], number[:5] + number[6] + number[5] + number[7:]]
    for typo in typos:
        if typo == number:
            continue
        answer = _sign_in_answer(client, typo)
        assert answer.status_code == unknown.status_code == 400
        assert "The email, membership number or password is incorrect." in answer.text
        page = client.get("/account/activate")
        activation = client.post("/account/activate", data={
            "membership_number": typo, "nik": "3174051507900001", "birthdate": "1990-07-15",
            "email": "siti@example.id", "password": "sepeda biru di pagi cerah",
            "csrf_token": csrf_from(page.text),
        })  # fmt: skip
        assert activation.status_code == 400
        assert "These details do not match a membership without online access" in activation.text
    with app.app_context():
        member = db.session.scalar(select(Member).where(Member.membership_number == number))
        assert member.password_hash is None  # nothing activated through a typo


def test_operator_numbers_stay_valid_as_given_and_missing_ones_are_issued(app, cli, tmp_path):
    legacy = cli(
        "members", "create", "--membership-number", "22233344455", "--nik", "3201014506920003",
        "--name", "Ani", "--birthdate", "1992-06-05", "--email", "ani@example.id", "--json",
    )  # fmt: skip
    assert json.loads(legacy.output)["membership_number"] == "22233344455"
    data = (
        "membership_number,nik,name,birthdate,email,phone,employer\n"
        ",3174051507900001,Siti,1990-07-15,siti@example.id,,PT Sinar Jaya\n"
        "99988877766,3174051607900001,Budi,1990-07-16,,,\n"
    )
    (tmp_path / "m.csv").write_text(data)
    assert cli("members", "import", str(tmp_path / "m.csv")).exit_code == 0
    with app.app_context():
        numbers = set(db.session.scalars(select(Member.membership_number)))
    issued = numbers - {"22233344455", "99988877766"}
    assert len(numbers) == 3 and len(issued) == 1 and luhn_valid(issued.pop())
