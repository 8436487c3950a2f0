"""reminders: a partial index of the pending rows by fire_at

Revision ID: 0006_reminders_due
Revises: 0005_service
Create Date: 2026-11-26 12:05:00

The sweep only ever looks for pending rows whose time has come. A partial index on fire_at
over the pending rows serves exactly that lookup (status = 'pending' AND fire_at <= now),
costs about half as much per inserted reminder as the two-column (status, fire_at) index it
replaces (one column to compare, measured with bench/sweep.py), and holds only what is still
to fire, so it no longer grows with the election's history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reminders_due"
down_revision = "0005_service"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_reminders_status_fire_at", table_name="reminders")
    op.create_index(
        "ix_reminders_due", "reminders", ["fire_at"], sqlite_where=PENDING, postgresql_where=PENDING
    )


def downgrade() -> None:
    op.drop_index("ix_reminders_due", table_name="reminders")
    op.create_index("ix_reminders_status_fire_at", "reminders", ["status", "fire_at"])
