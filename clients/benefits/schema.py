"""Bring a benefits database made by an earlier version up to the models, in place.

The app keeps no migration history (its tables are few and its ledger can be re-imported), so
`benefits init` creates what is missing and applies the few in-place changes the models have
needed since: new nullable columns are added, `contributions.wage` may be empty (imported rows
carry no wage), and the claim status `paid` is now `paid_out`.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text, update

from .db import db
from .models import Claim, ClaimEvent, Contribution


def _add_missing_columns(conn: Connection) -> list[str]:
    added = []
    for table in db.metadata.sorted_tables:
        present = {column["name"] for column in inspect(conn).get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
            added.append(f"{table.name}.{column.name}")
    return added


def _rebuild_sqlite_table(conn: Connection, table) -> None:
    """SQLite cannot relax a NOT NULL: copy the rows into a table made from the model."""
    old = f"{table.name}__old"
    for index in inspect(conn).get_indexes(table.name):
        conn.execute(text(f'DROP INDEX "{index["name"]}"'))
    conn.execute(text(f"ALTER TABLE {table.name} RENAME TO {old}"))
    table.create(conn)
    shared = ", ".join(
        f'"{c["name"]}"' for c in inspect(conn).get_columns(old) if c["name"] in table.columns
    )
    copy = f"INSERT INTO {table.name} ({shared}) SELECT {shared} FROM {old}"  # noqa: S608 - names from our models and the catalogue
    conn.execute(text(copy))
    conn.execute(text(f"DROP TABLE {old}"))


def _wage_may_be_empty(conn: Connection) -> bool:
    columns = {c["name"]: c for c in inspect(conn).get_columns("contributions")}
    if columns["wage"]["nullable"]:
        return False
    if conn.dialect.name == "sqlite":
        _rebuild_sqlite_table(conn, Contribution.__table__)
    else:
        conn.execute(text("ALTER TABLE contributions ALTER COLUMN wage DROP NOT NULL"))
    return True


def upgrade() -> list[str]:
    """Create and adjust tables in one transaction; say what changed."""
    changes = []
    with db.engine.begin() as conn:
        db.metadata.create_all(conn)
        changes += [f"added column {name}" for name in _add_missing_columns(conn)]
        if _wage_may_be_empty(conn):
            changes.append("contributions.wage may be empty")
        for model in (Claim, ClaimEvent):
            renamed = conn.execute(
                update(model).where(model.status == "paid").values(status="paid_out")
            ).rowcount
            if renamed:
                changes.append(f"{model.__tablename__}: {renamed} 'paid' now 'paid_out'")
    return changes
