"""Employee CSV files: the upload (validated whole before anything is imported), the
downloadable template and the employee list export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from ..models import Employer, Employment
from .employees import FIELDS, NewEmployee, already_employed, parse_employee, registry_problems

HEADER = list(FIELDS)
MAX_ROWS = 5000
TEMPLATE_EXAMPLE = [
    "Budi Santoso", "3174051507900002", "1990-07-15", "budi@example.id", "081234567891",
    "2026-01-01", "5000000", "JKK;JKM;JHT;JP",
]  # fmt: skip
EXPORT_HEADER = [
    "membership_number", "name", "birthdate", "email", "phone", "start_date", "end_date",
    "monthly_wage", "programs", "online_access",
]  # fmt: skip


@dataclass
class Upload:
    """A checked upload: the workers to register and the problems, row by row."""

    employees: list[NewEmployee] = field(default_factory=list)
    unchanged: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, field, message)


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def check_upload(employer: Employer, data: bytes) -> Upload:
    """Validate every row first; "row N" counts data rows, the header excluded."""
    upload = Upload()
    text = _decode(data)
    if text is None:
        upload.errors.append((0, "file", str(_l("The file is not UTF-8 text."))))
        return upload
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != HEADER:
        message = str(_l("The first line must be the header: %(header)s", header=",".join(HEADER)))
        upload.errors.append((0, "file", message))
        return upload
    seen_nik: dict[str, int] = {}
    seen_email: dict[str, int] = {}
    for number, cells in enumerate(reader, start=1):
        if number > MAX_ROWS:
            upload.errors.append(
                (number, "file", str(_l("At most %(n)d rows per file.", n=MAX_ROWS)))
            )
            break
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (often the last) is not a row
        if len(cells) != len(HEADER):
            message = str(_l("Expected %(n)d columns.", n=len(HEADER)))
            upload.errors.append((number, "file", message))
            continue
        employee, errors = parse_employee(dict(zip(HEADER, cells, strict=True)))
        if employee is not None:
            errors = registry_problems(employer, employee)
            if employee.nik in seen_nik:
                errors["nik"] = str(_l("The same NIK is on row %(n)d.", n=seen_nik[employee.nik]))
            elif employee.email in seen_email and "email" not in errors:
                message = str(_l("The same email is on row %(n)d.", n=seen_email[employee.email]))
                errors["email"] = message
            seen_nik.setdefault(employee.nik, number)
            seen_email.setdefault(employee.email, number)
        for name, message in errors.items():
            upload.errors.append((number, name, message))
        if employee is not None and not errors:
            if already_employed(employer, employee):
                upload.unchanged += 1
            else:
                upload.employees.append(employee)
    if not upload.errors and not upload.employees and not upload.unchanged:
        upload.errors.append((0, "file", str(_l("The file has no rows."))))
    return upload


def _cell(value: object) -> str:
    """A spreadsheet cell that can never be a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _write(rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def template_csv() -> str:
    return _write([HEADER, TEMPLATE_EXAMPLE])


def employees_csv(employments: list[Employment]) -> str:
    rows: list[list[object]] = [EXPORT_HEADER]
    for e in employments:
        m = e.member
        rows.append([
            m.membership_number, m.name, m.birthdate.isoformat() if m.birthdate else "",
            m.email or "", m.phone or "", e.start_date.isoformat(),
            e.end_date.isoformat() if e.end_date else "", e.monthly_wage, ";".join(e.programs),
            "yes" if m.has_online_access else "no",
        ])  # fmt: skip
    return _write(rows)
