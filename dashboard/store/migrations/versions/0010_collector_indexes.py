"""case_stat indexes for the collectors' ranking, one per role, each holding every column that
role's query reads (dashboard/store/counters_sql.py collector_sql, evaluation.py
derived_grid_collectors), so SQLite and PostgreSQL read the index alone instead of the period's
rows (docs/performance.md, "Rankings over a million cases")

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The indexes as they were at this revision (a migration never changes): name -> columns.
INDEXES: dict[str, tuple[str, ...]] = {
    "ix_case_stat_intake": ("source", "reported_at", "reporter", "filed_at"),
    "ix_case_stat_verify": ("verify_settles", "verify_actor", "verify_on_time"),
    "ix_case_stat_check": ("check_settles", "check_actor", "check_on_time"),
    "ix_case_stat_filed": ("filed_at", "grid_code", "filed_on_time", "state", "source", "last_suspended_at"),
    "ix_case_stat_span_actors": ("span_end", "span_start", "grid_code", "verify_actor", "check_actor"),
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "case_stat", list(columns))


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="case_stat")
