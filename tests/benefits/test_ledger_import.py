"""`benefits ledger import FILE.csv`: a payment system's export, all rows or none, errors naming
the data row, idempotent on re-import; the demo seed goes through the same path."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from clients.benefits.cli import main

HEADER = "membership_number,month,program,employer_share,employee_share,employer,paid_on\n"
ROWS = [
    "11122233344,2025-01,JHT,185000,100000,PT Maju Bersama,2025-02-10",
    "11122233344,2025-01,JP,100000,50000,PT Maju Bersama,2025-02-10",
    "11122233344,2025-02,JHT,185000,100000,PT Maju Bersama,",
    '55566677788,2025-01,JKK,12000,0,"PT Sinar Jaya, Tbk",2025-02-20',
]


@pytest.fixture
def run(tmp_path):
    database = tmp_path / "instance" / "benefits.sqlite3"
    config = tmp_path / "benefits.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{database}"\n')

    def invoke(*args: str):
        return CliRunner().invoke(main, ["--config", str(config), *args], obj={})

    assert invoke("init").exit_code == 0
    invoke.database = database
    invoke.tmp = tmp_path
    return invoke


def _write(run, name: str, *rows: str, header: str = HEADER) -> str:
    path = run.tmp / name
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return str(path)


def _ledger(run) -> list[tuple]:
    with sqlite3.connect(run.database) as conn:
        return conn.execute(
            "SELECT membership_number, month, program, employer_name, employer_share,"
            " employee_share, due_date, paid_date FROM contributions"
            " ORDER BY membership_number, month, program"
        ).fetchall()


def test_import_then_reimport_adds_no_duplicates(run):
    path = _write(run, "iuran-2025-01.csv", *ROWS)
    first = run("ledger", "import", path)
    assert first.exit_code == 0, first.output
    assert "4 added, 0 updated, 0 unchanged" in first.output
    rows = _ledger(run)
    assert len(rows) == 4
    assert rows[0] == ("11122233344", "2025-01-01", "JHT", "PT Maju Bersama", 185000, 100000,
                       "2025-02-15", "2025-02-10")  # fmt: skip
    assert rows[2][-1] is None  # paid_on empty: not yet paid
    assert rows[3][3] == "PT Sinar Jaya, Tbk"
    again = run("ledger", "import", path)
    assert again.exit_code == 0 and "0 added, 0 updated, 4 unchanged" in again.output
    assert _ledger(run) == rows
    # A later export in which February got paid updates that row, and only that row.
    paid = _write(run, "iuran-2025-02.csv", *ROWS[:2],
                  "11122233344,2025-02,JHT,185000,100000,PT Maju Bersama,2025-03-12")  # fmt: skip
    update = run("ledger", "import", paid)
    assert "0 added, 1 updated, 2 unchanged" in update.output
    assert _ledger(run)[2][-1] == "2025-03-12" and len(_ledger(run)) == 4


BAD_ROWS = {
    "month": ("11122233344,2025-13,JHT,1,1,PT A,", "row 2: month: must be YYYY-MM"),
    "month format": ("11122233344,2025/01,JHT,1,1,PT A,", "row 2: month"),
    "program": ("11122233344,2025-01,JKN,1,1,PT A,", "row 2: program"),
    "amount": ("11122233344,2025-01,JHT,1.5,1,PT A,", "row 2: employer_share"),
    "negative": ("11122233344,2025-01,JHT,1,-1,PT A,", "row 2: employee_share"),
    "member": ("1112-2233344,2025-01,JHT,1,1,PT A,", "row 2: membership_number"),
    "employer": ("11122233344,2025-01,JHT,1,1,,", "row 2: employer"),
    "paid_on": ("11122233344,2025-01,JHT,1,1,PT A,10/02/2025", "row 2: paid_on"),
    "columns": ("11122233344,2025-01,JHT,1,1", "row 2: expected 7 columns, got 5"),
    "duplicate": ("11122233344,2025-01,JHT,1,1,PT A,", "row 2: the same member, month and "
                  "program as row 1"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_ROWS)
def test_one_bad_row_and_nothing_is_imported(run, case):
    row, message = BAD_ROWS[case]
    path = _write(run, "bad.csv", ROWS[0], row, *ROWS[1:])
    answer = run("ledger", "import", path)
    assert answer.exit_code != 0
    assert message in answer.output and "nothing imported" in answer.output
    assert _ledger(run) == []


def test_every_bad_row_is_named_at_once(run):
    path = _write(run, "bad.csv", ROWS[0], "x,2025-01,JHT,1,1,PT A,", ROWS[1],
                  "11122233344,2025-01,JP,a,1,PT A,")  # fmt: skip
    answer = run("ledger", "import", path)
    assert "row 2: membership_number" in answer.output
    assert "row 4: employer_share" in answer.output and "(2 errors)" in answer.output
    assert _ledger(run) == []


@pytest.mark.parametrize(
    ("header", "content", "message"),
    [
        ("membership_number,month,program,employer_share,employee_share,employer\n", None,
         "header: must be membership_number,month,program"),
        (HEADER, b"", "no data rows"),
        ("", None, "header: must be"),
        (HEADER, b"\xff\xfe\x00bad", "not UTF-8"),
    ],
)  # fmt: skip
def test_a_file_of_the_wrong_shape_is_refused(run, header, content, message):
    path = run.tmp / "shape.csv"
    if content is None:
        path.write_text(header + (ROWS[0] + "\n" if header else ""))
    else:
        path.write_bytes(header.encode() + content)
    answer = run("ledger", "import", str(path))
    assert answer.exit_code != 0 and message in answer.output
    assert _ledger(run) == []


def test_a_spreadsheet_export_with_a_byte_order_mark_is_read(run):
    path = run.tmp / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS[0] + "\r\n").encode())
    answer = run("ledger", "import", str(path))
    assert answer.exit_code == 0, answer.output
    assert len(_ledger(run)) == 1


def test_seed_demo_goes_through_the_import(run, monkeypatch):
    from clients.benefits import ledger_import

    calls = []
    real = ledger_import.read_records
    monkeypatch.setattr(
        ledger_import, "read_records", lambda stream: calls.append(1) or real(stream)
    )
    assert run("seed-demo", "--membership-number", "11122233344").exit_code == 0
    assert calls == [1] and len(_ledger(run)) == 60 * 4
