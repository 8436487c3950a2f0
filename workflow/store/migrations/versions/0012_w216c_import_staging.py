"""voter imports: a staging table, so an import never holds the database longer than one batch

Revision ID: 0012_w216c
Revises: 0011_notice_settings
Create Date: 2026-11-30 08:00:00

- `voter_import_staging`: the accepted rows of an import in progress (issue 16 item 3), written
  batch by batch in short transactions and moved into `voters` in one INSERT … SELECT.
"""

import sqlalchemy as sa
from alembic import op

import workflow.store.models

revision = "0012_w216c"
down_revision = "0011_notice_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voter_import_staging",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("staged_at", workflow.store.models.UTCDateTime(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("id_hash", sa.String(24), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("ethnicity", sa.String(40), nullable=True),
        sa.Column("voter_group", sa.String(100), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("hukou", sa.String(300), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("added_reason", sa.String(20), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=True),
    )
    op.create_index("ix_voter_import_staging_stage", "voter_import_staging", ["stage"])
    op.create_index("ix_voter_import_staging_staged_at", "voter_import_staging", ["staged_at"])


def downgrade() -> None:
    op.drop_index("ix_voter_import_staging_staged_at", table_name="voter_import_staging")
    op.drop_index("ix_voter_import_staging_stage", table_name="voter_import_staging")
    op.drop_table("voter_import_staging")
