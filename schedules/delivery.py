"""The outbox worker: sends `notifications` rows through their channels (schedules/channels.py).

Delivery is at-least-once, deduplicable by the idempotency key:

1. **Claim** (one short transaction): due pending rows, `FOR UPDATE SKIP LOCKED` on PostgreSQL
   (SQLite has one writer: `BEGIN IMMEDIATE`). Each claimed row gets `attempts += 1` and a lease:
   `next_attempt_at = now + lease`. The row stays `pending`, so a worker that dies keeps nothing:
   once the lease runs out another worker claims it again.
2. **Send** outside any transaction (no row lock is held across the network).
3. **Mark** (one short transaction per row): `sent`, or back to pending with an exponential
   back-off, or `failed` after the last attempt, with `last_error`. The update is fenced by the
   attempt number taken at the claim (`WHERE attempts = :claimed`), so a worker whose lease was
   taken over cannot overwrite the newer claim's result.

A `kill -9` between 2 and 3 makes the row be sent again after the lease: the receiver sees the
same idempotency key twice (header / Message-ID / JSON body) and drops the second. Marking sent
*before* sending would instead lose the message on a crash; a notice of a statutory deadline
must not be lost, so we choose the duplicate and make it recognisable.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from schedules.channels import CHANNELS, Message, PermanentError, Sender, masked_recipient
from workflow.clock import Clock
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import NotificationFailed, NotificationRequeued
from workflow.store import Database
from workflow.store.audit import record
from workflow.store.models import Jurisdiction, Notification, NotificationStatus

logger = logging.getLogger("huanjie.delivery")
ACTOR = "delivery"
ERROR_LIMIT = 2000


@dataclass
class DeliveryReport:
    """What one pass did. `handled` counts rows that reached a result (sent / retry / failed)."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # claimed but not attempted: the lease ran short; back in the queue
    lost: int = 0  # result not written: another worker took the row over after our lease expired
    sent_ids: list[int] = field(default_factory=list)
    failed_ids: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, other: DeliveryReport) -> None:
        for name in ("claimed", "sent", "retrying", "failed", "released", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.sent_ids += other.sent_ids
        self.failed_ids += other.failed_ids

    def as_dict(self) -> dict[str, Any]:
        return {
            "handled": self.handled,
            "claimed": self.claimed,
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "released": self.released,
            "lost": self.lost,
            "sent_ids": self.sent_ids,
            "failed_ids": self.failed_ids,
        }


@dataclass(frozen=True)
class _Claim:
    id: int
    attempt: int  # the fencing token: attempts after our claim
    lease_until: datetime
    message: Message


def backoff(attempt: int, settings: Settings) -> timedelta:
    """Wait after the `attempt`-th failure: base · factor^(attempt-1), capped."""
    seconds = settings.delivery_backoff_base_seconds * settings.delivery_backoff_factor ** (attempt - 1)
    return timedelta(seconds=min(seconds, settings.delivery_backoff_max_seconds))


# -- fan-out: committee contacts → outbox rows ---------------------------------------------------
def _address(channel: str, recipient: dict[str, Any]) -> str:
    for name in ("email", "webhook", "url", "key"):
        if channel != "log" and recipient.get(name):
            return str(recipient[name])
    return str(recipient.get("name") or "")


def contact_channels(jurisdiction: Jurisdiction) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(contact index, channel, recipient) for every channel of every committee contact.

    A contact is {name, role, email, channels: {"log": true, "email": true | "addr",
    "dingtalk": {"webhook", "secret"}, "wecom": {"webhook"} | {"key"}, "webhook": {"url", "secret"}}};
    the recipient is what the channel reads (schedules/channels.py). Unknown channels are kept:
    the worker parks them as failed with the reason visible. The one fan-out rule, shared by
    `enqueue` here and the scheduler's outbox (schedules/notify.py).
    """
    for index, contact in enumerate(jurisdiction.contacts or []):
        base = {"name": contact.get("name"), "role": contact.get("role")}
        for channel, spec in (contact.get("channels") or {}).items():
            if spec is None or spec is False:
                continue
            if channel == "email":
                address = contact.get("email") if spec is True else spec
                yield index, channel, {**base, "email": address}
            elif isinstance(spec, dict):
                yield index, channel, {**base, **spec}
            else:
                yield index, channel, base


def recipients(jurisdiction: Jurisdiction) -> list[tuple[str, dict[str, Any]]]:
    """(channel, recipient) pairs from the committee's contacts. A committee without any
    channel still gets a log entry, so no notice vanishes silently."""
    found = [(channel, recipient) for _, channel, recipient in contact_channels(jurisdiction)]
    if not found:
        found.append(("log", {"name": jurisdiction.committee_name or jurisdiction.name, "role": "committee"}))
    return found


def enqueue(
    session: Session,
    *,
    key: str,
    jurisdiction: Jurisdiction,
    category: str,
    subject: str,
    body: str,
    clock: Clock,
    election_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> list[Notification]:
    """Write one outbox row per (contact, channel) in the caller's transaction.

    Each row's idempotency key is `key|channel|<hash of the address>`: stable, so enqueueing the
    same event twice adds nothing (rows already present are skipped).
    """
    now = clock.now()
    rows: list[Notification] = []
    for channel, recipient in recipients(jurisdiction):
        address = hashlib.sha256(_address(channel, recipient).encode()).hexdigest()[:12]
        rows.append(
            Notification(
                idempotency_key=f"{key}|{channel}|{address}",
                election_id=election_id,
                jurisdiction_id=jurisdiction.id,
                channel=channel,
                recipient=recipient,
                category=category,
                subject=subject,
                body=body,
                payload=payload or {},
                status=NotificationStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    keys = [row.idempotency_key for row in rows]
    existing = set(
        session.scalars(select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys)))
    )
    fresh = [row for row in rows if row.idempotency_key not in existing]
    session.add_all(fresh)
    session.flush()
    return fresh


# -- the worker -----------------------------------------------------------------------------------
def _park(session: Session, row: Notification, error: str, clock: Clock) -> None:
    row.status = NotificationStatus.FAILED
    row.last_error = error[:ERROR_LIMIT]
    record(
        session,
        NotificationFailed(
            entity_id=str(row.id),
            after={
                "key": row.idempotency_key,
                "channel": row.channel,
                "attempts": row.attempts,
                "error": error,
            },
        ),
        actor=ACTOR,
        clock=clock,
    )
    logger.warning("notification %s parked as failed after %s attempts: %s", row.id, row.attempts, error)


def _claim(
    db: Database, clock: Clock, batch: int, settings: Settings, report: DeliveryReport
) -> list[_Claim]:
    with db.transaction() as session:
        now = clock.now()
        lease_until = now + timedelta(seconds=settings.delivery_lease_seconds)
        due = (
            select(Notification)
            .where(Notification.status == NotificationStatus.PENDING, Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(batch)
            .with_for_update(skip_locked=True)  # PostgreSQL: workers share the queue; SQLite ignores it
        )
        claims: list[_Claim] = []
        for row in session.scalars(due):
            if row.attempts >= settings.delivery_max_attempts:
                # Every attempt's lease ran out without a result (a worker died each time: a
                # message that crashes the sender, say). Stop trying.
                _park(session, row, f"no result after {row.attempts} attempts (lease expired)", clock)
                report.failed += 1
                report.failed_ids.append(row.id)
                continue
            row.attempts += 1
            row.next_attempt_at = lease_until
            claims.append(
                _Claim(
                    id=row.id,
                    attempt=row.attempts,
                    lease_until=lease_until,
                    message=Message(
                        key=row.idempotency_key,
                        channel=row.channel,
                        recipient=dict(row.recipient or {}),
                        category=row.category,
                        subject=row.subject,
                        body=row.body,
                        payload=dict(row.payload or {}),
                        election_id=row.election_id,
                        jurisdiction_id=row.jurisdiction_id,
                        created_at=row.created_at,
                    ),
                )
            )
        report.claimed += len(claims)
        return claims


def _fenced(claim: _Claim):
    return (
        Notification.id == claim.id,
        Notification.attempts == claim.attempt,
        Notification.status == NotificationStatus.PENDING,
    )


def _release(db: Database, claim: _Claim, clock: Clock) -> bool:
    with db.transaction() as session:
        result = session.execute(
            update(Notification)
            .where(*_fenced(claim))
            .values(attempts=Notification.attempts - 1, next_attempt_at=clock.now())
        )
        return result.rowcount == 1


def _mark(
    db: Database,
    claim: _Claim,
    error: Exception | None,
    clock: Clock,
    settings: Settings,
    report: DeliveryReport,
) -> None:
    """Write one attempt's result, fenced by the claim's attempt number (see the module docstring)."""
    now = clock.now()
    text = "" if error is None else f"attempt {claim.attempt}: {type(error).__name__}: {error}"
    park = error is not None and (
        isinstance(error, PermanentError) or claim.attempt >= settings.delivery_max_attempts
    )
    with db.transaction() as session:
        if park:
            row = session.scalars(select(Notification).where(*_fenced(claim)).with_for_update()).one_or_none()
            if row is not None:
                _park(session, row, text, clock)
                report.failed += 1
                report.failed_ids.append(claim.id)
                return
        else:
            # One fenced UPDATE: the common paths cost a single statement.
            if error is None:
                values = {
                    "status": NotificationStatus.SENT,
                    "sent_at": now,
                    "next_attempt_at": now,
                    "last_error": None,
                }
            else:
                values = {
                    "last_error": text[:ERROR_LIMIT],
                    "next_attempt_at": now + backoff(claim.attempt, settings),
                }
            if session.execute(update(Notification).where(*_fenced(claim)).values(**values)).rowcount == 1:
                if error is None:
                    report.sent += 1
                    report.sent_ids.append(claim.id)
                else:
                    report.retrying += 1
                return
    report.lost += 1
    logger.warning("notification %s: lease lost before its result was written", claim.id)


class LeaseTooShort(DomainError):
    """The lease cannot cover one send: every claim would be released unsent, forever."""


def check_lease(settings: Settings) -> None:
    """Refuse a lease no longer than the longest send may take (the HTTP or SMTP timeout): with
    it every claimed row would be released before sending, and nothing would ever go out."""
    longest = max(settings.delivery_http_timeout_seconds, settings.smtp_timeout_seconds)
    if settings.delivery_lease_seconds <= longest:
        message = (
            f"投递租期（HUANJIE_DELIVERY_LEASE_SECONDS={settings.delivery_lease_seconds:g} 秒）必须长于"
            f"单次发送的超时（{longest:g} 秒），否则任何通知都无法发出"
        )
        logger.error(
            "delivery lease too short", extra={"lease": settings.delivery_lease_seconds, "timeout": longest}
        )
        raise LeaseTooShort("E_LEASE_TOO_SHORT", message, "delivery_lease_seconds")


def deliver_batch(
    db: Database,
    clock: Clock,
    *,
    batch: int = 100,
    settings: Settings | None = None,
    senders: dict[str, Sender] | None = None,
) -> DeliveryReport:
    """Claim up to `batch` due rows, send each, and write each result. Safe to run concurrently."""
    settings = settings or get_settings()
    check_lease(settings)  # before claiming: a misconfigured worker takes nothing from the queue
    senders = CHANNELS if senders is None else senders
    report = DeliveryReport()
    claims = _claim(db, clock, batch, settings, report)
    margin = timedelta(seconds=settings.delivery_http_timeout_seconds)
    for index, claim in enumerate(claims):
        if clock.now() + margin >= claim.lease_until:
            # Sending now could outlast our lease and race a worker that claims the row next.
            report.released += sum(_release(db, rest, clock) for rest in claims[index:])
            logger.warning(
                "delivery lease ran short: %d claimed notifications released unsent", len(claims) - index
            )
            break
        sender = senders.get(claim.message.channel)
        error: Exception | None = None
        try:
            if sender is None:
                raise PermanentError(f"unknown channel {claim.message.channel!r}")
            sender(claim.message, settings, clock.now())
        except Exception as caught:  # any failure of one send is recorded; the batch goes on
            error = caught
        _mark(db, claim, error, clock, settings, report)
    return report


def deliver_due(db: Database, clock: Clock, *, batch: int = 100) -> int:
    """One batch of due notifications; returns how many reached a result (the worker's entry)."""
    return deliver_batch(db, clock, batch=batch).handled


def deliver_all(
    db: Database,
    clock: Clock,
    *,
    batch: int = 100,
    settings: Settings | None = None,
    senders: dict[str, Sender] | None = None,
    max_batches: int = 1000,
) -> DeliveryReport:
    """Batches until nothing more is due now (one pass of `huanjie outbox deliver`)."""
    total = DeliveryReport()
    for _ in range(max_batches):
        report = deliver_batch(db, clock, batch=batch, settings=settings, senders=senders)
        total.add(report)
        if (report.claimed == 0 and report.failed == 0) or report.released:
            break
    return total


def retry(session: Session, notification_id: int, *, clock: Clock, actor: str) -> Notification:
    """Re-queue a parked notification: pending now, attempts from zero, last error kept for reference."""
    row = session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        raise not_found("通知", notification_id, "id")
    if row.status != NotificationStatus.FAILED:
        raise Conflict(
            "E_NOT_FAILED", f"通知 {notification_id} 的状态为 {row.status}，只能重发发送失败的通知", "id"
        )
    before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
    row.status = NotificationStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = clock.now()
    record(
        session,
        NotificationRequeued(
            entity_id=str(row.id),
            before=before,
            after={"status": row.status, "attempts": 0, "key": row.idempotency_key},
        ),
        actor=actor,
        clock=clock,
    )
    return row


def describe(row: Notification) -> dict[str, Any]:
    """A row as shown by `huanjie outbox list --json` (secrets masked)."""
    return {
        "id": row.id,
        "idempotency_key": row.idempotency_key,
        "election_id": row.election_id,
        "jurisdiction_id": row.jurisdiction_id,
        "channel": row.channel,
        "recipient": masked_recipient(row.recipient or {}),
        "category": row.category,
        "subject": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
    }


__all__ = [
    "DeliveryReport",
    "LeaseTooShort",
    "backoff",
    "check_lease",
    "deliver_all",
    "deliver_batch",
    "deliver_due",
    "describe",
    "enqueue",
    "recipients",
    "retry",
]
