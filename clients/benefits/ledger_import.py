"""Importing contribution records as an agency's payment system exports them (CSV, UTF-8).

Header: membership_number,month,program,employer_share,employee_share,employer,paid_on —
`month` as YYYY-MM, shares in whole rupiah, `paid_on` as YYYY-MM-DD or empty when unpaid.
All rows are checked before anything is written: one bad row and nothing is imported, with
every error naming its data row (the first row after the header is row 1). A record for a
(membership number, month, program) already in the ledger is updated, so importing the same
file again changes nothing and adds no duplicates.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from sqlalchemy import select

from .claims import MEMBERSHIP_NUMBER
from .db import db
from .models import PROGRAMS, Contribution

HEADER = ("membership_number", "month", "program", "employer_share", "employee_share",
          "employer", "paid_on")  # fmt: skip
PAYMENT_DUE_DAY = 15  # contributions for a month are due by the 15th of the next month


class LedgerImportError(Exception):
    """The file is refused as a whole; `errors` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Record:
    membership_number: str
    month: date
    program: str
    employer_share: int
    employee_share: int
    employer: str
    paid_on: date | None

    @property
    def key(self) -> tuple[str, date, str]:
        return (self.membership_number, self.month, self.program)


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int


def due_date(month: date) -> date:
    next_month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return next_month.replace(day=PAYMENT_DUE_DAY)


def _amount(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def _parse_row(row: dict[str, str]) -> tuple[Record | None, list[str]]:
    errors = []
    number = row["membership_number"].strip()
    if not MEMBERSHIP_NUMBER.fullmatch(number):
        errors.append("membership_number: must be 6-20 capital letters or digits")
    month = None
    if re.fullmatch(r"\d{4}-\d{2}", row["month"].strip()):
        year, number_of_month = (int(part) for part in row["month"].split("-"))
        if 1 <= number_of_month <= 12 and year >= 1900:
            month = date(year, number_of_month, 1)
    if month is None:
        errors.append("month: must be YYYY-MM")
    program = row["program"].strip()
    if program not in PROGRAMS:
        errors.append(f"program: must be one of {', '.join(PROGRAMS)}")
    shares = {}
    for column in ("employer_share", "employee_share"):
        shares[column] = _amount(row[column].strip())
        if shares[column] is None:
            errors.append(f"{column}: must be whole rupiah (digits only)")
    employer = row["employer"].strip()
    if not 1 <= len(employer) <= 200:
        errors.append("employer: must be 1-200 characters")
    paid_on = None
    paid_text = row["paid_on"].strip()
    if paid_text:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", paid_text):
                raise ValueError
            paid_on = date.fromisoformat(paid_text)
        except ValueError:
            errors.append("paid_on: must be YYYY-MM-DD or empty")
    if errors:
        return None, errors
    record = Record(number, month, program, shares["employer_share"], shares["employee_share"],
                    employer, paid_on)  # fmt: skip
    return record, []


def read_records(stream: TextIO) -> list[Record]:
    """Parse and check a whole file; LedgerImportError lists every bad row."""
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            raise LedgerImportError([f"header: must be {','.join(HEADER)}"])
        records, errors, seen = [], [], {}
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (a trailing newline) are not rows
            if len(cells) != len(HEADER):
                errors.append(f"row {number}: expected {len(HEADER)} columns, got {len(cells)}")
                continue
            record, problems = _parse_row(dict(zip(HEADER, cells, strict=True)))
            errors += [f"row {number}: {problem}" for problem in problems]
            if record is None:
                continue
            if record.key in seen:
                errors.append(f"row {number}: the same member, month and program as row "
                              f"{seen[record.key]}")  # fmt: skip
                continue
            seen[record.key] = number
            records.append(record)
    except UnicodeDecodeError as error:
        raise LedgerImportError([f"file: not UTF-8 text ({error.reason})"]) from error
    except csv.Error as error:
        raise LedgerImportError([f"row {reader.line_num - 1}: {error}"]) from error
    if errors:
        raise LedgerImportError(errors)
    if not records:
        raise LedgerImportError(["file: no data rows"])
    return records


def apply_records(records: Iterable[Record]) -> ImportResult:
    """Add new records and update changed ones (the caller commits)."""
    records = list(records)
    numbers = sorted({r.membership_number for r in records})
    existing = {
        (row.membership_number, row.month, row.program): row
        for row in db.session.scalars(
            select(Contribution).where(Contribution.membership_number.in_(numbers))
        )
    }
    added = updated = 0
    for record in records:
        values = {
            "employer_name": record.employer,
            "employer_share": record.employer_share,
            "employee_share": record.employee_share,
            "due_date": due_date(record.month),
            "paid_date": record.paid_on,
        }
        row = existing.get(record.key)
        if row is None:
            key = dict(zip(("membership_number", "month", "program"), record.key, strict=True))
            db.session.add(Contribution(**key, **values))
            added += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            updated += 1
    db.session.flush()
    return ImportResult(added, updated, len(records) - added - updated)


def import_csv(stream: TextIO) -> ImportResult:
    """Check the whole file, then apply it (the caller commits; nothing is written on error)."""
    return apply_records(read_records(stream))
