"""law records: a village migrant's application date, a mobile box's declared ties

Revision ID: 0018_law_records
Revises: 0017_voting_method
Create Date: 2026-11-30 10:10:00

- `voters.applied_on`: the day a village election's migrant voter applied to take part (VCL
  2018 art. 13 ¶2 (三), 2025 art. 16 ¶2 (三)); before, it was kept only inside the consent text.
  NULL for every other registration.
- `mobile_boxes.relatives`: the declared family ties of a box's scrutineers and staff to
  candidates (EL 43 ¶2), as JSON; NULL on boxes recorded before they were kept.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_law_records"
down_revision = "0017_voting_method"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("voters", sa.Column("applied_on", sa.Date(), nullable=True))
    op.add_column("mobile_boxes", sa.Column("relatives", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mobile_boxes") as batch:
        batch.drop_column("relatives")
    with op.batch_alter_table("voters") as batch:
        batch.drop_column("applied_on")
