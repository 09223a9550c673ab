"""supervision alarms in the alert table: which rule raised one, on what type of device of which
department (dashboard/casework/supervision.py, docs/supervision.md "Counting"); camera_id also
names the device an alarm is about, so it is as long as a device id

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The bounds of dashboard/limits.py as they were at this revision (a migration never changes).
CAMERA_ID_BEFORE, CAMERA_ID, RULE, ALARM_KEY, SUBTYPE, DEPARTMENT = 64, 128, 32, 64, 32, 64


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.alter_column("camera_id", type_=sa.String(length=CAMERA_ID), existing_type=sa.String(length=CAMERA_ID_BEFORE),
                           existing_nullable=False)
        batch.add_column(sa.Column("rule", sa.String(length=RULE), nullable=True))
        batch.add_column(sa.Column("alarm_key", sa.String(length=ALARM_KEY), nullable=True))
        batch.add_column(sa.Column("device_type", sa.String(length=SUBTYPE), nullable=True))
        batch.add_column(sa.Column("department", sa.String(length=DEPARTMENT), nullable=True))
    op.create_index("ix_alert_rule_start", "alert", ["rule", "start"])


def downgrade() -> None:
    op.drop_index("ix_alert_rule_start", table_name="alert")
    with op.batch_alter_table("alert") as batch:
        for name in ("department", "device_type", "alarm_key", "rule"):
            batch.drop_column(name)
        batch.alter_column("camera_id", type_=sa.String(length=CAMERA_ID_BEFORE), existing_type=sa.String(length=CAMERA_ID),
                           existing_nullable=False)
