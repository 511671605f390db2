"""mail and SMS outbox

Revision ID: 0009_outbox
Revises: 0008_sealed_signing_keys
"""

import sqlalchemy as sa
from alembic import op

import idp.db

revision = "0009_outbox"
down_revision = "0008_sealed_signing_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(
        op.f("ix_outbox_messages_channel"), "outbox_messages", ["channel"], unique=False
    )
    op.create_index(
        op.f("ix_outbox_messages_next_attempt_at"),
        "outbox_messages",
        ["next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_messages_next_attempt_at"), table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_channel"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
