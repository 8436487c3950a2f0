"""audit: keyed chain (entry key id) and the chain head

Revision ID: 0009_i16b
Revises: 0008_district_area
Create Date: 2026-11-30 07:00:00

The audit chain was a plain SHA-256 chain: anyone able to write the table could delete its
newest entries or rewrite an entry and recompute every later hash, and `audit verify` passed.
Entries are now HMAC-SHA256 with a server secret (`audit_log.key_id` names the key), and one
`audit_head` row carries the chain's length and newest hash under the same key, moved with every
append. Existing entries stay as they are (key_id NULL, verified as plain SHA-256 before the
first keyed entry); the head is set here over them and keyed by the first append.
"""

import sqlalchemy as sa
from alembic import op

import workflow.store.models

revision = "0009_i16b"
down_revision = "0008_district_area"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("key_id", sa.String(length=16), nullable=True))
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=True),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.Column("at", workflow.store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    connection = op.get_bind()
    count = connection.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    if count:
        last = connection.execute(sa.text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")).scalar_one()
        op.bulk_insert(head, [{"id": 1, "seq": count, "hash": last, "key_id": None, "mac": None, "at": None}])


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
