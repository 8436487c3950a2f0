"""Local stand-ins for the delivery channels' receivers, on 127.0.0.1 only.

Each server checks the documented format and signature *independently* of schedules/channels.py
(its own HMAC code), records what it accepted, and counts idempotency keys the way a receiver that
deduplicates would. The SMTP side is aiosmtpd.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

KEY_HEADER = "X-Huanjie-Idempotency-Key"


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    document: Any
    key: str | None


@dataclass
class RobotServer:
    """A DingTalk / WeCom / generic-webhook receiver. `kind` selects the checks."""

    kind: str  # dingtalk | wecom | webhook
    now: Any = None  # callable giving the receiver's "current" instant (tests share the clock)
    token: str = "tok-123"  # DingTalk access_token
    secret: str | None = "SECtest-secret"  # DingTalk signing secret / webhook HMAC secret
    key: str = "wecom-key-1"  # WeCom robot key
    fail_next: int = 0  # answer this many requests with a server error first
    fail_status: int = 500
    hold_at: int | None = None  # block the Nth accepted request until `release` is set
    accepted: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    keys: Counter = field(default_factory=Counter)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                status, answer = outer._handle(self.path, dict(self.headers.items()), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        if self.kind == "dingtalk":
            return f"{self.base}/robot/send?access_token={self.token}"
        if self.kind == "wecom":
            return f"{self.base}/cgi-bin/webhook/send?key={self.key}"
        return f"{self.base}/hooks/huanjie"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def distinct(self) -> set[str]:
        return set(self.keys)

    # -- checks ---------------------------------------------------------------------------------
    def _reject(self, reason: str) -> tuple[int, dict]:
        with self.lock:
            self.rejected.append(reason)
        if self.kind == "webhook":
            return 401 if "signature" in reason else 400, {"error": reason}
        # The robots answer HTTP 200 with a non-zero errcode.
        return 200, {"errcode": 310000 if "sign" in reason else 40035, "errmsg": reason}

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.fail_status, {"errcode": -1, "errmsg": "busy"}
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        try:
            document = json.loads(body)
        except ValueError:
            return self._reject("body is not JSON")
        key = headers.get(KEY_HEADER)
        problem = getattr(self, f"_check_{self.kind}")(parts.path, query, headers, body, document)
        if problem:
            return self._reject(problem)
        with self.lock:
            self.accepted.append(Received(parts.path, query, headers, document, key))
            if key:
                self.keys[unquote(key)] += 1
            hold = self.hold_at is not None and len(self.accepted) == self.hold_at
        if hold:
            self.holding.set()
            self.release.wait(60)
        if self.kind == "webhook":
            return 200, {"ok": True}
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _check_dingtalk(self, path, query, headers, body, document) -> str | None:
        if path != "/robot/send" or query.get("access_token") != self.token:
            return "wrong path or access_token"
        if self.secret:
            timestamp, sign = query.get("timestamp"), query.get("sign")
            if not timestamp or not sign:
                return "sign missing"
            text = f"{timestamp}\n{self.secret}".encode()
            expected = base64.b64encode(hmac.new(self.secret.encode(), text, hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(expected, sign):
                return "sign not match"
            if self.now is not None and abs(self.now().timestamp() * 1000 - int(timestamp)) > 3600_000:
                return "sign timestamp too far off"
        msgtype = document.get("msgtype")
        if msgtype == "markdown":
            markdown = document.get("markdown") or {}
            if not (isinstance(markdown.get("title"), str) and markdown["title"] and markdown.get("text")):
                return "markdown needs title and text"
        elif msgtype == "text":
            if not (document.get("text") or {}).get("content"):
                return "text needs content"
        else:
            return f"unsupported msgtype {msgtype!r}"
        return None

    def _check_wecom(self, path, query, headers, body, document) -> str | None:
        if path != "/cgi-bin/webhook/send" or query.get("key") != self.key:
            return "invalid webhook url"
        msgtype = document.get("msgtype")
        limits = {"markdown": 4096, "text": 2048}
        if msgtype not in limits:
            return f"unsupported msgtype {msgtype!r}"
        content = (document.get(msgtype) or {}).get("content")
        if not isinstance(content, str) or not content:
            return "content missing"
        if len(content.encode()) > limits[msgtype]:
            return "content exceeds limit"
        return None

    def _check_webhook(self, path, query, headers, body, document) -> str | None:
        timestamp = headers.get("X-Huanjie-Timestamp")
        signature = headers.get("X-Huanjie-Signature", "")
        if not timestamp or not signature.startswith("sha256="):
            return "signature headers missing"
        mac = hmac.new((self.secret or "").encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        if not hmac.compare_digest("sha256=" + mac.hexdigest(), signature):
            return "bad signature"
        if self.now is not None and abs(self.now().timestamp() - int(timestamp)) > 300:
            return "signature timestamp too old"
        if not headers.get("Content-Type", "").startswith("application/json"):
            return "not JSON content type"
        for name in ("idempotency_key", "category", "subject", "body"):
            if not isinstance(document.get(name), str):
                return f"field {name} missing"
        if unquote(headers.get(KEY_HEADER, "")) != document["idempotency_key"]:
            return "key header differs from body"
        return None


class MailSink:
    """aiosmtpd handler: keeps every message; refuses recipients at `refuse_domain` with 550."""

    def __init__(self, refuse_domain: str = "refused.example"):
        self.refuse_domain = refuse_domain
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, rcpt_options) -> str:
        if address.endswith("@" + self.refuse_domain):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    def __init__(self):
        self.sink = MailSink()
        self.port = free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
