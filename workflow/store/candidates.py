"""Tables of the candidates part: district lists, candidates and their supporters, the election
committee roster, proxies, mobile ballot boxes, tally records, district results and deputies.

Districts are referenced by (election_id, district code) strings, so that these tables do not
depend on the voter registry's District table. ID numbers are stored as a SHA-256 hash and a
masked form, never whole (DESIGN.md property 6).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.store.models import Base, UTCDateTime


class ListStatus(StrEnum):
    OPEN = "open"  # taking nominations
    PRELIMINARY = "preliminary"  # preliminary list published (EL 32, E − 15)
    OFFICIAL = "official"  # official list published (EL 32, E − 7)


class CandidateStatus(StrEnum):
    NOMINATED = "nominated"
    PRELIMINARY = "preliminary"
    OFFICIAL = "official"
    NOT_SELECTED = "not_selected"  # dropped by consultation or primary
    WITHDRAWN = "withdrawn"


class RoundPurpose(StrEnum):
    FIRST = "first"
    RUNOFF = "runoff"  # 另行选举 (EL 45): a round of the voting phase, not a new election
    TIE_BREAK = "tie_break"  # 就票数相等的候选人再次投票 (EL 45)
    REVOTE = "revote"  # a void round voted again (重新选举)


class ResultStatus(StrEnum):
    AWAITING = "awaiting"  # nothing counted yet
    REVOTE_PENDING = "revote_pending"
    RUNOFF_PENDING = "runoff_pending"
    TIE_BREAK_PENDING = "tie_break_pending"
    COMPLETE = "complete"  # every seat filled, or the rest left vacant after the runoff


class Qualification(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # EL 47: qualification confirmed
    INVALID = "invalid"  # EL 47: election of the deputy found invalid


class DistrictList(Base):
    """One district's candidate list in one election, with its seats."""

    __tablename__ = "district_lists"
    __table_args__ = (UniqueConstraint("election_id", "district"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    district: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ListStatus.OPEN)
    method: Mapped[str | None] = mapped_column(String(16))  # direct / consultation / primary
    preliminary_on: Mapped[date | None] = mapped_column(Date)
    official_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (Index("ix_candidates_election_district", "election_id", "district"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    district: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date | None] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    party: Mapped[str | None] = mapped_column(String(60))
    education: Mapped[str | None] = mapped_column(String(20))  # 文化程度 (0011_notice_settings)
    occupation: Mapped[str] = mapped_column(String(16))
    incumbent: Mapped[bool] = mapped_column(default=False)
    nominated_by: Mapped[str] = mapped_column(String(16))
    nominators: Mapped[list[Any]] = mapped_column(JSON, default=list)  # parties / organisations
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_masked: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default=CandidateStatus.NOMINATED)
    primary_votes: Mapped[int | None] = mapped_column(Integer)
    supporters_checked: Mapped[bool | None] = mapped_column()  # None: no voter register to check
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    supporters: Mapped[list[Supporter]] = relationship(
        back_populates="candidate", cascade="all, delete-orphan", order_by="Supporter.id"
    )


class Supporter(Base):
    """One voter of a joint nomination (EL 30), by hashed ID number."""

    __tablename__ = "candidate_supporters"
    __table_args__ = (
        UniqueConstraint("candidate_id", "id_hash"),
        Index("ix_candidate_supporters_lookup", "election_id", "district", "id_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    district: Mapped[str] = mapped_column(String(64))
    id_hash: Mapped[str] = mapped_column(String(64))
    id_masked: Mapped[str] = mapped_column(String(20))

    candidate: Mapped[Candidate] = relationship(back_populates="supporters")


class CommitteeMember(Base):
    """The election committee's roster, to find members who became candidates (EL 10)."""

    __tablename__ = "committee_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    id_hash: Mapped[str | None] = mapped_column(String(64))
    id_masked: Mapped[str | None] = mapped_column(String(20))
    birth_date: Mapped[date | None] = mapped_column(Date)
    appointed_on: Mapped[date | None] = mapped_column(Date)
    resigned_on: Mapped[date | None] = mapped_column(Date)


class Proxy(Base):
    """A written proxy (EL 42): one grantor, one holder, the committee's consent."""

    __tablename__ = "proxies"
    __table_args__ = (
        UniqueConstraint("election_id", "grantor_id_hash"),
        Index("ix_proxies_holder", "election_id", "holder_id_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    district: Mapped[str] = mapped_column(String(64))
    grantor_name: Mapped[str] = mapped_column(String(100))
    grantor_id_hash: Mapped[str] = mapped_column(String(64))
    grantor_id_masked: Mapped[str] = mapped_column(String(20))
    holder_name: Mapped[str] = mapped_column(String(100))
    holder_id_hash: Mapped[str] = mapped_column(String(64))
    holder_id_masked: Mapped[str] = mapped_column(String(20))
    consent_document: Mapped[str] = mapped_column(String(100))
    consent_on: Mapped[date | None] = mapped_column(Date)
    relationship_to_grantor: Mapped[str | None] = mapped_column(String(20))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MobileBox(Base):
    """A mobile ballot box (流动票箱, EL 38) and who attended it."""

    __tablename__ = "mobile_boxes"
    __table_args__ = (UniqueConstraint("election_id", "district", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    district: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(200))
    scrutineers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    staff: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The declared family ties of the box's people to candidates (EL 43 ¶2), as checked:
    # [{"person", "candidate", "relationship"}]; NULL on boxes recorded before they were kept.
    relatives: Mapped[list[Any] | None] = mapped_column(JSON, default=list)
    voters_served: Mapped[int | None] = mapped_column(Integer)
    ballots_issued: Mapped[int | None] = mapped_column(Integer)
    ballots_returned: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TallyRecord(Base):
    """One counted round of one district: the input as given and the result as counted."""

    __tablename__ = "tally_records"
    __table_args__ = (UniqueConstraint("election_id", "district", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    district: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(Integer)  # 1, 2, … in the order voted
    purpose: Mapped[str] = mapped_column(String(16))
    input: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DistrictResult(Base):
    __tablename__ = "district_results"
    __table_args__ = (UniqueConstraint("election_id", "district"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    district: Mapped[str] = mapped_column(String(64))
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=ResultStatus.AWAITING)
    elected_count: Mapped[int] = mapped_column(Integer, default=0)
    vacant: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the next vote the law requires
    published_on: Mapped[date | None] = mapped_column(Date)
    published_by: Mapped[str | None] = mapped_column(String(100))


class Deputy(Base):
    """An elected person (deputy or committee member), with qualification and certificate."""

    __tablename__ = "deputies"
    __table_args__ = (
        UniqueConstraint("election_id", "district", "name"),
        UniqueConstraint("certificate_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    district: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"))
    write_in: Mapped[bool] = mapped_column(default=False)  # 另选他人 (EL 41)
    votes: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    qualification: Mapped[str] = mapped_column(String(12), default=Qualification.PENDING)
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    review_note: Mapped[str | None] = mapped_column(Text)
    certificate_number: Mapped[str | None] = mapped_column(String(40))
    certificate_issued_on: Mapped[date | None] = mapped_column(Date)

    candidate: Mapped[Candidate | None] = relationship()
