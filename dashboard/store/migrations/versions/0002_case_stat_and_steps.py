"""case_stat and case_step: the counting projection the rankings read

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Existing cases are backfilled from case.doc (the full case state), so a database filled by an
earlier version ranks its history too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dashboard.casework.projection import case_columns, step_rows
from dashboard.store.casedoc import from_doc

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CHUNK = 2000


def _text(n: int) -> sa.String:
    return sa.String(length=n)


def upgrade() -> None:
    big_int = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    case_stat = op.create_table(
        "case_stat",
        sa.Column("case_id", _text(64), nullable=False),
        sa.Column("state", _text(24), nullable=False),
        sa.Column("source", _text(32)),
        sa.Column("category", _text(16)),
        sa.Column("class_code", _text(8)),
        sa.Column("small_code", _text(8)),
        sa.Column("condition", _text(64)),
        sa.Column("grid_code", _text(16)),
        sa.Column("district", _text(6)),
        sa.Column("street", _text(9)),
        sa.Column("community", _text(12)),
        sa.Column("department", _text(64)),
        sa.Column("urgent", sa.Integer(), nullable=False),
        sa.Column("reporter", _text(128)),
        sa.Column("reported_at", sa.Float(), nullable=False),
        sa.Column("filed_at", sa.Float()),
        sa.Column("filed_on_time", sa.Integer()),
        sa.Column("voided_at", sa.Float()),
        sa.Column("not_filed_at", sa.Float()),
        sa.Column("first_dispatched_at", sa.Float()),
        sa.Column("feedback_at", sa.Float()),
        sa.Column("closed_at", sa.Float()),
        sa.Column("self_disposed", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Float()),
        sa.Column("close_deadline", sa.Float()),
        sa.Column("suspended_since", sa.Float()),
        sa.Column("last_suspended_at", sa.Float()),
        sa.Column("stage", _text(16)),
        sa.Column("stage_deadline", sa.Float()),
        sa.Column("reworks", sa.Integer(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("suspensions", sa.Integer(), nullable=False),
        sa.Column("is_open", sa.Integer(), nullable=False),
        sa.Column("accept_at", sa.Float()),
        sa.Column("accept_settles", sa.Float()),
        sa.Column("accept_on_time", sa.Integer()),
        sa.Column("accept_actor", _text(128)),
        sa.Column("verify_at", sa.Float()),
        sa.Column("verify_settles", sa.Float()),
        sa.Column("verify_on_time", sa.Integer()),
        sa.Column("verify_actor", _text(128)),
        sa.Column("dispatch_at", sa.Float()),
        sa.Column("dispatch_settles", sa.Float()),
        sa.Column("dispatch_on_time", sa.Integer()),
        sa.Column("dispatch_actor", _text(128)),
        sa.Column("check_at", sa.Float()),
        sa.Column("check_settles", sa.Float()),
        sa.Column("check_on_time", sa.Integer()),
        sa.Column("check_actor", _text(128)),
        sa.Column("dispatch_returned", sa.Integer()),
        sa.Column("disposal_ok_at", sa.Float()),
        sa.Column("disposal_due_at", sa.Float()),
        sa.Column("close_ok_at", sa.Float()),
        sa.Column("close_due_at", sa.Float()),
        sa.Column("span_start", sa.Float(), nullable=False),
        sa.Column("span_end", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_stat")),
    )
    op.create_index("ix_case_stat_span", "case_stat", ["span_end", "span_start"])
    case_step = op.create_table(
        "case_step",
        sa.Column("id", big_int, autoincrement=True, nullable=False),
        sa.Column("case_id", _text(64), nullable=False),
        sa.Column("stage", _text(16), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("due", sa.Float()),
        sa.Column("settles_at", sa.Float(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("actor", _text(128)),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("department", _text(64)),
        sa.Column("district", _text(6)),
        sa.Column("street", _text(9)),
        sa.Column("community", _text(12)),
        sa.Column("grid_code", _text(16)),
        sa.Column("reporter", _text(128)),
        sa.Column("category", _text(16)),
        sa.Column("source", _text(32)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_step")),
    )
    op.create_index("ix_case_step_at", "case_step", ["at", "settles_at"])
    op.create_index(op.f("ix_case_step_case_id"), "case_step", ["case_id"])

    conn = op.get_bind()
    cases = sa.table("case", sa.column("case_id"), sa.column("doc", sa.JSON()))
    last = ""
    while True:
        rows = conn.execute(
            sa.select(cases.c.case_id, cases.c.doc).where(cases.c.case_id > last).order_by(cases.c.case_id).limit(_CHUNK)
        ).all()
        if not rows:
            break
        states = [from_doc(doc["state"]) for _cid, doc in rows]
        conn.execute(case_stat.insert(), [case_columns(state) for state in states])
        steps = [step for state in states for step in step_rows(state)]
        if steps:
            conn.execute(case_step.insert(), steps)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_table("case_step")
    op.drop_table("case_stat")
