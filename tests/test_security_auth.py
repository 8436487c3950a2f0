"""Authentication and hygiene (issue 16, items 4 and 11): throttled logins with growing delays,
Argon2 outside the database slot in a bounded pool, credentials checked before a body is read, a
body size limit, /metrics guarded, the password policy, cookie flags, security headers and a
logout that always ends the session."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from service.app import create_app
from service.throttle import Limits, LoginThrottle
from tests.service_fixtures import PASSWORD, make_world
from workflow.commands import auth
from workflow.errors import DomainError
from workflow.rules.passwords import check_password


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _try(client: TestClient, username: str, password: str):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf": _csrf(page.text)},
        follow_redirects=False,
    )


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- password policy ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "password",
    [
        "password",
        "12345678",
        "Password123",
        "P@ssw0rd!",
        "qwerty123456",
        "aaaaaaaaaaaa",
        "1212121212",
        "short1!",
    ],
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(DomainError) as refused:
        check_password(password, username="li")
    assert refused.value.code == "E_WEAK_PASSWORD" and refused.value.field == "password"


def test_the_username_with_digits_is_refused_and_good_passwords_pass():
    with pytest.raises(DomainError):
        check_password("zhangwei2011", username="zhangwei")
    for good in (PASSWORD, "wang-secret-1", "选举委员会办公室2011", "correct horse battery"):
        check_password(good, username="wang")


def test_add_user_applies_the_policy(db, clock):
    from demo.county import build_demo

    with db.transaction() as session:
        build_demo(session, clock=clock, actor="demo", registers=False)
    with db.transaction() as session, pytest.raises(DomainError) as refused:
        auth.add_user(
            session,
            username="li",
            role="observer",
            jurisdiction_code="420821",
            password="12345678",
            clock=clock,
            actor="t",
        )
    assert refused.value.code == "E_WEAK_PASSWORD"


# -- throttling -------------------------------------------------------------------------------
def test_delays_grow_and_end_they_never_lock_out_for_good():
    now = FakeTime()
    throttle = LoginThrottle(pair=Limits(5, 900), address=Limits(20, 900), account=Limits(50, 60), now=now)
    waits = []
    for _ in range(12):
        assert throttle.retry_after("admin", "10.0.0.9") == 0
        throttle.failed("admin", "10.0.0.9")
        waits.append(throttle.retry_after("admin", "10.0.0.9"))
        now.now += waits[-1]  # the attacker waits out each delay
    assert waits[:4] == [0] * 4 and waits[4:] == [1, 2, 4, 8, 16, 32, 64, 128]
    # The real user at another address is not held up by the attacker's pair and address.
    assert throttle.retry_after("admin", "10.0.0.1") == 0
    # Many addresses against one account: the account's own delay stops at 60 s.
    for i in range(200):
        throttle.failed("admin", f"192.0.2.{i % 250}")
    assert 0 < throttle.retry_after("admin", "10.0.0.1") <= 60
    now.now += 61
    assert throttle.retry_after("admin", "10.0.0.1") == 0
    throttle.succeeded("admin", "10.0.0.1")
    assert throttle.retry_after("admin", "10.0.0.1") == 0


def test_the_throttle_is_bounded_in_memory():
    throttle = LoginThrottle(max_keys=100)
    for i in range(1000):
        throttle.failed(f"user{i}", "10.0.0.9")
    assert len(throttle._counts) <= 100


def test_login_flood_gets_429_with_retry_after_then_the_right_password_works(world):
    client = world.client
    now = FakeTime()
    throttle = client.app.state.services.throttle()
    throttle.now = now
    for _ in range(5):
        assert _try(client, "admin", "wrong-password-1").status_code == 401
    refused = _try(client, "admin", PASSWORD)  # even the right password waits: no oracle
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "秒后再试" in refused.text and "hj_session" not in client.cookies
    now.now += 2
    assert _try(client, "admin", PASSWORD).status_code == 303
    assert "hj_session" in client.cookies


def test_password_checks_run_outside_the_database_slot_in_a_bounded_pool(world, monkeypatch):
    """While Argon2 runs for a login flood, reads still get the (SQLite: only) database slot,
    and no more checks run at once than the pool allows."""
    running, most = [0], [0]
    lock = threading.Lock()
    release = threading.Event()
    real = auth.password_matches

    def slow(password_hash, password):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1
        return real(password_hash, password)

    monkeypatch.setattr(auth, "password_matches", slow)
    services = world.client.app.state.services
    app = create_app(
        Settings(db=services.db.url, migrate_on_start=False, cookie_secure=False, password_hash_workers=2),
        services.db,
        services.clock,
    )
    with TestClient(app, client=("127.0.0.1", 1)) as client:
        page = client.get("/login")
        token = _csrf(page.text)
        results = []

        def flood(i):
            results.append(
                client.post(
                    "/login",
                    data={"username": f"nobody{i}", "password": "wrong-password-1", "csrf": token},
                    follow_redirects=False,
                ).status_code
            )

        threads = [threading.Thread(target=flood, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while most[0] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        read = client.get("/api/v1/elections", headers=world.as_("admin"))
        took = time.monotonic() - started
        assert read.status_code == 200 and took < 5 and not release.is_set()
        release.set()
        for t in threads:
            t.join(20)
    assert sorted(results) == [401] * 4 and most[0] == 2


# -- bodies: credentials first, a size limit ---------------------------------------------------
def _asgi(app, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    """Call the app directly; return (status, body chunks the app read)."""
    read = [0]
    sent = {}

    async def receive():
        if read[0] < len(chunks):
            read[0] += 1
            return {"type": "http.request", "body": chunks[read[0] - 1], "more_body": read[0] < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("192.0.2.7", 1234),
        "server": ("testserver", 80),
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    return sent["status"], read[0]


def test_credentials_are_checked_before_the_body_is_read(world):
    app = world.client.app
    chunk = b"x" * 65536
    json_type = (b"content-type", b"application/json")
    for headers in ([], [(b"authorization", b"Bearer hj_forged")], [(b"cookie", b"hj_session=forged")]):
        status, read = _asgi(app, "POST", "/api/v1/elections", [json_type, *headers], [chunk] * 16)
        assert (status, read) == (401, 0)
    # A dashboard form without a login goes to the login page, its body unread.
    status, read = _asgi(app, "POST", "/elections/3/advance", [], [chunk])
    assert (status, read) == (303, 0)


def test_bodies_over_the_limit_are_refused(world):
    app = world.client.app
    limit = Settings().max_body_bytes
    token = (b"authorization", f"Bearer {world.tokens['admin']}".encode())
    json_type = (b"content-type", b"application/json")
    big = (b"content-length", str(limit + 1).encode())
    assert _asgi(app, "POST", "/api/v1/elections", [json_type, token, big], [b"{}"]) == (413, 0)
    assert _asgi(app, "POST", "/login", [big], [b"x"]) == (413, 0)
    # Streamed without a length: refused once the limit is passed, not read to the end.
    status, read = _asgi(app, "POST", "/api/v1/elections", [json_type, token], [b" " * 65536] * 200)
    assert status == 413 and read <= limit // 65536 + 1
    body = world.client.post(
        "/api/v1/elections",
        content=b" " * (limit + 10),
        headers={**world.as_("admin"), "content-type": "application/json"},
    )
    assert body.status_code == 413 and body.json()["code"] == "E_BODY_TOO_LARGE"


# -- /metrics ------------------------------------------------------------------------------------
def test_metrics_only_for_loopback_or_the_token_and_cached(db, clock, world, monkeypatch):
    outside = TestClient(world.client.app, client=("203.0.113.5", 1))
    assert outside.get("/metrics").status_code == 404
    assert world.client.get("/metrics").status_code == 200  # loopback
    guarded = create_app(Settings(db=db.url, migrate_on_start=False, metrics_token="m-secret"), db, clock)
    local = TestClient(guarded, client=("127.0.0.1", 1))
    assert local.get("/metrics").status_code == 404
    assert local.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    reads = []
    import service.metrics

    real = service.metrics.gauges
    monkeypatch.setattr(service.metrics, "gauges", lambda *a: reads.append(1) or real(*a))
    for _ in range(5):
        assert local.get("/metrics", headers={"Authorization": "Bearer m-secret"}).status_code == 200
    assert len(reads) == 1  # one database read for five scrapes within the cache's age


# -- cookies, headers, logout ---------------------------------------------------------------------
def test_cookies_are_secure_httponly_samesite_by_default(db, clock, world):
    assert Settings().cookie_secure is True
    app = create_app(Settings(db=db.url, migrate_on_start=False), db, clock)
    client = TestClient(app, base_url="https://testserver", client=("127.0.0.1", 1))
    page = client.get("/login")
    assert re.search(r"hj_login_csrf=[^;]+;.*HttpOnly", page.headers["set-cookie"])
    assert "Secure" in page.headers["set-cookie"] and "SameSite=strict" in page.headers["set-cookie"]
    done = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    cookie = next(
        v for k, v in done.headers.multi_items() if k == "set-cookie" and v.startswith("hj_session=")
    )
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie


def test_security_headers_on_pages_and_api(world):
    for response in (
        world.client.get("/login"),
        world.get("admin", "/api/v1/elections"),
        world.client.get("/api/v1/elections"),
    ):
        headers = response.headers
        assert "frame-ancestors 'self'" in headers["content-security-policy"]  # never by another site
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "SAMEORIGIN" and headers["x-content-type-options"] == "nosniff"
        assert headers["strict-transport-security"].startswith("max-age=")
        assert headers["referrer-policy"] == "same-origin"


def _session_alive(world, cookie: str) -> bool:
    db = world.client.app.state.services.db
    clock = world.client.app.state.services.clock
    with db.reading() as session:
        return auth.web_session(session, cookie, clock=clock) is not None


@pytest.mark.parametrize("how", ["no_csrf", "wrong_csrf", "get"])
def test_logout_without_its_csrf_token_still_ends_the_session(world, how):
    client = world.client
    assert _try(client, "admin", PASSWORD).status_code == 303
    cookie = client.cookies["hj_session"]
    assert _session_alive(world, cookie)
    if how == "get":
        client.get("/logout", follow_redirects=False)
    else:
        client.post("/logout", data={"csrf": "forged"} if how == "wrong_csrf" else {}, follow_redirects=False)
    assert not _session_alive(world, cookie)
    stolen = TestClient(client.app, cookies={"hj_session": cookie}, client=("127.0.0.1", 2))
    assert stolen.get("/", follow_redirects=False).status_code == 303  # back to the login page
