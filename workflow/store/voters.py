"""Districts, the voter register, published list versions, the supplementary list, appeals and
the deprived-of-rights list.

Identity numbers are stored in full (for matching) with a hash (`id_hash`) that carries the
unique index; every view masks them except a registrar's, which is audited.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.store.models import Base, UTCDateTime


class District(Base):
    """An electoral district (选区). Seats and population may be unknown until allocation."""

    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("election_id", "code", name="uq_districts_election_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    seats: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    area: Mapped[str | None] = mapped_column(Text)  # 选区范围: the villages, communities or units covered
    # 县乡两级 (EL 24, 25): a township district's county-level district; its voters are also that
    # district's voters in the county election (one registration, workflow/commands/register_levels.py).
    county_district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL", name="fk_districts_county_district_id"), index=True
    )


class VoterStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


class AddedReason(StrEnum):
    REGISTERED = "registered"  # carried over / registered from the committee's spreadsheet
    NEWLY_18 = "newly_18"
    MOVED_IN = "moved_in"
    MIGRANT = "migrant"  # lived here ≥ 1 year, with proof from the home district (provincial rule)
    RESTORED = "restored"  # political rights restored (EL 27)
    APPEAL = "appeal"  # added by an upheld appeal (EL 29)
    LATE = "late"  # unreachable during registration, registered late on request (a supplementary
    # registration; a province may close it before election day: the kind's registration cutoff)


class RemovedReason(StrEnum):
    DECEASED = "deceased"
    DEPRIVED = "deprived"
    MOVED_OUT = "moved_out"
    APPEAL = "appeal"


class VoterImport(Base):
    __tablename__ = "voter_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))


class RejectedRowsFile(Base):
    """An upload's rejected rows as XLSX (the original row and a 原因 column), for the uploader
    to download, fix and send again; kept whether or not the import was committed."""

    __tablename__ = "voter_import_rejects"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # unguessable: the download's name
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(100))  # only the uploader may download it
    file_name: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Voter(Base):
    """One registration. Removal keeps the row (status, reason, date): nothing is deleted."""

    __tablename__ = "voters"
    __table_args__ = (
        # 不重登: one registration per person per election.
        UniqueConstraint("election_id", "id_hash", name="uq_voters_election_id_hash"),
        Index("ix_voters_district_status", "district_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    id_number: Mapped[str] = mapped_column(String(18))
    id_hash: Mapped[str] = mapped_column(String(24))
    birth_date: Mapped[date] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(40))
    voter_group: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    hukou: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=VoterStatus.ACTIVE)
    added_reason: Mapped[str] = mapped_column(String(20), default=AddedReason.REGISTERED)
    proof: Mapped[str | None] = mapped_column(Text)
    # A village election's migrant voter: the day the person applied to take part (VCL 2018
    # art. 13 ¶2 (三), 2025 art. 16 ¶2 (三)); the meeting's consent follows it.
    applied_on: Mapped[date | None] = mapped_column(Date)
    removed_reason: Mapped[str | None] = mapped_column(String(20))
    removed_on: Mapped[date | None] = mapped_column(Date)
    removed_note: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("voter_imports.id"), index=True)
    source_row: Mapped[int | None] = mapped_column(Integer)


class DeprivedPerson(Base):
    """Someone deprived of political rights (EL 4): never on the list while deprived."""

    __tablename__ = "deprived_persons"
    __table_args__ = (UniqueConstraint("election_id", "id_hash", name="uq_deprived_election_id_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    id_number: Mapped[str] = mapped_column(String(18))
    id_hash: Mapped[str] = mapped_column(String(24))
    name: Mapped[str | None] = mapped_column(String(100))
    until: Mapped[date | None] = mapped_column(Date)  # rights restored the day after; None: unknown
    reason: Mapped[str | None] = mapped_column(Text)


class VoterListVersion(Base):
    """A published, frozen version of one district's list (version 1 = the list of EL 28;
    later versions = supplementary lists published)."""

    __tablename__ = "voter_list_versions"
    __table_args__ = (
        UniqueConstraint("district_id", "version", name="uq_voter_list_versions_district_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    version: Mapped[int] = mapped_column(Integer)
    published_on: Mapped[date] = mapped_column(Date)
    voters: Mapped[int] = mapped_column(Integer)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VoterListEntry(Base):
    """A voter as frozen in a version, with the list number (序号) also used on the 选民证."""

    __tablename__ = "voter_list_entries"
    __table_args__ = (Index("ix_voter_list_entries_voter", "voter_id"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("voter_list_versions.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("voters.id"))


class SupplementaryChange(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    CORRECT = "correct"


class SupplementaryEntry(Base):
    """A change after publication (补正名单); `version_id` is set once a supplementary list
    carrying it is published."""

    __tablename__ = "supplementary_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("voters.id"))
    change: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(20))
    details: Mapped[str | None] = mapped_column(Text)
    on: Mapped[date] = mapped_column(Date)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("voter_list_versions.id"))


class AppealStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"


class Appeal(Base):
    """An objection to the published list (申诉, EL 29)."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    filer: Mapped[str] = mapped_column(String(100))
    request: Mapped[str] = mapped_column(String(10))  # add / remove / correct
    subject_name: Mapped[str] = mapped_column(String(100))
    subject_id_number: Mapped[str | None] = mapped_column(String(18))
    subject_voter_id: Mapped[int | None] = mapped_column(ForeignKey("voters.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    correction: Mapped[str | None] = mapped_column(Text)  # JSON of field → new value
    reason: Mapped[str] = mapped_column(Text)
    filed_on: Mapped[date] = mapped_column(Date)
    decide_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=AppealStatus.PENDING)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    late: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StagedVoter(Base):
    """An accepted row of an import in progress (issue 16): the rows are parsed and checked with
    no lock held and staged here batch by batch, each batch its own short transaction; the import
    then moves them into `voters` in one `INSERT … SELECT` and deletes them. Rows of an import
    that failed or was abandoned are deleted on its way out, or after STAGE_KEPT_HOURS by the
    next import. Never read by anything but the import that wrote them (its `stage` key)."""

    __tablename__ = "voter_import_staging"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), index=True)
    staged_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    election_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    id_number: Mapped[str] = mapped_column(String(18))
    id_hash: Mapped[str] = mapped_column(String(24))
    birth_date: Mapped[date] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(40))
    voter_group: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    hukou: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    added_reason: Mapped[str] = mapped_column(String(20))
    source_row: Mapped[int | None] = mapped_column(Integer)
