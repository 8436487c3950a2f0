"""Users, API tokens and dashboard sessions: the commands behind `huanjie users|tokens` and the
service's login. Each works in the caller's transaction and audits what it changes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload, selectinload

from workflow.clock import Clock
from workflow.commands.jurisdictions import find_jurisdiction
from workflow.errors import Conflict, DomainError
from workflow.events import (
    TokenCreated,
    TokenRevoked,
    UserActivated,
    UserAdded,
    UserDeactivated,
    UserLoggedIn,
    UserLoggedOut,
)
from workflow.rules.passwords import MIN_LENGTH, check_password
from workflow.store.audit import record
from workflow.store.auth import ROLE_NAMES, ApiToken, Role, User, WebSession
from workflow.store.models import Jurisdiction

_HASHER = PasswordHasher()  # Argon2id with the library's current recommended parameters
TOKEN_PREFIX = "hj_"
MIN_PASSWORD = MIN_LENGTH


# What each role may do inside its jurisdiction subtree. Reading is open to every role.
WRITE_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_STAFF})
VOTER_WRITE_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_STAFF, Role.REGISTRAR})


def can_write(user: User) -> bool:
    """Elections and milestones: create, advance, reschedule, complete, waive."""
    return user.role in WRITE_ROLES


def can_write_voters(user: User) -> bool:
    """Voter registration (import, exclusions) once the voters part lands."""
    return user.role in VOTER_WRITE_ROLES


def can_see_full_ids(user: User) -> bool:
    """Only registrars see whole resident ID numbers; every other role sees them masked."""
    return user.role == Role.REGISTRAR


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# -- users --------------------------------------------------------------------------------
def add_user(
    session: Session,
    *,
    username: str,
    role: str,
    jurisdiction_code: str,
    password: str | None,
    clock: Clock,
    actor: str,
    display_name: str | None = None,
) -> User:
    username = (username or "").strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise DomainError("E_BAD_USERNAME", "用户名不能为空、不能含空白字符，且不超过 100 个字符", "username")
    try:
        role = Role(role)
    except ValueError:
        known = "、".join(f"{r.value}（{ROLE_NAMES[r]}）" for r in Role)
        raise DomainError("E_BAD_ROLE", f"未知的角色 {role!r}（可用：{known}）", "role") from None
    if password is not None:  # length and a deny-list of common passwords (docs/security.md)
        check_password(password, username=username)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict("E_DUPLICATE", f"用户 {username} 已存在", "username")
    jurisdiction = find_jurisdiction(session, jurisdiction_code)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password) if password else None,
        role=role,
        jurisdiction=jurisdiction,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    record(
        session,
        UserAdded(
            entity_id=username,
            after={"username": username, "role": str(role), "jurisdiction": jurisdiction.code},
        ),
        actor=actor,
        clock=clock,
    )
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.execute(
        select(User).where(User.username == username).options(selectinload(User.jurisdiction))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once; only its hash is stored
    prefix: str
    username: str


def create_token(
    session: Session, username: str, *, clock: Clock, actor: str, name: str | None = None
) -> IssuedToken:
    user = find_user(session, username)
    if user is None:
        raise DomainError("E_NOT_FOUND", f"未找到用户：{username}", "username")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[:10]
    session.add(
        ApiToken(user_id=user.id, name=name, prefix=prefix, token_hash=_sha256(token), created_at=clock.now())
    )
    session.flush()
    record(
        session,
        TokenCreated(entity_id=username, after={"prefix": prefix, "name": name}),
        actor=actor,
        clock=clock,
    )
    return IssuedToken(token, prefix, username)


def list_tokens(session: Session, username: str | None = None) -> list[ApiToken]:
    """Tokens with their prefix, purpose and state (never the token itself), oldest first."""
    query = select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id)
    if username:
        user = find_user(session, username)
        if user is None:
            raise DomainError("E_NOT_FOUND", f"未找到用户：{username}", "username")
        query = query.where(ApiToken.user_id == user.id)
    return list(session.execute(query).scalars())


def revoke_token(session: Session, ref: str, *, clock: Clock, actor: str) -> tuple[ApiToken, bool]:
    """Revoke a token named by its id or by its prefix (as `tokens list` shows them). Returns
    the token and whether this call revoked it (False: it already was; nothing changes)."""
    ref = (ref or "").strip()
    query = select(ApiToken).options(joinedload(ApiToken.user))
    if ref.isdigit():
        rows = list(session.execute(query.where(ApiToken.id == int(ref))).scalars())
    else:
        rows = list(session.execute(query.where(ApiToken.prefix == ref)).scalars())
    if not rows:
        raise DomainError(
            "E_NOT_FOUND", f"未找到令牌：{ref}（可用令牌编号或前缀，见 huanjie tokens list）", "token"
        )
    if len(rows) > 1:
        ids = "、".join(str(row.id) for row in rows)
        raise DomainError("E_AMBIGUOUS", f"前缀 {ref} 对应多个令牌（编号 {ids}），请用编号指定", "token")
    (token,) = rows
    if token.revoked_at is not None:
        return token, False
    token.revoked_at = clock.now()
    session.flush()
    record(
        session,
        TokenRevoked(
            entity_id=token.user.username,
            after={"token_id": token.id, "prefix": token.prefix, "name": token.name},
        ),
        actor=actor,
        clock=clock,
    )
    return token, True


def set_user_active(session: Session, username: str, active: bool, *, clock: Clock, actor: str) -> bool:
    """Deactivate (or reactivate) a login. A deactivated user's dashboard sessions end at once
    and their API tokens stop working (they are refused, not deleted: reactivating restores
    them). Returns whether anything changed."""
    user = find_user(session, username)
    if user is None:
        raise DomainError("E_NOT_FOUND", f"未找到用户：{username}", "username")
    if user.active == active:
        return False
    user.active = active
    ended = 0
    if not active:
        ended = session.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount or 0
    session.flush()
    record(
        session,
        (UserActivated if active else UserDeactivated)(
            entity_id=username,
            before={"active": not active},
            after={"active": active, "sessions_ended": ended},
        ),
        actor=actor,
        clock=clock,
    )
    return True


def user_for_token(session: Session, token: str) -> User | None:
    row = session.execute(
        select(ApiToken)
        .where(ApiToken.token_hash == _sha256(token), ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user).joinedload(User.jurisdiction))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    return row.user


# -- dashboard sessions ---------------------------------------------------------------------
@dataclass(frozen=True)
class OpenedSession:
    cookie: str  # the session id for the cookie; only its hash is stored
    csrf_token: str
    user: User
    expires_at: datetime


@dataclass(frozen=True)
class LoginCandidate:
    """What a password check needs, read in a short transaction: the check itself (Argon2, by
    design slow) then runs outside the database, so it never holds a connection or SQLite's
    only slot (docs/security.md)."""

    user_id: int | None
    password_hash: str  # a dummy hash for unknown users, so timing does not tell names apart
    active: bool


def login_candidate(session: Session, username: str) -> LoginCandidate:
    user = find_user(session, (username or "").strip())
    if user is None or not user.password_hash:
        return LoginCandidate(None, _dummy_hash(), False)
    return LoginCandidate(user.id, user.password_hash, bool(user.active))


def login_refused() -> DomainError:
    """The one refusal for every failure (unknown user, wrong password, deactivated)."""
    return DomainError("E_LOGIN_FAILED", "用户名或密码不正确", "password")


def open_session(session: Session, user_id: int, *, clock: Clock, lifetime: timedelta) -> OpenedSession:
    """Open a dashboard session for a user whose password was checked (and who is still active)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise login_refused()
    now = clock.now()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    cookie = secrets.token_urlsafe(32)
    opened = OpenedSession(cookie, secrets.token_urlsafe(24), user, now + lifetime)
    session.add(
        WebSession(
            session_hash=_sha256(cookie),
            user_id=user.id,
            csrf_token=opened.csrf_token,
            created_at=now,
            expires_at=opened.expires_at,
        )
    )
    session.flush()
    record(
        session,
        UserLoggedIn(entity_id=user.username, after={"via": "dashboard"}),
        actor=user.username,
        clock=clock,
    )
    return opened


def login(
    session: Session, username: str, password: str, *, clock: Clock, lifetime: timedelta
) -> OpenedSession:
    """Check a password and open a dashboard session in one transaction (the CLI and tests; the
    service splits it: `login_candidate`, the check outside the database, `open_session`)."""
    candidate = login_candidate(session, username)
    ok = password_matches(candidate.password_hash, password or "")
    if candidate.user_id is None or not ok or not candidate.active:
        raise login_refused()
    return open_session(session, candidate.user_id, clock=clock, lifetime=lifetime)


def web_session(session: Session, cookie: str, *, clock: Clock) -> WebSession | None:
    row = session.execute(
        select(WebSession)
        .where(WebSession.session_hash == _sha256(cookie))
        .options(joinedload(WebSession.user).joinedload(User.jurisdiction))
    ).scalar_one_or_none()
    if row is None or row.expires_at <= clock.now() or not row.user.active:
        return None
    return row


def logout(session: Session, cookie: str, *, clock: Clock, confirmed: bool = True) -> None:
    """End a dashboard session. `confirmed`: the logout carried the page's CSRF token; without
    it the session ends all the same (recorded so), never left valid."""
    row = web_session(session, cookie, clock=clock)
    if row is None:
        return
    username = row.user.username
    session.delete(row)
    session.flush()
    record(
        session,
        UserLoggedOut(
            entity_id=username, after={"via": "dashboard"} if confirmed else {"via": "dashboard", "csrf": False}
        ),
        actor=username,
        clock=clock,
    )


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


# -- scope --------------------------------------------------------------------------------
def subtree_ids(session: Session, root_id: int) -> set[int]:
    """The jurisdiction and everything below it, in one recursive query."""
    tree = select(Jurisdiction.id).where(Jurisdiction.id == root_id).cte("tree", recursive=True)
    tree = tree.union(select(Jurisdiction.id).where(Jurisdiction.parent_id == tree.c.id))
    return set(session.execute(select(tree.c.id)).scalars())
