"""durability: dead letters, parked case events and feed counters in SQL; case event digests

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONDoc = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("case_event") as batch:
        batch.add_column(sa.Column("digest", sa.String(length=32), nullable=True))
    op.create_table(
        "dead_letter",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("feed", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("replayed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
    )
    op.create_index("ix_dead_letter_feed_reason", "dead_letter", ["feed", "reason"])
    op.create_table(
        "case_parked",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("event", JSONDoc, nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("parked_at", sa.Float(), nullable=False),
        sa.Column("retry_at", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_case_parked")),
    )
    op.create_index(op.f("ix_case_parked_case_id"), "case_parked", ["case_id"])
    op.create_index(op.f("ix_case_parked_retry_at"), "case_parked", ["retry_at"])
    op.create_table(
        "feed_counter",
        sa.Column("feed", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("feed", "name", name=op.f("pk_feed_counter")),
    )


def downgrade() -> None:
    op.drop_table("feed_counter")
    op.drop_index(op.f("ix_case_parked_retry_at"), table_name="case_parked")
    op.drop_index(op.f("ix_case_parked_case_id"), table_name="case_parked")
    op.drop_table("case_parked")
    op.drop_index("ix_dead_letter_feed_reason", table_name="dead_letter")
    op.drop_table("dead_letter")
    with op.batch_alter_table("case_event") as batch:
        batch.drop_column("digest")
