"""How the voters vote, where a kind offers several ways (its `[counting.methods]`): RCL 2018
art. 8 and RCL 2025 art. 14 ¶1 — all voters, one representative of each household, or the
residents' (group) representatives. The election stores its way (`voting_method`; None: all
voters); counting (turnout) and proxies (none when the representatives vote, RCL 2025 art. 19
¶4) follow it. The names, thresholds and citations are the kind's data."""

from __future__ import annotations

from workflow.errors import DomainError
from workflow.kinds import KindSpec

ALL = "all"
ALL_NAME = "全体有选举权的居民选举"


def choices(kind: KindSpec) -> dict[str, str]:
    """The kind's ways (key → name), all voters first; empty when it offers no choice."""
    methods = kind.counting.get("methods", {})
    if not methods:
        return {}
    return {ALL: ALL_NAME, **{key: str(table.get("name") or key) for key, table in methods.items()}}


def method_name(kind: KindSpec, method: str | None) -> str:
    return choices(kind).get(method or ALL, method or ALL_NAME)


def check_method(kind: KindSpec, method: str | None) -> str | None:
    """The method to store (None: all voters); an unknown one, or any for a kind offering no
    choice, is a DomainError naming the field, the kind's ways and their article."""
    value = (method or "").strip()
    if value in ("", ALL):
        return None
    known = choices(kind)
    if value not in known:
        listed = "、".join(f"{key}（{name}）" for key, name in known.items()) or "只有全体选民投票一种"
        cite = kind.cite("voting_method")
        raise DomainError(
            "E_UNKNOWN_METHOD",
            f"{kind.name}没有选举方式 {value!r}（可用：{listed}）" + (f"（{cite}）" if cite else ""),
            "voting_method",
        )
    return value
