"""Pure ASGI middleware that guards every request before the app reads it (docs/security.md):

- `SecurityHeaders`: CSP, X-Frame-Options, nosniff, Referrer-Policy, HSTS on every response.
- `RequestGuard`: a body size limit (Content-Length checked up front, streamed bodies counted as
  they arrive) and, for requests that change something, the caller's credentials checked before
  the body is read: an anonymous 200 MB post is refused with a 401 having read nothing.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

import anyio
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from service.api.deps import SESSION_COOKIE, principal_from, services

PROBLEM = b"application/problem+json"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)  # framed only by our own pages: the notice page shows its 样稿 preview in an iframe
# FastAPI's /docs and /redoc load Swagger UI and ReDoc from their CDN with an inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Requests that change something but need no login yet: the login form itself, and logout
# (which only ends whatever session the cookie names).
NO_LOGIN = frozenset({"/login", "/logout"})


def _security_headers(csp: str, hsts: bool) -> tuple[tuple[bytes, bytes], ...]:
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"SAMEORIGIN"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return tuple(headers)


class SecurityHeaders:
    """Adds the headers a response does not set itself (built once, not per request)."""

    def __init__(self, app, *, hsts: bool = True):
        self.app = app
        self.hsts = hsts
        self.pages = _security_headers(CSP, hsts)
        self.docs = _security_headers(DOCS_CSP, hsts)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = self.docs if scope.get("path", "").startswith(DOCS_PATHS) else self.pages

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                present = {name.lower() for name, _ in headers}
                missing = [header for header in extra if header[0] not in present]
                message = {**message, "headers": [*headers, *missing]}
            await send(message)

        await self.app(scope, receive, sending)


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` once a streamed body passes the limit. An HTTPException, so that
    FastAPI's body parsing lets it through (it turns other errors into a 400)."""

    def __init__(self, limit: int):
        super().__init__(413, f"请求体不能超过 {limit} 字节")


async def _problem(send, status: int, code: str, detail: str, field: str | None, path: str, headers=()):
    body = json.dumps(
        {
            "type": f"urn:huanjie:problem:{code}",
            "title": code,
            "status": status,
            "detail": detail,
            "code": code,
            "field": field,
            "instance": path,
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_redirect(send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class RequestGuard:
    def __init__(self, app, *, max_body: int, max_upload: int):
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    def _limit(self, scope) -> int:
        kind = (_header(scope, b"content-type") or "").lower()
        return self.max_upload if kind.startswith("multipart/form-data") else self.max_body

    async def _authenticated(self, scope) -> bool:
        """The caller's token or session, checked in a short read under the database slot."""
        request = Request(scope)
        authorization = _header(scope, b"authorization") or ""
        scheme, _, token = authorization.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        cookies = SimpleCookie()
        try:
            cookies.load(_header(scope, b"cookie") or "")
        except Exception:
            return False
        if not token and SESSION_COOKIE not in cookies:
            return False
        svc = services(request)

        def check() -> bool:
            with svc.db.reading() as session:
                return principal_from(request, session, token or None) is not None

        async with svc.gate():
            return await anyio.to_thread.run_sync(check)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self._limit(scope)
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _problem(send, 413, "E_BODY_TOO_LARGE", f"请求体不能超过 {limit} 字节", "body", path)
        if path not in NO_LOGIN and not await self._authenticated(scope):
            if not path.startswith("/api/"):  # a dashboard form: to the login page, as before
                return await send_redirect(send, "/login")
            return await _problem(
                send,
                401,
                "E_UNAUTHORIZED",
                "需要有效的 API 令牌（Authorization: Bearer …）或登录",
                "Authorization",
                path,
                [(b"www-authenticate", b'Bearer realm="huanjie"')],
            )
        received = 0
        started = False

        async def counting():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def sending(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if not started:
                await _problem(send, 413, "E_BODY_TOO_LARGE", f"请求体不能超过 {limit} 字节", "body", path)
