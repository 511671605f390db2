"""per-client access token signing algorithm

Revision ID: 0012_access_token_alg
Revises: 0011_par_dpop
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_access_token_alg"
down_revision = "0011_par_dpop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the server-wide [tokens] access_token_alg.
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("access_token_alg", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("access_token_alg")
