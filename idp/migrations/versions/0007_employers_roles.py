"""employers, employer administrators, employments, roles; identities without membership

Revision ID: 0007_employers_roles
Revises: 0006
Create Date: 2026-11-29 19:45:00
"""

import sqlalchemy as sa
from alembic import op

import idp.db

revision = "0007_employers_roles"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("registration_number", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employers")),
        sa.UniqueConstraint("registration_number", name=op.f("uq_employers_registration_number")),
    )
    op.create_table(
        "employer_admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employers.id"],
            name=op.f("fk_employer_admins_employer_id_employers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_employer_admins_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["members.id"],
            name=op.f("fk_employer_admins_invited_by_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employer_admins")),
        sa.UniqueConstraint(
            "employer_id", "member_id", name=op.f("uq_employer_admins_employer_id")
        ),
    )
    with op.batch_alter_table("employer_admins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_employer_admins_employer_id"), ["employer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_employer_admins_member_id"), ["member_id"], unique=False
        )
    op.create_table(
        "employments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("monthly_wage", sa.BigInteger(), nullable=False),
        sa.Column("programs", sa.JSON(), nullable=False),
        sa.Column("created_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employers.id"],
            name=op.f("fk_employments_employer_id_employers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_employments_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employments")),
    )
    with op.batch_alter_table("employments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_employments_employer_id"), ["employer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_employments_member_id"), ["member_id"], unique=False)
    op.create_table(
        "member_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=48), nullable=False),
        sa.Column("created_at", idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_roles_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_roles")),
        sa.UniqueConstraint("member_id", "role", name=op.f("uq_member_roles_member_id")),
    )
    with op.batch_alter_table("member_roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_roles_member_id"), ["member_id"], unique=False)
    # An employer administrator need not be a member: no membership number, NIK or birthdate.
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.alter_column("membership_number", existing_type=sa.String(32), nullable=True)
        batch_op.alter_column("nik_hash", existing_type=sa.String(64), nullable=True)
        batch_op.alter_column("nik_last4", existing_type=sa.String(4), nullable=True)
        batch_op.alter_column("birthdate", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM members WHERE membership_number IS NULL")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.alter_column("birthdate", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("nik_last4", existing_type=sa.String(4), nullable=False)
        batch_op.alter_column("nik_hash", existing_type=sa.String(64), nullable=False)
        batch_op.alter_column("membership_number", existing_type=sa.String(32), nullable=False)
    op.drop_table("member_roles")
    op.drop_table("employments")
    op.drop_table("employer_admins")
    op.drop_table("employers")
