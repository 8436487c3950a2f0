"""districts: the district's scope (选区范围)

Revision ID: 0008_district_area
Revises: 0007_reminders_statement_fk
Create Date: 2026-11-27 09:00:00

The 选区划分公告 prints each district's scope: the villages, communities or units it covers
(EL 25: districts are divided by residence area or by production and work units). Nothing
stored it, so the notice's 选区范围 column was always empty. Nullable: districts added before
this migration, and those whose scope is not known yet, keep an empty column.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_district_area"
down_revision = "0007_reminders_statement_fk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("districts", sa.Column("area", sa.Text(), nullable=True))


def downgrade() -> None:
    # SQLite cannot always drop a column in place: batch mode rebuilds the table there.
    with op.batch_alter_table("districts") as batch:
        batch.drop_column("area")
