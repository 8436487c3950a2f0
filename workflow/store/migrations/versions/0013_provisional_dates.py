"""elections: the years whose statutory holidays were not yet published when the plan was checked

Revision ID: 0013_provisional_dates
Revises: 0012_w216c
Create Date: 2026-11-30 08:20:00

- `elections.provisional_years`: years (JSON list of ints) in which the election's planned dates
  were provisional (checked against weekends only: no State Council holiday data installed).
  Once the data for a year is installed, the daily holiday recheck (schedules/holidays.py)
  checks those dates again, tells the committee once, and takes the year off the list.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_provisional_dates"
down_revision = "0012_w216c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("elections", sa.Column("provisional_years", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elections") as batch:
        batch.drop_column("provisional_years")
