"""Schema changes go through Alembic: the migrations must build exactly the models' schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from idp.db import db


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models changed without a migration: {differences}"


def test_migrations_are_at_head(app):
    from alembic.script import ScriptDirectory

    from idp.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    with app.app_context(), db.engine.connect() as connection:
        current = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert current == head
