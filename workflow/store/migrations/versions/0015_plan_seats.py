"""elections: a committee election's seats, from its plan

Revision ID: 0015_plan_seats
Revises: 0014_render_jobs
Create Date: 2026-11-30 09:40:00

- `elections.seats`: the members a committee election elects (the plan's `seats`, checked
  against the kind's committee size when the plan is read); opening its candidate list without
  seats takes them, and a list opened with other seats is refused. NULL where seats are per
  district (people's congresses) or no plan gave them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_plan_seats"
down_revision = "0014_render_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("elections", sa.Column("seats", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elections") as batch:
        batch.drop_column("seats")
