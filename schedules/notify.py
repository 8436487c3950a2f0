"""Writing to the outbox: one `notifications` row per (committee contact, channel).

Recipients and channels come from the jurisdiction's committee `contacts` JSON:
`[{"name", "role", "email", "channels": {"log": true, "email": "…", "dingtalk": {…},
"wecom": {…}, "webhook": {…}}}]`. The delivery worker (schedules/delivery.py) sends the rows;
this module only writes them, inside the caller's transaction. Each row's idempotency key is
unique, so a reminder can never produce the same message twice, even if two workers raced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import Session

from schedules.delivery import contact_channels
from workflow.store.bulk import among, insert_rows, json_text
from workflow.store.models import Jurisdiction, Notification, NotificationStatus


@dataclass(frozen=True)
class Recipient:
    jurisdiction_id: int
    jurisdiction_code: str
    committee: str | None
    label: str  # stable within the reminder: contact index, "p0" for the parent's first contact
    channel: str
    details: dict[str, Any]  # what the channel reads: name, role, email / robot or webhook table
    # `as_json` encoded, once: a committee's recipient is on every message of its elections.
    encoded: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "encoded", json_text(self.as_json(), ascii_only=False))

    def as_json(self) -> dict[str, Any]:
        """The recipient in the shape the delivery channels read (schedules/channels.py)."""
        return {"jurisdiction": self.jurisdiction_code, "committee": self.committee, **self.details}


def _recipients_of(jurisdiction, prefix: str) -> list[Recipient]:
    """A committee's recipients; `jurisdiction`: a `Jurisdiction` or a row with its id, code,
    committee_name and contacts."""

    def make(label: str, channel: str, details: dict[str, Any]) -> Recipient:
        return Recipient(jurisdiction.id, jurisdiction.code, jurisdiction.committee_name, label, channel, details)

    result = [
        make(f"{prefix}{index}", channel, details)
        for index, channel, details in contact_channels(jurisdiction)
    ]
    if not result:
        # A committee without contacts still gets its message in the log, never silently lost.
        result.append(make(f"{prefix}0", "log", {"name": jurisdiction.committee_name, "role": None}))
    return result


_CACHE_KEY = "huanjie_recipients"


def committee_recipients(session: Session, jurisdiction_id: int, *, parent: bool = False) -> list[Recipient]:
    """The committee's (or its parent committee's) recipients; cached for the transaction."""
    cache = session.info.setdefault(_CACHE_KEY, {})
    key = (jurisdiction_id, parent)
    if key not in cache:
        jurisdiction = session.get(Jurisdiction, jurisdiction_id)
        if parent:
            jurisdiction = (
                session.get(Jurisdiction, jurisdiction.parent_id) if jurisdiction.parent_id else None
            )
        cache[key] = [] if jurisdiction is None else _recipients_of(jurisdiction, "p" if parent else "")
    return cache[key]


def prefetch_recipients(session: Session, jurisdiction_ids, parents_of=()) -> None:
    """Fill the transaction's recipient cache for many committees in ONE query: the
    jurisdictions `jurisdiction_ids` and the parents of `parents_of` (escalations). A batch of
    1,326 elections with a committee each costs one statement instead of one per election."""
    cache = session.info.setdefault(_CACHE_KEY, {})
    own = {j for j in jurisdiction_ids if (j, False) not in cache}
    up = {j for j in parents_of if (j, True) not in cache}
    if not own and not up:
        return
    wanted = [among(session, Jurisdiction.id, own | up)]
    if up:
        parent_ids = select(Jurisdiction.parent_id).where(among(session, Jurisdiction.id, up))
        wanted.append(Jurisdiction.id.in_(parent_ids.scalar_subquery()))
    # Plain rows, the contacts as their stored text: a committee seen before with the very same
    # row gets its recipients from `_known` (not decoded, fanned out and encoded again).
    query = select(
        Jurisdiction.id,
        Jurisdiction.code,
        Jurisdiction.committee_name,
        cast(Jurisdiction.contacts, Text).label("contacts"),
        Jurisdiction.parent_id,
    ).where(or_(*wanted))
    found = {j.id: j for j in session.execute(query)}
    for jurisdiction_id in own:
        jurisdiction = found.get(jurisdiction_id)
        cache[(jurisdiction_id, False)] = [] if jurisdiction is None else _known_recipients(jurisdiction, "")
    for jurisdiction_id in up:
        child = found.get(jurisdiction_id)
        parent = found.get(child.parent_id) if child is not None and child.parent_id else None
        cache[(jurisdiction_id, True)] = [] if parent is None else _known_recipients(parent, "p")


@dataclass(frozen=True)
class _Committee:
    """A jurisdiction row with its contacts decoded: what `_recipients_of` reads."""

    id: int
    code: str
    committee_name: str | None
    contacts: list[Any] | None


_known: dict[tuple, list[Recipient]] = {}  # (id, code, committee, contacts text, prefix) → recipients
_KNOWN_MAX = 20_000  # committees remembered (a province has 1,326); then it starts over


def _known_recipients(row, prefix: str) -> list[Recipient]:
    """`_recipients_of` for a row whose contacts are the stored JSON text, remembered by the
    row's values: a changed contact list, name or code is another key. Recipients are frozen,
    so sharing them across transactions is safe."""
    key = (row.id, row.code, row.committee_name, row.contacts, prefix)
    recipients = _known.get(key)
    if recipients is None:
        if len(_known) >= _KNOWN_MAX:
            _known.clear()
        contacts = json.loads(row.contacts) if row.contacts is not None else None
        committee = _Committee(row.id, row.code, row.committee_name, contacts)
        recipients = _known[key] = _recipients_of(committee, prefix)
    return recipients


def clear_cache(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


# The outbox row's columns, in the order of the tuples `Outbox.add` collects.
_COLUMNS = (
    "idempotency_key",
    "election_id",
    "jurisdiction_id",
    "channel",
    "recipient",
    "category",
    "subject",
    "body",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "sent_at",
)


class Outbox:
    """Collects notification rows during a batch and inserts them at once (one statement,
    `workflow/store/bulk.py`): plain tuples, each message's payload and each recipient encoded
    once however many rows share them."""

    def __init__(self, session: Session, now: datetime):
        self.session = session
        self.now = now
        self.rows: list[tuple] = []
        clear_cache(session)

    def add(
        self,
        source_id: int | str,
        election_id: int | None,
        recipients: list[Recipient],
        category: str,
        item,
        reminder=None,
        *,
        suffix: str | None = None,
        subject: str | None = None,
    ) -> None:
        payload = item.as_dict()
        if reminder is not None:
            payload |= {
                "reminder_id": reminder.id,
                "reminder_kind": reminder.kind,
                "lead_days": reminder.lead_days,
                "target_date": reminder.target_date.isoformat() if reminder.target_date else None,
            }
        payload_text = json_text(payload, ascii_only=False)
        subject = subject or _subject(item.message)
        tail = f":{suffix}" if suffix else ""
        now = self.now
        for recipient in recipients:
            self.rows.append(
                (
                    f"{source_id}:{recipient.channel}:{recipient.label}{tail}",
                    election_id,
                    recipient.jurisdiction_id,
                    recipient.channel,
                    recipient.encoded,
                    category,
                    subject,
                    item.message,
                    payload_text,
                    NotificationStatus.PENDING.value,
                    0,
                    now,
                    None,
                    now,
                    None,
                )
            )

    def flush(self) -> int:
        """Insert the collected rows; a key already present is skipped (idempotency)."""
        if not self.rows:
            return 0
        written = insert_rows(
            self.session.connection(),
            Notification.__table__,
            _COLUMNS,
            self.rows,
            skip_conflicts_on="idempotency_key",
        )
        self.rows = []
        return written


def _subject(message: str) -> str:
    head = message.split("：", 1)[0]
    return head[:300]


def existing_keys(session: Session, keys: list[str]) -> set[str]:
    return set(
        session.execute(
            select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys))
        ).scalars()
    )
