"""pushed authorization requests, DPoP binding, client security profiles

Revision ID: 0011_par_dpop
Revises: 0010_passkeys
"""

import sqlalchemy as sa
from alembic import op

import idp.db

revision = "0011_par_dpop"
down_revision = "0010_passkeys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pushed_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handle_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("created_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("consumed_at", idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.client_id"],
            name=op.f("fk_pushed_requests_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushed_requests")),
        sa.UniqueConstraint("handle_hash", name=op.f("uq_pushed_requests_handle_hash")),
    )
    op.create_index(
        op.f("ix_pushed_requests_client_id"), "pushed_requests", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_pushed_requests_expires_at"), "pushed_requests", ["expires_at"], unique=False
    )
    op.create_table(
        "spent_dpop_proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spent_dpop_proofs")),
        sa.UniqueConstraint("jti_hash", name=op.f("uq_spent_dpop_proofs_jti_hash")),
    )
    op.create_index(
        op.f("ix_spent_dpop_proofs_expires_at"), "spent_dpop_proofs", ["expires_at"], unique=False
    )
    with op.batch_alter_table("clients") as batch:
        batch.add_column(
            sa.Column(
                "require_pushed_authorization_requests",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch.add_column(
            sa.Column(
                "dpop_bound_access_tokens", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(sa.Column("profile", sa.String(length=16), nullable=True))
    with op.batch_alter_table("authorization_codes") as batch:
        batch.add_column(sa.Column("dpop_jkt", sa.String(length=64), nullable=True))
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("jkt", sa.String(length=64), nullable=True))
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("jkt", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("jkt")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("jkt")
    with op.batch_alter_table("authorization_codes") as batch:
        batch.drop_column("dpop_jkt")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("profile")
        batch.drop_column("dpop_bound_access_tokens")
        batch.drop_column("require_pushed_authorization_requests")
    op.drop_index(op.f("ix_spent_dpop_proofs_expires_at"), table_name="spent_dpop_proofs")
    op.drop_table("spent_dpop_proofs")
    op.drop_index(op.f("ix_pushed_requests_expires_at"), table_name="pushed_requests")
    op.drop_index(op.f("ix_pushed_requests_client_id"), table_name="pushed_requests")
    op.drop_table("pushed_requests")
