"""alert handling: who acknowledged, dismissed or turned an alert into a case on the desk, why and
when (dashboard/store/alert_handling.py, docs/desk.md "Alerts")

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The bounds of dashboard/limits.py as they were at this revision (a migration never changes).
ACCOUNT_NAME, CASE_ID = 64, 64


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("handled_action", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("handled_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("handled_by", sa.String(length=ACCOUNT_NAME + 8), nullable=True))
        batch.add_column(sa.Column("handled_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("handled_case", sa.String(length=CASE_ID), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        for name in ("handled_case", "handled_at", "handled_by", "handled_reason", "handled_action"):
            batch.drop_column(name)
