"""Typed domain errors: a Chinese message for committee staff, an English code for machines.

A lawful "no" (a plan that breaks a bound, a void round) is *not* an error: it is a report.
Errors are for input the system refuses: the command changes nothing and exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DomainError(Exception):
    """Refused input. `code` is stable (E_…), `message` is Chinese, `field` names the input."""

    code: str
    message: str
    field: str | None = None

    def __str__(self) -> str:  # pragma: no cover - trivial
        where = f"（{self.field}）" if self.field else ""
        return f"{self.message}{where}"

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


class NotFound(DomainError):
    """The named record does not exist."""


class Conflict(DomainError):
    """The record changed under us (optimistic locking) or the state forbids the command."""


def not_found(what: str, ident: object, field: str | None = None) -> NotFound:
    return NotFound("E_NOT_FOUND", f"未找到{what}：{ident}", field)
