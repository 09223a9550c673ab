"""case_stat (grid_code, reported_at) index: the desk's case page lists the grid's cases of the
last 90 days; without it that read scans the table (114 ms at a million cases on SQLite, 130 ms
on PostgreSQL; 2.4 and 4.0 ms with it: bench/bench_case_page.py, docs/performance.md)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_stat_grid_reported", "case_stat", ["grid_code", "reported_at"])


def downgrade() -> None:
    op.drop_index("ix_case_stat_grid_reported", table_name="case_stat")
