"""Logins for the service: users with a role scoped to a jurisdiction subtree, API tokens and
dashboard sessions. Secrets are stored only as hashes: passwords with Argon2 (slow on purpose),
tokens and session ids with SHA-256 (they are long random values, so a fast hash suffices)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.store.models import Base, Jurisdiction, UTCDateTime


class Role(StrEnum):
    COUNTY_ADMIN = "county_admin"  # 县选举委员会管理员: everything in its subtree
    TOWNSHIP_STAFF = "township_staff"  # 乡镇选举委员会工作人员: elections of its township
    REGISTRAR = "registrar"  # 选民登记员: voter registration; the only role that sees whole IDs
    OBSERVER = "observer"  # 观察员: read-only


ROLE_NAMES = {
    Role.COUNTY_ADMIN: "县选举委员会管理员",
    Role.TOWNSHIP_STAFF: "乡镇选举委员会工作人员",
    Role.REGISTRAR: "选民登记员",
    Role.OBSERVER: "观察员（只读）",
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None: token-only account
    role: Mapped[str] = mapped_column(String(20))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    jurisdiction: Mapped[Jurisdiction] = relationship()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings; the rest is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()
