"""An election's status, cheap to read again and again: one Core statement tells whether the
caller may see the election and which version of it exists; the rendered view is kept per
(election, version, local date, jurisdiction's name) in a small in-process cache (one per
database: the API keeps it with its services), so a repeated
read costs that one statement and a dictionary look-up.

A caller with an API token whose view is cached is answered from one statement on the
database's hot-read connection (`quick_status`: the token live, its user active, the election
visible to the user and its version, all at once), run where the request is, without a
transaction or a thread; every other case takes the ordinary path (`head`, `cached_status`).

Every change to an election's view bumps its version (the commands through the ORM's version
counter; the sweep's overdue marks and computed deadlines explicitly), and what depends on the
day is keyed by the local date, so a cached view is never stale. Each process has its own cache;
nothing needs to be told across processes, because the key is read from the database every time.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, exists, literal, select
from sqlalchemy.orm import Session, aliased

from workflow.commands.elections import get_election
from workflow.errors import not_found
from workflow.store import Database
from workflow.store.auth import ApiToken, User
from workflow.store.db import HotReadUnavailable
from workflow.store.models import Election, Jurisdiction
from workflow.timeutil import local_date


@dataclass(frozen=True)
class StatusKey:
    election_id: int
    version: int
    today: date
    jurisdiction: tuple[str, str, str]  # code, name, level: shown in the view


@dataclass(frozen=True)
class Head:
    """What the one statement returns: the cache key and whether the viewer may see it."""

    key: StatusKey
    jurisdiction_id: int
    visible: bool


def _head_statement(scoped: bool):
    """Built once (building it per request cost more than running it): parameters `eid` and,
    when `scoped`, `root`."""
    own = aliased(Jurisdiction)
    visible = literal(True)
    if scoped:
        start = aliased(Election)
        up = (
            select(Jurisdiction.id, Jurisdiction.parent_id)
            .join(start, start.jurisdiction_id == Jurisdiction.id)
            .where(start.id == bindparam("eid"))
            .cte("up", recursive=True)
        )
        parent = aliased(Jurisdiction)
        up = up.union_all(select(parent.id, parent.parent_id).where(parent.id == up.c.parent_id))
        visible = exists().where(up.c.id == bindparam("root"))
    return (
        select(
            Election.version,
            Election.jurisdiction_id,
            own.timezone,
            own.code,
            own.name,
            own.level,
            visible.label("visible"),
        )
        .join(own, own.id == Election.jurisdiction_id)
        .where(Election.id == bindparam("eid"))
    )


_HEAD = {True: _head_statement(True), False: _head_statement(False)}


def _quick_statement():
    """The token's user (live token, active flag) and, for the election `eid`, its version,
    local time zone and jurisdiction, and whether the user's jurisdiction is among its
    ancestors: parameters `token_hash` and `eid`. No row: no such live token."""
    own = aliased(Jurisdiction)
    start = aliased(Election)
    up = (
        select(Jurisdiction.id, Jurisdiction.parent_id)
        .join(start, start.jurisdiction_id == Jurisdiction.id)
        .where(start.id == bindparam("eid"))
        .cte("up", recursive=True)
    )
    parent = aliased(Jurisdiction)
    up = up.union_all(select(parent.id, parent.parent_id).where(parent.id == up.c.parent_id))
    return (
        select(
            User.username,
            User.active,
            Election.version,
            own.timezone,
            own.code,
            own.name,
            own.level,
            exists().where(up.c.id == User.jurisdiction_id).label("visible"),
        )
        .select_from(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(Election, Election.id == bindparam("eid"))
        .outerjoin(own, own.id == Election.jurisdiction_id)
        .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
    )


_QUICK = _quick_statement()


@dataclass(frozen=True)
class Quick:
    """A status answered on the quick path: the caller's username (for the request log) and
    the cached body."""

    username: str
    body: Any


def quick_status(db: Database, token: str, election_id: int, now: datetime, cache: ViewCache) -> Quick | None:
    """The cached view of `election_id` for the holder of `token`, from one statement on the
    hot-read connection: when the token is live, its user active, the election within the
    user's jurisdiction and its view for this version and local date already cached. Anything
    else (a refused caller, a missing or out-of-scope election, a view not cached yet, the
    connection unavailable) answers None: the ordinary path then refuses or builds as it does."""
    reads = db.hot_reads
    prepared = reads.prepared.get(_QUICK)
    if prepared is None:
        prepared = reads.prepared.setdefault(_QUICK, reads.prepare(_QUICK))
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()  # as auth stores it
    try:
        row = reads.first(prepared, {"token_hash": digest, "eid": election_id})
    except HotReadUnavailable:
        return None
    if row is None:
        return None
    username, active, version, timezone, code, name, level, visible = row
    if not active or version is None or not visible:
        return None
    key = StatusKey(election_id, version, local_date(now, timezone), (code, name, level))
    body = cache.peek(key)
    return None if body is None else Quick(username, body)


def head(session: Session, election_id: int, viewer_root: int | None, now: datetime) -> Head:
    """The election's version, local date and jurisdiction, and whether `viewer_root`'s subtree
    holds it (the jurisdiction's ancestors, walked up in the same statement: a handful of rows,
    not the viewer's whole subtree). `viewer_root=None` sees everything."""
    params = {"eid": election_id} if viewer_root is None else {"eid": election_id, "root": viewer_root}
    row = session.execute(_HEAD[viewer_root is not None], params).first()
    if row is None:
        raise not_found("选举", election_id, "election_id")
    key = StatusKey(election_id, row.version, local_date(now, row.timezone), (row.code, row.name, row.level))
    return Head(key, row.jurisdiction_id, bool(row.visible))


class ViewCache:
    """A bounded, thread-safe LRU of rendered views (API worker threads share it)."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict[StatusKey, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: StatusKey) -> Any | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def peek(self, key: StatusKey) -> Any | None:
        """As `get`, counting hits only (the quick path's miss is counted by the ordinary
        path that follows it)."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: StatusKey, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def cached_status(
    session: Session,
    key: StatusKey,
    build: Callable[[Election, date], Any],
    cache: ViewCache,
) -> Any:
    """The view for `key`: from the cache, or built from the election (ORM, three statements)
    by `build(election, today)` and kept. A view built from a newer version than the key's
    (a change committed in between) is not kept under the old key."""
    found = cache.get(key)
    if found is not None:
        return found
    election = get_election(session, key.election_id)
    value = build(election, key.today)
    if election.version == key.version:
        cache.put(key, value)
    return value
