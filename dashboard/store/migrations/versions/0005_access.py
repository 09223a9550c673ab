"""access: users, wall tokens and the audit log (docs/access.md)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONDoc = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
# The bounds of dashboard/limits.py as they were at this revision (a migration never changes).
ACCOUNT_NAME, ROLE, REMOTE_ADDRESS = 64, 32, 64


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=ACCOUNT_NAME), nullable=False),
        sa.Column("role", sa.String(length=ROLE), nullable=False),
        sa.Column("districts", JSONDoc, nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=True),
        sa.Column("sessions_after", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_login_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("name", name=op.f("uq_app_user_name")),
    )
    op.create_table(
        "access_token",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=ACCOUNT_NAME), nullable=False),
        sa.Column("role", sa.String(length=ROLE), nullable=False),
        sa.Column("districts", JSONDoc, nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.Column("last_address", sa.String(length=REMOTE_ADDRESS), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_access_token_digest")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("who", sa.String(length=ACCOUNT_NAME + 8), nullable=False),
        sa.Column("address", sa.String(length=REMOTE_ADDRESS), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", JSONDoc, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("access_token")
    op.drop_table("app_user")
