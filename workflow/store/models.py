"""SQLAlchemy 2 models. Instants are stored in UTC; calendar dates as dates.

Other parts of the project add their tables in their own modules under `workflow/store/`,
on the same `Base`, and import them from `workflow/store/__init__.py` so that Alembic sees one
metadata.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class MilestoneStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    OVERDUE = "overdue"
    WAIVED = "waived"


SETTLED = (MilestoneStatus.DONE, MilestoneStatus.WAIVED)


class Jurisdiction(Base):
    """An administrative area with its election committee (province → county → township …)."""

    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    committee_name: Mapped[str | None] = mapped_column(String(200))
    # [{"name", "role", "email", "phone", "channels": {"email": …, "dingtalk": {…}, …}}]
    contacts: Mapped[list[Any]] = mapped_column(default=list)
    # Committee settings for notices (migration 0011_notice_settings): numbering per "year"
    # (京选公〔2026〕3号, the default) or per "round" (第3号, not restarting on 1 January); the
    # 届次 of the congress this round elects (第X届); a party branch's higher organisation, to
    # which its 请示 and 报告 are addressed.
    notice_numbering: Mapped[str | None] = mapped_column(String(10))
    congress_term: Mapped[int | None] = mapped_column(Integer)
    superior_org: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped[Jurisdiction | None] = relationship(remote_side=[id])


class Election(Base):
    __tablename__ = "elections"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    kind_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    anchor_date: Mapped[date] = mapped_column(Date)  # election day, or term end
    statute: Mapped[str | None] = mapped_column(String(10))
    # How the voters vote where the kind offers several ways (a key of its [counting.methods],
    # e.g. RCL 2025 art. 14: households, representatives); None: all voters.
    voting_method: Mapped[str | None] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(30), index=True)
    suspended_from: Mapped[str | None] = mapped_column(String(30))
    phase_windows: Mapped[dict[str, Any]] = mapped_column(default=dict)  # key → [start, end]
    phase_entered_on: Mapped[dict[str, Any]] = mapped_column(default=dict)  # key → ISO date
    parent_election_id: Mapped[int | None] = mapped_column(ForeignKey("elections.id"), index=True)
    blocked_reasons: Mapped[list[Any]] = mapped_column(default=list)
    # Years whose holidays were unpublished when the plan was checked (its dates provisional);
    # the holiday recheck (schedules/holidays.py) empties it once the data is installed.
    provisional_years: Mapped[list[Any] | None] = mapped_column(default=list)
    # A committee election's members to elect, from its plan (checked against the kind's
    # committee size): the seats of its candidate list. None where seats are per district.
    seats: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    jurisdiction: Mapped[Jurisdiction] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="election", cascade="all, delete-orphan", order_by="Milestone.id"
    )

    def milestone(self, key: str) -> Milestone:
        for milestone in self.milestones:
            if milestone.key == key:
                return milestone
        raise KeyError(key)


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("election_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    phase: Mapped[str] = mapped_column(String(30))
    planned_date: Mapped[date | None] = mapped_column(Date)
    earliest: Mapped[date | None] = mapped_column(Date)
    latest: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=MilestoneStatus.PENDING)
    done_on: Mapped[date | None] = mapped_column(Date)
    done_by: Mapped[str | None] = mapped_column(String(100))
    late: Mapped[bool] = mapped_column(default=False)
    waived_reason: Mapped[str | None] = mapped_column(Text)

    election: Mapped[Election] = relationship(back_populates="milestones")

    @property
    def settled(self) -> bool:
        return self.status in SETTLED


class AuditEntry(Base):
    """Append-only, hash-chained: each entry's hash covers its content and the previous hash."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key the entry's HMAC was made with (workflow/store/audit.py); None: an entry written
    # before the chain was keyed (plain SHA-256), accepted only before the first keyed entry.
    key_id: Mapped[str | None] = mapped_column(String(16))


class AuditHead(Base):
    """The audit chain's head: one row, moved with every append in the same transaction, with a
    MAC over (sequence number, newest hash), so deleting the newest entries is detected."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    seq: Mapped[int] = mapped_column(BigInteger)  # entries in the chain
    hash: Mapped[str] = mapped_column(String(64))  # the newest entry's hash (GENESIS when empty)
    key_id: Mapped[str | None] = mapped_column(String(16))
    mac: Mapped[str | None] = mapped_column(String(64))  # None only for a chain not yet keyed
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReminderStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"  # rewritten by a reschedule or made moot by completion
    SUPERSEDED = "superseded"  # coalesced into a more urgent message after downtime


class Reminder(Base):
    """A deadline's reminder as a row: the sweep claims due rows; no in-memory timers."""

    __tablename__ = "reminders"
    # The sweep's lookup, status = 'pending' AND fire_at <= now, over the pending rows only
    # (migration 0006 says why). Queries must spell the status as the literal PENDING_DUE
    # below: a bound parameter does not let SQLite prove the partial index applies.
    __table_args__ = (
        Index(
            "ix_reminders_due",
            "fire_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="CASCADE"), index=True)
    milestone_key: Mapped[str | None] = mapped_column(String(60))
    # lead (N days before) / due_today / overdue / plan_overdue / escalation / appeal_due …
    kind: Mapped[str] = mapped_column(String(30))
    lead_days: Mapped[int | None] = mapped_column(Integer)
    target_date: Mapped[date | None] = mapped_column(Date)  # the date counted down to
    fire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=ReminderStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


def reminder_status_is(status: str):
    """`Reminder.status == status`, with 'pending' spelled as a literal: a bound parameter does
    not let SQLite prove that the partial index ix_reminders_due applies."""
    if status == ReminderStatus.PENDING:
        return Reminder.status == literal_column("'pending'")
    return Reminder.status == status


def pending_due(now: datetime):
    """The sweep's predicate: pending reminders whose time has come (ix_reminders_due)."""
    return and_(reminder_status_is(ReminderStatus.PENDING), Reminder.fire_at <= now)


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # parked after the last retry, with the error visible


class Notification(Base):
    """The outbox: written in the sweep's transaction, sent later by the delivery worker."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    election_id: Mapped[int | None] = mapped_column(
        ForeignKey("elections.id", ondelete="CASCADE"), index=True
    )
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    channel: Mapped[str] = mapped_column(String(20))  # log / email / dingtalk / wecom / webhook
    recipient: Mapped[dict[str, Any]] = mapped_column(default=dict)  # address, URL, secret ref …
    category: Mapped[str] = mapped_column(String(30))  # warning / overdue / escalation / blocked / digest
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
