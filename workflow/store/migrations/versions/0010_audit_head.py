"""audit: keyed chain (entry key id) and the chain head; voter imports: rejected-rows files

Revision ID: 0010_audit_head
Revises: 0009_issue13a
Create Date: 2026-11-30 07:00:00

The audit chain was a plain SHA-256 chain: anyone able to write the table could delete its
newest entries or rewrite an entry and recompute every later hash, and `audit verify` passed.
Entries are now HMAC-SHA256 with a server secret (`audit_log.key_id` names the key), and one
`audit_head` row carries the chain's length and newest hash under the same key, moved with every
append. Existing entries stay as they are (key_id NULL, verified as plain SHA-256 before the
first keyed entry); the head is set here over them and keyed by the first append.

`voter_import_rejects` keeps an upload's rejected rows as an XLSX file (original row plus a 原因
column) for the uploader to download, fix and send again (issue 13 item 3, issue 16 item 3).
"""

import sqlalchemy as sa
from alembic import op

import workflow.store.models

revision = "0010_audit_head"
down_revision = "0009_issue13a"
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    connection = op.get_bind()
    count = connection.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
    if count:
        last = connection.execute(sa.text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")).scalar_one()
        op.bulk_insert(head, [{"id": 1, "seq": count, "hash": last, "key_id": None, "mac": None, "at": None}])

    op.create_table(
        "voter_import_rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_at", workflow.store.models.UTCDateTime(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_voter_import_rejects_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voter_import_rejects")),
        sa.UniqueConstraint("token", name=op.f("uq_voter_import_rejects_token")),
    )
    op.create_index(
        op.f("ix_voter_import_rejects_election_id"), "voter_import_rejects", ["election_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_voter_import_rejects_election_id"), table_name="voter_import_rejects")
    op.drop_table("voter_import_rejects")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
