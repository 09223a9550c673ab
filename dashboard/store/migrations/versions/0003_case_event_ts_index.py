"""case_event.ts index: the board rebuilds the start of the day from the events since then

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_event_ts", "case_event", ["ts"])


def downgrade() -> None:
    op.drop_index("ix_case_event_ts", table_name="case_event")
