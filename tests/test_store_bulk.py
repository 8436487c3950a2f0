"""The sweep's bulk writers (workflow/store/bulk.py), on both backends: rows written in one
statement from plain tuples are stored exactly as the ORM stores the same values, duplicates
of the idempotency key are skipped and not counted, updates by key land on their rows only,
and long id lists are one array parameter on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

from tests.test_query_counts import counting
from workflow.store.bulk import among, insert_rows, json_text, update_rows
from workflow.store.models import Notification

COLUMNS = ("idempotency_key", "channel", "recipient", "category", "subject", "body", "payload")
COLUMNS += ("status", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at")
BEIJING = timezone(timedelta(hours=8))


def _values(key: str, at: datetime) -> dict:
    return {
        "idempotency_key": key,
        "channel": "email",
        "recipient": {"committee": "第1县选举委员会", "email": "a@example.gov.cn"},
        "category": "warning",
        "subject": "【提醒】第1县",
        "body": "【提醒】第1县：「成立选举委员会」还有 7 天",
        "payload": {"message": "还有 7 天", "lead_days": 7, "target_date": None},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "last_error": None,
        "created_at": at,
        "sent_at": None,
    }


def _row(values: dict, *, ascii_only: bool) -> tuple:
    encoded = {name: json_text(values[name], ascii_only=ascii_only) for name in ("recipient", "payload")}
    return tuple(encoded.get(name, values[name]) for name in COLUMNS)


def _stored(db, key: str) -> tuple:
    """The row's columns as the database holds them (text for JSON), by key."""
    names = ", ".join(name for name in COLUMNS if name != "idempotency_key")
    with db.reading() as session:
        row = session.execute(
            text(f"SELECT {names} FROM notifications WHERE idempotency_key = :k"), {"k": key}
        ).one()
    return tuple(row)


def _notifications(db) -> dict:
    with db.reading() as session:
        rows = session.execute(select(Notification)).scalars().all()
        return {n.idempotency_key: {c: getattr(n, c) for c in ("id", *COLUMNS)} for n in rows}


def test_inserted_rows_are_stored_as_the_orm_stores_them(db):
    at = datetime(2011, 9, 3, 9, 0, 30, tzinfo=BEIJING)  # any zone: stored as UTC
    with db.transaction() as session:
        session.add(Notification(**_values("orm", at)))
        session.flush()
        written = insert_rows(
            session.connection(),
            Notification.__table__,
            COLUMNS,
            [_row(_values("bulk", at), ascii_only=True), _row(_values("utf8", at), ascii_only=False)],
        )
    assert written == 2
    # Byte for byte as the ORM wrote it (the instants' text on SQLite, the JSON's text) …
    assert _stored(db, "bulk") == _stored(db, "orm")
    rows = _notifications(db)
    # … and, with Chinese as UTF-8 instead of escapes, the same values read back.
    for name in ("recipient", "payload", "next_attempt_at", "created_at", "sent_at", "body"):
        assert rows["utf8"][name] == rows["orm"][name], name
    assert rows["utf8"]["next_attempt_at"] == datetime(2011, 9, 3, 1, 0, 30, tzinfo=UTC)
    assert rows["utf8"]["recipient"]["committee"] == "第1县选举委员会"


def test_duplicate_keys_are_skipped_and_not_counted(db):
    at = datetime(2011, 9, 3, 1, 0, tzinfo=UTC)
    with db.transaction() as session:
        first = insert_rows(
            session.connection(),
            Notification.__table__,
            COLUMNS,
            [_row(_values(k, at), ascii_only=False) for k in ("a", "b")],
            skip_conflicts_on="idempotency_key",
        )
    with db.transaction() as session:
        second = insert_rows(
            session.connection(),
            Notification.__table__,
            COLUMNS,
            [_row(_values(k, at), ascii_only=False) for k in ("b", "c", "a", "d")],
            skip_conflicts_on="idempotency_key",
        )
    assert (first, second) == (2, 2)
    with db.reading() as session:
        keys = session.execute(select(Notification.idempotency_key).order_by(Notification.id)).scalars()
        assert list(keys) == ["a", "b", "c", "d"]


def test_updates_by_key_touch_their_rows_only(db):
    at = datetime(2011, 9, 3, 1, 0, tzinfo=UTC)
    with db.transaction() as session:
        insert_rows(
            session.connection(),
            Notification.__table__,
            COLUMNS,
            [_row(_values(k, at), ascii_only=True) for k in ("a", "b", "c")],
        )
        ids = dict(session.execute(select(Notification.idempotency_key, Notification.id)).all())
    sent = at + timedelta(hours=1)
    with db.transaction() as session:
        update_rows(
            session.connection(),
            Notification.__table__,
            "id",
            ("status", "payload", "sent_at"),
            [(ids["a"], "sent", json_text({"n": "甲"}), sent), (ids["c"], "failed", json_text([]), None)],
            increment="attempts",
        )
    rows = _notifications(db)
    assert (rows["a"]["status"], rows["a"]["payload"], rows["a"]["sent_at"], rows["a"]["attempts"]) == (
        "sent",
        {"n": "甲"},
        sent,
        1,
    )
    assert (rows["c"]["status"], rows["c"]["payload"], rows["c"]["sent_at"], rows["c"]["attempts"]) == (
        "failed",
        [],
        None,
        1,
    )
    assert (rows["b"]["status"], rows["b"]["attempts"]) == ("pending", 0)
    assert _stored(db, "a")[8] == _stored(db, "b")[8]  # next_attempt_at untouched, same text


def test_a_long_id_list_is_one_parameter_on_postgresql(db):
    at = datetime(2011, 9, 3, 1, 0, tzinfo=UTC)
    with db.transaction() as session:
        insert_rows(
            session.connection(),
            Notification.__table__,
            COLUMNS,
            [_row(_values(f"k{i}", at), ascii_only=True) for i in range(30)],
        )
        ids = list(session.execute(select(Notification.id).order_by(Notification.id)).scalars())
    wanted = ids[::3]
    with counting(db) as seen, db.reading() as session:
        found = session.execute(
            select(Notification.id).where(among(session, Notification.id, wanted)).order_by(Notification.id)
        ).scalars()
        assert list(found) == wanted
        assert list(session.execute(select(Notification.id).where(among(session, Notification.id, []))).scalars()) == []
    statement = next(s for s in seen if "FROM notifications" in s)
    if db.is_postgres:
        assert "ANY" in statement and statement.count("%(") == 1
    else:
        assert statement.count("?") >= len(wanted)
