"""private signing keys sealed in the database

Revision ID: 0008_sealed_signing_keys
Revises: 0007_employers_roles
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_sealed_signing_keys"
down_revision = "0007_employers_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("private_jwk", sa.Text(), nullable=True))
        batch.add_column(sa.Column("kek_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("kek_id")
        batch.drop_column("private_jwk")
