"""integration: merge the parts' heads (no schema change)

Revision ID: 0003_integration
Revises: 0002_candidates, 0002_notices, 0002_voters
Create Date: 2026-11-26 09:00:00
"""

revision = "0003_integration"
down_revision = ("0002_candidates", "0002_notices", "0002_voters")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
