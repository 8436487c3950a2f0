"""Input hygiene at the edge (issue 16 items 7 and 9).

- `InputHygiene`: an ASGI middleware that refuses NUL, other control characters (tab, LF and CR
  aside), lone surrogates and non-characters in query parameters, JSON bodies and form posts
  with a 422 naming the field, before any of it reaches a command or the database (PostgreSQL
  text cannot hold NUL; Word files and terminals break on control characters). The body is
  checked as the endpoint reads it, so nothing is read that the endpoint would not read.
  Uploaded files are checked cell by cell by the import (workflow/rules/voter_rows.py).
- `RedactIds`: a logging filter that masks anything shaped like a resident ID number in log
  messages and tracebacks, so no log line holds a whole one (the engines also hide SQL
  parameters: workflow/store/db.py).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from urllib.parse import parse_qsl

from fastapi import HTTPException

from workflow.rules import ric
from workflow.rules.voter_rows import bad_characters

# 17 digits and a check character, not inside a longer run of digits.
ID_SHAPE = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
CHECKED_TYPES = ("application/json", "application/x-www-form-urlencoded")
MESSAGE = "含有不允许的字符（NUL、控制字符或无效的 Unicode 字符），请删除后重试"


def redact_ids(text: str) -> str:
    """Everything shaped like an ID number (valid or mistyped) → its area code and asterisks."""
    return ID_SHAPE.sub(lambda m: m.group(0)[:6] + "*" * 12, text)


def is_id_number(text: str) -> bool:
    return ric.check_digit(text[:17]) == text[17].upper()


def id_numbers_in(text: str) -> list[str]:
    """The valid ID numbers (check digit right) written in the text."""
    return [m.group(0) for m in ID_SHAPE.finditer(text) if is_id_number(m.group(0))]


class RedactIds(logging.Filter):
    """Masks ID numbers in the message and the traceback of every record a handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the formatter to report
            return True
        record.msg, record.args = redact_ids(message), None
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_info = None
            record.exc_text = redact_ids(text.rstrip("\n"))
        elif record.exc_text:
            record.exc_text = redact_ids(record.exc_text)
        return True


class BadInput(HTTPException):
    """A field with characters no field may hold (422, rendered by service/api/problems.py)."""

    def __init__(self, field: str):
        super().__init__(status_code=422, detail=f"{field} {MESSAGE}")
        self.field = field


def _first_bad(value: object, path: str) -> str | None:
    """The path of the first string (or key) holding a forbidden character, else None."""
    if isinstance(value, str):
        return path if bad_characters(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if bad_characters(str(key)):
                return where
            found = _first_bad(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_bad(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def _check_pairs(pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        if bad_characters(key) or bad_characters(value):
            raise BadInput(key if not bad_characters(key) else "query")


def check_body(content_type: str, body: bytes) -> None:
    """Raise BadInput for a JSON or form body with a forbidden character in a string."""
    if not body:
        return
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return  # not JSON: the endpoint reports that
        found = _first_bad(data, "")
        if found is not None:
            raise BadInput(found or "body")
    else:
        _check_pairs(parse_qsl(body.decode("utf-8", "surrogateescape"), keep_blank_values=True))


class InputHygiene:
    """Pure ASGI middleware (no buffering of responses; bodies checked as they are read)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        query = scope.get("query_string", b"")
        if query:
            try:
                _check_pairs(parse_qsl(query.decode("utf-8", "surrogateescape"), keep_blank_values=True))
            except BadInput as bad:
                return await _reject(scope, send, bad)
        raw_type = b""
        for name, value in scope.get("headers") or ():
            if name == b"content-type":
                raw_type = value  # the last one, as a dict of the headers would keep
        content_type = raw_type.decode("latin-1").lower()
        if not content_type.startswith(CHECKED_TYPES):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []

        async def checked_receive():
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    check_body(content_type, b"".join(chunks))
                    chunks.clear()
            return message

        return await self.app(scope, checked_receive, send)


async def _reject(scope, send, bad: BadInput) -> None:
    body = json.dumps(
        {
            "type": "urn:huanjie:problem:E_BAD_CHARACTERS",
            "title": "E_BAD_CHARACTERS",
            "status": 422,
            "detail": bad.detail,
            "code": "E_BAD_CHARACTERS",
            "field": bad.field,
            "instance": scope.get("path", ""),
        },
        ensure_ascii=False,
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
