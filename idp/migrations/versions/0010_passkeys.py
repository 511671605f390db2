"""passkeys (WebAuthn credentials) and spent WebAuthn challenges

Revision ID: 0010_passkeys
Revises: 0009_outbox
"""

import sqlalchemy as sa
from alembic import op

import idp.db

revision = "0010_passkeys"
down_revision = "0009_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passkeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_passkeys_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkeys_credential_id")),
    )
    op.create_index(op.f("ix_passkeys_member_id"), "passkeys", ["member_id"], unique=False)
    op.create_table(
        "spent_webauthn_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spent_webauthn_challenges")),
        sa.UniqueConstraint(
            "challenge_hash", name=op.f("uq_spent_webauthn_challenges_challenge_hash")
        ),
    )
    op.create_index(
        op.f("ix_spent_webauthn_challenges_expires_at"),
        "spent_webauthn_challenges",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_spent_webauthn_challenges_expires_at"), table_name="spent_webauthn_challenges"
    )
    op.drop_table("spent_webauthn_challenges")
    op.drop_index(op.f("ix_passkeys_member_id"), table_name="passkeys")
    op.drop_table("passkeys")
