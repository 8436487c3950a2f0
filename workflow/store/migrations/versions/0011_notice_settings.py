"""notices: committee settings (numbering, 届次, higher organisation) and committee wordings

Revision ID: 0011_notice_settings
Revises: 0010_audit_head
Create Date: 2026-11-30 07:00:00

- `jurisdictions.notice_numbering`: "year" (京选公〔2026〕3号, the default when NULL) or "round"
  (第3号: the number runs through the whole round and does not restart on 1 January).
- `jurisdictions.congress_term`: the 届次 of the congress this round elects (第X届).
- `jurisdictions.superior_org`: a party branch's higher organisation (its 请示 go there).
- `candidates.education`: the candidate's 文化程度, printed in the official candidates notice.
- `notice_wordings`: a committee's own wording of a template's lead paragraphs, one row per
  version.
"""

import sqlalchemy as sa
from alembic import op

import workflow.store.models

revision = "0011_notice_settings"
down_revision = "0010_audit_head"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jurisdictions", sa.Column("notice_numbering", sa.String(10), nullable=True))
    op.add_column("jurisdictions", sa.Column("congress_term", sa.Integer(), nullable=True))
    op.add_column("jurisdictions", sa.Column("superior_org", sa.String(200), nullable=True))
    op.add_column("candidates", sa.Column("education", sa.String(20), nullable=True))
    op.create_table(
        "notice_wordings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("jurisdiction_id", sa.Integer(), sa.ForeignKey("jurisdictions.id"), nullable=False),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("paragraphs", sa.JSON(), nullable=False),
        sa.Column("created_at", workflow.store.models.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("jurisdiction_id", "template", "version", name="uq_notice_wordings_version"),
    )
    op.create_index("ix_notice_wordings_jurisdiction_id", "notice_wordings", ["jurisdiction_id"])


def downgrade() -> None:
    op.drop_index("ix_notice_wordings_jurisdiction_id", "notice_wordings")
    op.drop_table("notice_wordings")
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("education")
    with op.batch_alter_table("jurisdictions") as batch:
        batch.drop_column("superior_org")
        batch.drop_column("congress_term")
        batch.drop_column("notice_numbering")
