"""render jobs: worker processes on PostgreSQL, big exports as jobs, retention (issue 15)

Revision ID: 0016_render_worker
Revises: 0015_plan_seats
Create Date: 2026-11-30 09:40:00

- `render_jobs.claimed_by`, `heartbeat_at`, `attempts`: the worker (process and claim) running a
  job, when it last said it is alive, and how many times the job was started; a job whose
  heartbeat is older than the stale timeout is queued again (or failed after the last attempt).
- `render_jobs.kind`: "notice" (a notice's PDF/Word 样稿) or "export" (a big XLSX/DOCX export,
  e.g. the 进度通报); `filename`: the download's name. An export belongs to no single election:
  `election_id` may be empty, and such a job is its requester's alone.
- `ix_render_jobs_finished_at`: the retention purge deletes finished jobs by age.
"""

import sqlalchemy as sa
from alembic import op

import workflow.store.models

revision = "0016_render_worker"
down_revision = "0015_plan_seats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("render_jobs") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="notice"))
        batch.add_column(sa.Column("filename", sa.String(300), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", workflow.store.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.alter_column("election_id", existing_type=sa.Integer(), nullable=True)
    op.create_index("ix_render_jobs_finished_at", "render_jobs", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_render_jobs_finished_at", "render_jobs")
    op.execute("DELETE FROM render_jobs WHERE election_id IS NULL")
    with op.batch_alter_table("render_jobs") as batch:
        batch.alter_column("election_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("attempts")
        batch.drop_column("heartbeat_at")
        batch.drop_column("claimed_by")
        batch.drop_column("filename")
        batch.drop_column("kind")
