"""Channel adapters for the outbox: the log, e-mail (SMTP), DingTalk and WeCom group robots, and a
generic HMAC-signed HTTP webhook. Only this module talks SMTP or HTTP.

Each adapter takes a `Message` (one outbox row), the settings and the instant of sending, and
either returns (sent) or raises: `PermanentError` when retrying cannot help (bad address, unknown
channel, 4xx), anything else is treated as transient and retried with back-off.

Every send carries the row's idempotency key where the channel allows it (e-mail `Message-ID`
and `X-Huanjie-Idempotency-Key`; HTTP header `X-Huanjie-Idempotency-Key`; the webhook's JSON
body), so that a receiver can drop the duplicate that at-least-once delivery may produce after a
crash between sending and marking the row sent (docs/delivery.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from config.settings import Settings

logger = logging.getLogger("huanjie.delivery")

KEY_HEADER = "X-Huanjie-Idempotency-Key"
TIMESTAMP_HEADER = "X-Huanjie-Timestamp"
SIGNATURE_HEADER = "X-Huanjie-Signature"
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"
WECOM_MARKDOWN_LIMIT = 4096  # bytes of UTF-8 (WeCom group robot docs: markdown content ≤ 4096 bytes)
WECOM_TEXT_LIMIT = 2048  # bytes of UTF-8 (WeCom group robot docs: text content ≤ 2048 bytes)
SECRET_FIELDS = ("secret", "password", "token")
# Visible ASCII except "%": kept as is in headers; anything else is percent-encoded (UTF-8).
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")


class PermanentError(Exception):
    """Retrying cannot help: park the notification as failed at once."""


class TransientError(Exception):
    """Worth another attempt after back-off (network, 5xx, rate limit, robot error code)."""


@dataclass(frozen=True)
class Message:
    """One outbox row, detached from the session, as the adapters see it."""

    key: str
    channel: str
    recipient: dict[str, Any]
    category: str
    subject: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)
    election_id: int | None = None
    jurisdiction_id: int | None = None
    created_at: datetime | None = None


Sender = Callable[[Message, Settings, datetime], None]


# -- helpers ----------------------------------------------------------------------------------
def resolve_secret(value: str | None) -> str | None:
    """A secret as given, or read from the environment at send time when written "env:NAME"."""
    if value is None:
        return None
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        found = os.environ.get(name)
        if not found:
            raise PermanentError(f"environment variable {name} is not set")
        return found
    return str(value)


def header_key(key: str) -> str:
    """The idempotency key as an HTTP/mail header value (percent-encoded beyond visible ASCII)."""
    return quote(key, safe=_HEADER_SAFE)


def message_id(key: str, sender_address: str) -> str:
    """A deterministic Message-ID: the same key always gives the same ID (receivers dedupe on it)."""
    _, at, domain = parseaddr(sender_address)[1].rpartition("@")
    domain = domain if at and domain else "huanjie.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk custom robot signature: base64(HMAC-SHA256(secret, f"{ts}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The generic webhook's signature header value: "sha256=" + hex HMAC over f"{ts}." + body."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook_signature(
    secret: str, timestamp: str, body: bytes, signature: str, now: datetime, tolerance_seconds: int = 300
) -> bool:
    """For receivers: a valid signature over this body, made within `tolerance_seconds` of now."""
    try:
        age = abs(now.timestamp() - int(timestamp))
    except ValueError:
        return False
    expected = webhook_signature(secret, timestamp, body)
    return age <= tolerance_seconds and hmac.compare_digest(expected, signature)


def _truncate_utf8(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    marker = "\n……（内容过长，已截断）"
    room = limit - len(marker.encode())
    return data[:room].decode(errors="ignore") + marker


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def mask_url(url: str) -> str:
    """A robot URL with its token/key query values hidden, for listings and errors."""
    parts = urlsplit(url)
    query = [(k, "***" if k in ("access_token", "key", "sign") else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def masked_recipient(recipient: dict[str, Any]) -> dict[str, Any]:
    """The recipient with secrets hidden ("env:NAME" references are shown: they are not secret)."""
    shown: dict[str, Any] = {}
    for name, value in recipient.items():
        if isinstance(value, str) and value.startswith("env:"):
            shown[name] = value
        elif name in SECRET_FIELDS and value:
            shown[name] = "***"
        elif name in ("webhook", "url") and isinstance(value, str):
            shown[name] = mask_url(value)
        else:
            shown[name] = value
    return shown


def _require(recipient: dict[str, Any], name: str, channel: str) -> Any:
    value = recipient.get(name)
    if not value:
        raise PermanentError(f"{channel} recipient has no {name!r}")
    return value


def post_json(url: str, document: Any, headers: dict[str, str], timeout: float) -> bytes:
    """POST a JSON document; return the response body. Maps HTTP failures to our error kinds."""
    body = document if isinstance(document, bytes) else json.dumps(document, ensure_ascii=False).encode()
    return post_bytes(url, body, headers, timeout)


def post_bytes(url: str, body: bytes, headers: dict[str, str], timeout: float) -> bytes:
    if urlsplit(url).scheme not in ("http", "https"):
        raise PermanentError(f"not an http(s) URL: {mask_url(url)}")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        detail = f"HTTP {error.code} from {mask_url(url)}: {error.read()[:200].decode(errors='replace')}"
        # 408 (timeout) and 429 (rate limit) are worth retrying; other 4xx are our mistake.
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise PermanentError(detail) from None
        raise TransientError(detail) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TransientError(f"{type(error).__name__} posting to {mask_url(url)}: {reason}") from None
    except (http.client.InvalidURL, ValueError) as error:  # its message would repeat the URL's token
        raise PermanentError(f"{type(error).__name__}: invalid URL {mask_url(url)}") from None
    except http.client.HTTPException as error:  # a broken answer (bad status line, cut short)
        raise TransientError(f"{type(error).__name__} from {mask_url(url)}") from None


def _robot_result(raw: bytes, channel: str) -> None:
    """DingTalk and WeCom answer HTTP 200 with {"errcode": 0, "errmsg": "ok"}; anything else failed."""
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise TransientError(f"{channel}: answer is not JSON: {raw[:200]!r}") from None
    if answer.get("errcode", 0) != 0:
        raise TransientError(f"{channel}: errcode {answer.get('errcode')}: {answer.get('errmsg')}")


# -- the channels -------------------------------------------------------------------------------
def send_log(message: Message, settings: Settings, now: datetime) -> None:
    logger.info(
        "notification %s [%s] to %s: %s\n%s",
        message.key,
        message.category,
        message.recipient.get("name") or "-",
        message.subject,
        message.body,
    )


def send_email(message: Message, settings: Settings, now: datetime) -> None:
    address = _require(message.recipient, "email", "email")
    if "@" not in str(address):
        raise PermanentError(f"not an e-mail address: {address!r}")
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = formataddr((message.recipient.get("name") or "", str(address)))
    mail["Subject"] = " ".join(message.subject.split())  # a header may not contain line breaks
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(message.key, settings.smtp_from)
    mail[KEY_HEADER] = header_key(message.key)
    mail["X-Huanjie-Category"] = message.category
    mail.set_content(message.body)
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    try:
        with smtp_class(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
            if settings.smtp_starttls and not settings.smtp_ssl:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, resolve_secret(settings.smtp_password) or "")
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentError(f"SMTP refused {address}: {error.recipients}") from None
        raise TransientError(f"SMTP refused {address}: {error.recipients}") from None
    except smtplib.SMTPResponseException as error:
        detail = f"SMTP {error.smtp_code}: {error.smtp_error!r}"
        if 500 <= error.smtp_code < 600:
            raise PermanentError(detail) from None
        raise TransientError(detail) from None


def _robot_text(message: Message) -> str:
    return f"{message.subject}\n{message.body}"


def send_dingtalk(message: Message, settings: Settings, now: datetime) -> None:
    """DingTalk custom robot (钉钉自定义机器人), with the "加签" signed-URL scheme when a secret is set."""
    url = resolve_secret(_require(message.recipient, "webhook", "dingtalk"))
    secret = resolve_secret(message.recipient.get("secret"))
    if secret:
        timestamp = int(now.timestamp() * 1000)  # milliseconds; DingTalk rejects it beyond 1 hour off
        url = f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"
    if message.recipient.get("msgtype", "markdown") == "text":
        document: dict[str, Any] = {"msgtype": "text", "text": {"content": _robot_text(message)}}
    else:
        document = {
            "msgtype": "markdown",
            "markdown": {"title": message.subject, "text": f"### {message.subject}\n\n{message.body}"},
        }
    mobiles = message.recipient.get("at_mobiles")
    if mobiles:
        document["at"] = {"atMobiles": list(mobiles), "isAtAll": False}
    raw = post_json(url, document, {KEY_HEADER: header_key(message.key)}, settings.delivery_http_timeout_seconds)
    _robot_result(raw, "dingtalk")


def send_wecom(message: Message, settings: Settings, now: datetime) -> None:
    """WeCom group robot (企业微信群机器人): the webhook URL, or its key alone."""
    url = resolve_secret(message.recipient.get("webhook"))
    if not url:
        key = resolve_secret(_require(message.recipient, "key", "wecom"))
        url = WECOM_URL.format(key=quote(key or "", safe=""))
    if message.recipient.get("msgtype", "markdown") == "text":
        document = {"msgtype": "text", "text": {"content": _truncate_utf8(_robot_text(message), WECOM_TEXT_LIMIT)}}
    else:
        content = _truncate_utf8(f"### {message.subject}\n{message.body}", WECOM_MARKDOWN_LIMIT)
        document = {"msgtype": "markdown", "markdown": {"content": content}}
    raw = post_json(url, document, {KEY_HEADER: header_key(message.key)}, settings.delivery_http_timeout_seconds)
    _robot_result(raw, "wecom")


def webhook_document(message: Message) -> dict[str, Any]:
    return {
        "idempotency_key": message.key,
        "category": message.category,
        "subject": message.subject,
        "body": message.body,
        "payload": message.payload,
        "election_id": message.election_id,
        "jurisdiction_id": message.jurisdiction_id,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def send_webhook(message: Message, settings: Settings, now: datetime) -> None:
    """Generic HTTP webhook: JSON body, HMAC-SHA256 over f"{timestamp}." + body, key in a header."""
    url = resolve_secret(_require(message.recipient, "url", "webhook"))
    secret = resolve_secret(_require(message.recipient, "secret", "webhook"))
    body = json.dumps(webhook_document(message), ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        KEY_HEADER: header_key(message.key),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(secret or "", timestamp, body),
    }
    post_bytes(url or "", body, headers, settings.delivery_http_timeout_seconds)


CHANNELS: dict[str, Sender] = {
    "log": send_log,
    "email": send_email,
    "dingtalk": send_dingtalk,
    "wecom": send_wecom,
    "webhook": send_webhook,
}
