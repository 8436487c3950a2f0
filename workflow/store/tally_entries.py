"""Tally entries (计票录入): each count is keyed in by one clerk and checked by a second, as
election commissions' tally centres do; the count is recorded (`tally_records`) only once two
entries by different people agree (workflow/commands/tally_entry.py). And the seat decision:
the total of deputies recorded with its document (workflow/commands/seat_allocation.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.store.models import Base, UTCDateTime


class TallyEntry(Base):
    __tablename__ = "tally_entries"
    __table_args__ = (Index("ix_tally_entries_election_district_round", "election_id", "district", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    district: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(Integer)  # the round this entry is for (tally_records.round)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the TALLY.json document as keyed in
    status: Mapped[str] = mapped_column(String(16))  # awaiting_check / mismatch / accepted
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SeatDecision(Base):
    """The total number of deputies as decided by the standing committee (EL 12, 15), with its
    document number and the population it was computed from; one per election, the latest wins."""

    __tablename__ = "seat_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), unique=True)
    total: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(String(100))  # 文号, e.g. 京人常〔2026〕12号
    population: Mapped[int] = mapped_column(Integer)  # the population base (人口基数)
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
