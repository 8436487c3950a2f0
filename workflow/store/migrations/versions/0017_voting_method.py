"""elections: the residents' voting method (RCL 2025 art. 14; 2018 art. 8)

Revision ID: 0017_voting_method
Revises: 0016_render_worker
Create Date: 2026-11-30 09:45:00

- `elections.voting_method`: how the voters vote where the kind offers several ways (a key of
  the kind's `[counting.methods]`, e.g. `households`, `representatives`); NULL: all voters.
  Set at creation or later, changeable until voting starts; every counting path reads it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_voting_method"
down_revision = "0016_render_worker"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("elections", sa.Column("voting_method", sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("elections") as batch:
        batch.drop_column("voting_method")
