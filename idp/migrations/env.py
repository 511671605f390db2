"""Alembic environment: the schema is the models' metadata; the URL comes from `idp init`."""

from alembic import context
from sqlalchemy import create_engine

from idp import models  # noqa: F401  (registers every table)
from idp.db import db


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
try:
    with engine.connect() as conn:
        _migrate(conn)
finally:
    engine.dispose()
