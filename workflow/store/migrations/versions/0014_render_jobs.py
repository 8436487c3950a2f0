"""render jobs: PDF/Word renders off the request path (issue 15)

Revision ID: 0014_render_jobs
Revises: 0013_provisional_dates
Create Date: 2026-11-30 08:10:00

- `render_jobs`: one row per requested file: the notice's data snapshot (JSON), its status
  (queued, running, done, failed), and when done the file with its size and SHA-256.
"""

import sqlalchemy as sa
from alembic import op

import workflow.store.models

revision = "0014_render_jobs"
down_revision = "0013_provisional_dates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "render_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "election_id",
            sa.Integer(),
            sa.ForeignKey("elections.id", ondelete="CASCADE", name="fk_render_jobs_election_id_elections"),
            nullable=False,
        ),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("district", sa.String(32), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("created_at", workflow.store.models.UTCDateTime(), nullable=False),
        sa.Column("started_at", workflow.store.models.UTCDateTime(), nullable=True),
        sa.Column("finished_at", workflow.store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_render_jobs"),
    )
    op.create_index("ix_render_jobs_election_id", "render_jobs", ["election_id"])
    op.create_index("ix_render_jobs_status", "render_jobs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_render_jobs_status", "render_jobs")
    op.drop_index("ix_render_jobs_election_id", "render_jobs")
    op.drop_table("render_jobs")
