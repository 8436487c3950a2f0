"""Per-request plumbing: one transaction per request, the caller (token or session cookie) and
the jurisdiction scope every route checks. Routers of other parts reuse these dependencies."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import BigInteger, bindparam, cast, func, select
from sqlalchemy.orm import Session

from service.api.problems import Forbidden, Unauthorized
from service.throttle import LoginThrottle
from workflow.clock import Clock
from workflow.commands import auth
from workflow.commands.render_jobs import RenderPool
from workflow.errors import DomainError, not_found
from workflow.store import Database
from workflow.store.auth import ROLE_NAMES, ApiToken, Role, User
from workflow.store.models import Election, Jurisdiction
from workflow.views.status import ViewCache

SESSION_COOKIE = "hj_session"
# Imports running at once. Each waits at the gate once per batch from its worker thread (not in
# the event loop), so their number must stay well below the thread pool's (40): otherwise
# waiting imports could take every thread while the request holding the gate needs one.
IMPORT_SLOTS = 4
INT_MAX = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def _lower_priority() -> None:
    """Nice this thread (Linux schedules threads as tasks; elsewhere nothing changes)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


@dataclass
class Services:
    """What the app factory was given: tests swap the database and the clock."""

    db: Database
    clock: Clock
    settings: object
    _gate: anyio.Semaphore | None = field(default=None, repr=False)
    _throttle: LoginThrottle | None = field(default=None, repr=False)
    _hashing: ThreadPoolExecutor | None = field(default=None, repr=False)
    _imports: anyio.Semaphore | None = field(default=None, repr=False)

    def imports(self) -> anyio.Semaphore:
        """The import slots (IMPORT_SLOTS), taken in the event loop before the route's thread."""
        if self._imports is None:
            self._imports = anyio.Semaphore(IMPORT_SLOTS)
        return self._imports

    def throttle(self) -> LoginThrottle:
        """Failed logins per account and address (growing delays; service/throttle.py)."""
        if self._throttle is None:
            self._throttle = LoginThrottle.from_settings(self.settings)
        return self._throttle

    def hashing(self) -> ThreadPoolExecutor:
        """The bounded pool password checks run in: Argon2 is slow on purpose, and a login flood
        must neither take the request threads nor hold the database meanwhile. Its threads run
        at a lower CPU priority, so requests of logged-in users go first."""
        if self._hashing is None:
            self._hashing = ThreadPoolExecutor(
                max_workers=getattr(self.settings, "password_hash_workers", 1),
                thread_name_prefix="password-hash",
                initializer=_lower_priority,
            )
        return self._hashing
    _renders: RenderPool | None = field(default=None, repr=False)

    def renders(self) -> RenderPool | None:
        """The bounded pool render jobs run in (workflow/commands/render_jobs.py): one job at a
        time by default, each render in a child process, never on the request path. None when
        the setting `render_runner` is "worker": `huanjie render-worker` processes run them."""
        if getattr(self.settings, "render_runner", "service") == "worker":
            return None
        if self._renders is None:
            self._renders = RenderPool(
                self.db,
                self.clock,
                workers=getattr(self.settings, "render_workers", 1),
                processes=getattr(self.settings, "render_processes", True),
                stale=timedelta(seconds=getattr(self.settings, "render_stale_seconds", 120.0)),
                max_attempts=getattr(self.settings, "render_max_attempts", 3),
            )
        return self._renders

    # Rendered status views of this app's database (workflow/views/status.py).
    status_cache: ViewCache = field(default_factory=ViewCache, repr=False)

    def gate(self) -> anyio.Semaphore:
        """How many requests may hold a transaction at once. A request holds its connection
        across worker-thread hops (dependency, route, commit); if every worker thread were
        waiting for a connection or SQLite's write lock, the holder could never finish. So
        requests queue here, in the event loop, without taking a thread: one at a time on
        SQLite (every transaction takes the write lock), the pool's size on PostgreSQL."""
        if self._gate is None:
            pool = self.db.engine.pool
            capacity = (
                1 if not self.db.is_postgres else pool.size() + max(getattr(pool, "_max_overflow", 0), 0)
            )
            self._gate = anyio.Semaphore(max(1, min(capacity, 30)))
        return self._gate


def services(request: Request) -> Services:
    return request.app.state.services


async def _admitted(request: Request) -> AsyncIterator[None]:
    async with services(request).gate():
        yield


# For routes that open their own transaction (login, dashboard forms, health, metrics).
Admitted = Annotated[None, Depends(_admitted, scope="function")]


async def _import_slot(request: Request) -> AsyncIterator[None]:
    async with services(request).imports():
        yield


# For the import routes, which take `admitted` transactions batch by batch instead of `Tx`.
ImportSlot = Annotated[None, Depends(_import_slot, scope="function")]


@contextlib.contextmanager
def admitted(svc: Services, *, reading: bool = False) -> Iterator[Session]:
    """One short transaction for a sync route that does not hold the gate for its whole request
    (a voter import: issue 16 item 3). Called in the route's worker thread: it waits at the gate
    in the event loop like any request, and lets the next one in as soon as it is done."""
    gate = svc.gate()
    anyio.from_thread.run(gate.acquire)
    try:
        with svc.db.reading() if reading else svc.db.transaction() as session:
            yield session
    finally:
        anyio.from_thread.run_sync(gate.release)


def transaction(request: Request, _admission: Admitted) -> Iterator[Session]:
    """The request's one transaction: committed when the route returns, rolled back on error.
    GET and HEAD requests change nothing: theirs is a read-only unit of work, rolled back."""
    db = services(request).db
    with db.reading() if request.method in ("GET", "HEAD") else db.transaction() as session:
        yield session


Tx = Annotated[Session, Depends(transaction, scope="function")]
bearer = HTTPBearer(auto_error=False, description="API 令牌：`huanjie tokens create USERNAME`")


def out_of_scope(election_id: int) -> DomainError:
    """Out of scope answers as not found: nothing tells which ids exist (docs/security.md)."""
    return not_found("选举", election_id, "election_id")


# The callers' scopes (a jurisdiction's subtree), shared by every request of this process and
# keyed by the tree's state: a jurisdiction added, removed or re-homed changes the stamp, and the
# next request rebuilds the subtree. The stamp is one aggregate over the jurisdictions (a scan of
# ~1,300 rows: far cheaper than the recursive subtree and its set); reading it every time keeps
# processes consistent without telling each other anything.
_SCOPES: dict[int, tuple[tuple, frozenset[int]]] = {}
_SCOPES_LOCK = threading.Lock()
_TREE_STAMP = select(
    func.count(Jurisdiction.id),
    func.coalesce(func.max(Jurisdiction.id), 0),
    func.coalesce(func.sum(cast(Jurisdiction.parent_id, BigInteger)), 0),
    func.coalesce(func.sum(cast(Jurisdiction.id, BigInteger) * cast(Jurisdiction.parent_id, BigInteger)), 0),
)


def scope_of(session: Session, root_id: int) -> frozenset[int]:
    """`root_id` and every jurisdiction below it, from the process cache while the tree is
    unchanged."""
    stamp = tuple(int(v) for v in session.execute(_TREE_STAMP).one())
    cached = _SCOPES.get(root_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    ids = frozenset(auth.subtree_ids(session, root_id))
    with _SCOPES_LOCK:
        if len(_SCOPES) > 10_000:
            _SCOPES.clear()
        _SCOPES[root_id] = (stamp, ids)
    return ids


@dataclass
class Principal:
    """The authenticated caller and the jurisdictions it may see."""

    user: User
    via: str  # "token" or "session"
    csrf_token: str | None = None
    _scope: frozenset[int] | None = field(default=None, repr=False)

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role_name(self) -> str:
        return ROLE_NAMES[Role(self.user.role)]

    def scope(self, session: Session) -> frozenset[int]:
        """The jurisdictions the caller may see: resolved once per request here, and once per
        tree state across requests (`scope_of`)."""
        if self._scope is None:
            self._scope = scope_of(session, self.user.jurisdiction_id)
        return self._scope

    def may_see(self, session: Session, jurisdiction_id: int) -> bool:
        return jurisdiction_id in self.scope(session)

    # Outside the caller's subtree answers exactly as a missing record does (same status, code
    # and text), so a caller cannot learn which ids and codes exist elsewhere (docs/security.md).
    def check_jurisdiction(self, session: Session, jurisdiction: Jurisdiction) -> None:
        if not self.may_see(session, jurisdiction.id):
            raise not_found("行政区域", jurisdiction.code, "jurisdiction")

    def check_election(self, session: Session, election: Election) -> None:
        if not self.may_see(session, election.jurisdiction_id):
            raise not_found("选举", election.id, "election_id")

    def check_write(self) -> None:
        if not auth.can_write(self.user):
            raise Forbidden("E_READ_ONLY", f"「{self.role_name}」角色不能修改选举和工作节点", "role")


# Token → user, shared by this process's requests. Every request still asks the database, in
# one Core statement, whether the token is live and what its user's row says now; the ORM user
# (with its jurisdiction) is reused only while that answer is unchanged — a revoked token, a
# deactivated user or a changed role is seen at once.
_TOKEN_USERS: dict[str, tuple[tuple, User]] = {}
_TOKEN_CHECK = (
    select(
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.jurisdiction_id,
        User.active,
        Jurisdiction.code,
        Jurisdiction.name,
        Jurisdiction.parent_id,
    )
    .select_from(ApiToken)
    .join(User, User.id == ApiToken.user_id)
    .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def token_user(session: Session, token: str) -> User | None:
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()  # as auth stores it
    row = session.execute(_TOKEN_CHECK, {"token_hash": digest}).first()
    if row is None or not row.active:
        return None
    cached = _TOKEN_USERS.get(digest)
    if cached is not None and cached[0] == tuple(row):
        return cached[1]
    user = auth.user_for_token(session, token)
    if user is not None:
        session.expunge(user.jurisdiction)
        session.expunge(user)
        with _SCOPES_LOCK:
            if len(_TOKEN_USERS) > 10_000:
                _TOKEN_USERS.clear()
            _TOKEN_USERS[digest] = (tuple(row), user)
    return user


def principal_from(request: Request, session: Session, token: str | None) -> Principal | None:
    if token:
        user = token_user(session, token)
        return Principal(user, "token") if user else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        row = auth.web_session(session, cookie, clock=services(request).clock)
        if row is not None:
            return Principal(row.user, "session", row.csrf_token)
    return None


def current_principal(
    request: Request,
    session: Tx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    token = credentials.credentials if credentials else None
    principal = principal_from(request, session, token)
    if principal is None:
        raise Unauthorized(
            "E_UNAUTHORIZED", "需要有效的 API 令牌（Authorization: Bearer …）或登录", "Authorization"
        )
    request.state.username = principal.username  # for the request log
    # A browser carrying the session cookie must prove the page was ours (CSRF).
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if principal.via == "session" and unsafe and request.headers.get("X-CSRF-Token") != principal.csrf_token:
        raise Forbidden("E_CSRF", "请求缺少有效的 CSRF 令牌（X-CSRF-Token）", "X-CSRF-Token")
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
Svc = Annotated[Services, Depends(services)]
