"""Bodies of /api/v1/reminders and /api/v1/audit."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from service.api.schemas.common import Out


class Reminder(Out):
    id: int
    election_id: int
    milestone_key: str | None  # none for a phase reminder (phase_opens, advance_check)
    kind: str
    lead_days: int | None
    target_date: str | None
    fire_at: str | None
    status: str
    handled_at: str | None


class ReminderList(Out):
    items: list[Reminder]
    total: int
    limit: int
    offset: int


class AuditEntry(Out):
    id: int
    at: str | None
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    hash: str


class AuditList(Out):
    items: list[AuditEntry]
    total: int
    limit: int
    offset: int


class ChainReport(Out):
    ok: bool
    entries: int
    broken_at: int | None
    reason: str | None
    head_seq: int | None = Field(None, description="审计链头记载的记录数")
    head_hash: str | None = Field(None, description="审计链头：最新一条记录的哈希")
    key_id: str | None = Field(None, description="本服务器审计密钥的标识（不是密钥本身）")
