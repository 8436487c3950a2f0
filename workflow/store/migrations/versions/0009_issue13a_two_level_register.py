"""districts: a township district's county district (县乡两级: one register, two districts);
tally_entries: each count keyed in twice (double entry); seat_decisions: the total of deputies
decided by the standing committee, with its document number and population base

Revision ID: 0009_issue13a
Revises: 0008_district_area
Create Date: 2026-11-30 07:00:00

In a 县乡两级 round a voter registers once and votes in two districts: a township-level district
(乡级人大) and a county-level district (县级人大). Township staff upload their township's register
into the township election; each township district names the county district it lies in, so the
same registration is also the voter's entry in the county election (EL 24, 25, 27). Nullable:
districts of a county election, of a lone election and those not linked yet have none.

`tally_entries` holds each keying of a count: one clerk enters it, a second checks it by entering
it again; a mismatch is shown and the count is recorded only once two entries by different people
agree.
"""

import sqlalchemy as sa
from alembic import op

import workflow.store.models

revision = "0009_issue13a"
down_revision = "0008_district_area"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("districts") as batch:
        batch.add_column(sa.Column("county_district_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_districts_county_district_id",
            "districts",
            ["county_district_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_districts_county_district_id", ["county_district_id"])
    op.create_table(
        "tally_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("entered_by", sa.String(length=100), nullable=False),
        sa.Column("entered_at", workflow.store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name="fk_tally_entries_election_id_elections", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tally_entries"),
    )
    op.create_index(
        "ix_tally_entries_election_district_round", "tally_entries", ["election_id", "district", "round"]
    )
    op.create_table(
        "seat_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=100), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", workflow.store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"], ["elections.id"], name="fk_seat_decisions_election_id_elections", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_seat_decisions"),
        sa.UniqueConstraint("election_id", name="uq_seat_decisions_election_id"),
    )


def downgrade() -> None:
    op.drop_table("seat_decisions")
    op.drop_index("ix_tally_entries_election_district_round", table_name="tally_entries")
    op.drop_table("tally_entries")
    with op.batch_alter_table("districts") as batch:
        batch.drop_index("ix_districts_county_district_id")
        batch.drop_constraint("fk_districts_county_district_id", type_="foreignkey")
        batch.drop_column("county_district_id")
