"""A committee's plan file (TOML): kind, anchor, planned milestone dates, phase windows.

    kind = "people_congress"
    title = "京山县2011年县乡两级人大代表换届选举"
    jurisdiction = "420821"            # a code, or a table {code, name, level, parent}
    election_day = 2011-10-18          # or term_ends = … for party branches
    statute = "2010"                   # optional; the kind's default otherwise
    [milestones]
    voter_list_published = 2011-09-20
    [phases.registration]
    start = 2011-09-04
    end = 2011-09-20

Every mistake is reported with the field it is in; nothing here touches the database.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from workflow.errors import DomainError
from workflow.kinds import KindSpec, get_kind, resolve_kind, version_in_force

_ALLOWED_KEYS = {
    "kind",
    "title",
    "jurisdiction",
    "election_day",
    "term_ends",
    "statute",
    "milestones",
    "phases",
    "parent_election",
    "seats",
    "members",
}
_LEVELS = ("province", "city", "county", "township", "community", "village", "party_org")


@dataclass(frozen=True)
class JurisdictionRef:
    code: str
    name: str | None = None
    level: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class PhaseWindow:
    start: date | None
    end: date | None


@dataclass(frozen=True)
class Plan:
    kind: KindSpec
    title: str
    jurisdiction: JurisdictionRef
    anchor: date
    statute: str | None
    milestones: dict[str, date] = field(default_factory=dict)
    phases: dict[str, PhaseWindow] = field(default_factory=dict)
    parent_election: int | None = None
    # Members to elect (a committee's size), checked against the kind; the election keeps it
    # as its candidate list's seats (workflow/commands/candidate_nominations.open_district).
    seats: int | None = None
    members: int | None = None  # a party branch's full members (正式党员), which decide its posts

    def not_applicable(self) -> dict[str, str]:
        """Milestones that do not apply to this election, each with the reason (the rule): a
        party branch of fewer full members than the kind's threshold has no committee, so the
        committee's first meeting is not held."""
        rule = no_committee_rule(self.kind, self.members)
        if rule is None:
            return {}
        return {key: rule for key in self.kind.candidates.get("no_committee_waives", ())}


def _bad(field_name: str, message: str, code: str = "E_PLAN_INVALID") -> DomainError:
    return DomainError(code, message, field_name)


def _as_date(value: Any, field_name: str) -> date:
    if isinstance(value, datetime):
        raise _bad(field_name, f"{field_name} 应为日期（YYYY-MM-DD），不应包含时间", "E_BAD_DATE")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _bad(field_name, f"{field_name} 的日期格式有误：{value!r}（应为 YYYY-MM-DD）", "E_BAD_DATE")


def parse_plan_text(text: str, source: str = "计划文件") -> Plan:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DomainError("E_PLAN_SYNTAX", f"{source} 不是有效的 TOML：{exc}", None) from exc
    return parse_plan(data)


def load_plan(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DomainError("E_FILE_NOT_FOUND", f"找不到计划文件：{path}", "plan") from None
    except UnicodeDecodeError:
        raise DomainError("E_PLAN_ENCODING", f"计划文件 {path} 不是 UTF-8 编码", "plan") from None
    return parse_plan_text(text, str(path))


def parse_plan(data: dict[str, Any]) -> Plan:
    """Validate a plan's data; raise DomainError naming the first bad field."""
    for key in data:
        if key not in _ALLOWED_KEYS:
            raise _bad(key, f"计划中有未知字段 {key!r}", "E_UNKNOWN_FIELD")
    if "kind" not in data:
        raise _bad("kind", "计划缺少选举类型 kind", "E_MISSING_FIELD")
    kind = get_kind(str(data["kind"]))
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _bad("title", "计划缺少标题 title", "E_MISSING_FIELD")

    anchor_key = kind.anchor
    other_anchor = "term_ends" if anchor_key == "election_day" else "election_day"
    if other_anchor in data:
        raise _bad(
            other_anchor, f"{kind.name}以 {anchor_key}（{kind.anchor_name}）为基准，不使用 {other_anchor}"
        )
    if anchor_key not in data:
        raise _bad(anchor_key, f"计划缺少{kind.anchor_name} {anchor_key}", "E_MISSING_ANCHOR")
    anchor = _as_date(data[anchor_key], anchor_key)

    statute = data.get("statute")
    if statute is not None:
        statute = str(statute)
        if statute not in kind.statutes:
            known = "、".join(kind.statutes) or "无"
            raise _bad("statute", f"未知的法律版本 {statute!r}（{kind.name}可用：{known}）")
    elif kind.statutes:
        statute = version_in_force(kind, anchor)  # the text in force on the anchor date

    jurisdiction = _parse_jurisdiction(data.get("jurisdiction"))
    # The statute version's article numbering and the province's variant (by code prefix).
    kind = resolve_kind(kind.key, jurisdiction=jurisdiction.code, on=anchor, statute=statute)

    milestones: dict[str, date] = {}
    raw_milestones = data.get("milestones", {})
    if not isinstance(raw_milestones, dict):
        raise _bad("milestones", "milestones 应为表（键 = 日期）")
    for key, value in raw_milestones.items():
        field_name = f"milestones.{key}"
        spec = kind.milestones.get(key)
        if spec is None:
            raise _bad(field_name, f"{kind.name}没有节点 {key!r}", "E_UNKNOWN_MILESTONE")
        if spec.computed:
            raise _bad(field_name, f"「{spec.name}」由法律计算，不能在计划中设定")
        milestones[key] = _as_date(value, field_name)

    phases: dict[str, PhaseWindow] = {}
    raw_phases = data.get("phases", {})
    if not isinstance(raw_phases, dict):
        raise _bad("phases", "phases 应为表")
    for key, value in raw_phases.items():
        field_name = f"phases.{key}"
        if key not in kind.phase_keys:
            raise _bad(field_name, f"{kind.name}没有阶段 {key!r}", "E_UNKNOWN_PHASE")
        if not isinstance(value, dict) or set(value) - {"start", "end"}:
            raise _bad(field_name, f"{field_name} 只能有 start 和 end")
        start = _as_date(value["start"], f"{field_name}.start") if "start" in value else None
        end = _as_date(value["end"], f"{field_name}.end") if "end" in value else None
        if start and end and end < start:
            raise _bad(field_name, f"{field_name} 的结束日期早于开始日期")
        phases[key] = PhaseWindow(start, end)

    parent = data.get("parent_election")
    if parent is not None and (not isinstance(parent, int) or parent <= 0):
        raise _bad("parent_election", "parent_election 应为上级选举的编号（正整数）")

    members = _parse_members(kind, data.get("members"))
    seats = _parse_seats(kind, data.get("seats"), members)
    return Plan(kind, title.strip(), jurisdiction, anchor, statute, milestones, phases, parent, seats, members)


def no_committee_rule(kind: KindSpec, members: int | None) -> str | None:
    """The rule (source：text) when a branch of `members` full members has no committee
    (`[candidates] no_committee_below_members`), else None."""
    below = kind.candidates.get("no_committee_below_members")
    if below is None or members is None or members >= below:
        return None
    return f"{kind.candidates['no_committee_source']}：{kind.candidates['no_committee_text']}"


def _parse_members(kind: KindSpec, value: Any) -> int | None:
    if value is None:
        return None
    if "no_committee_below_members" not in kind.candidates:
        raise _bad("members", f"{kind.name}不使用 members（正式党员人数）")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad("members", f"members 应为正整数（正式党员人数），收到 {value!r}")
    return value


def _parse_seats(kind: KindSpec, value: Any, members: int | None = None) -> int | None:
    """The plan's number of members to elect, within the kind's lawful committee size
    (`[candidates] committee_min`/`committee_max`, cited by `committee_source`); a party
    branch too small for a committee elects only its secretary (and, if needed, a deputy)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad("seats", f"seats 应为正整数，收到 {value!r}")
    c = kind.candidates
    if not any(k in c for k in ("committee_min", "committee_max", "no_committee_below_members")):
        # Seats elsewhere are per district (the districts' seats) or per vacancy: a plan-wide
        # number would be read as every list's seats.
        raise _bad("seats", f"{kind.name}不使用 seats：应选名额按选区（或出缺名额）确定，不在计划中填写")
    no_committee = no_committee_rule(kind, members)
    if no_committee is not None:
        most = kind.candidates["no_committee_max_seats"]
        if value > most:
            raise _bad(
                "seats",
                f"正式党员 {members} 人，不设支部委员会，只选书记（必要时副书记）至多 {most} 名，"
                f"计划应选 {value} 名（{no_committee}）",
                "E_SEATS_OUT_OF_RANGE",
            )
        return value
    low, high = kind.candidates.get("committee_min"), kind.candidates.get("committee_max")
    if (low is not None and value < low) or (high is not None and value > high):
        source = kind.candidates.get("committee_source") or kind.name
        raise _bad(
            "seats",
            f"{kind.name}应选 {value} 名，不符合{source}：委员会由 {low}–{high} 人组成",
            "E_SEATS_OUT_OF_RANGE",
        )
    return value


def _parse_jurisdiction(value: Any) -> JurisdictionRef:
    if value is None:
        raise _bad("jurisdiction", "计划缺少行政区域 jurisdiction", "E_MISSING_FIELD")
    if isinstance(value, str | int):
        return JurisdictionRef(code=str(value))
    if isinstance(value, dict):
        unknown = set(value) - {"code", "name", "level", "parent"}
        if unknown:
            raise _bad(f"jurisdiction.{sorted(unknown)[0]}", "jurisdiction 中有未知字段")
        if "code" not in value:
            raise _bad("jurisdiction.code", "jurisdiction 缺少代码 code", "E_MISSING_FIELD")
        level = value.get("level")
        if level is not None and level not in _LEVELS:
            raise _bad("jurisdiction.level", f"未知的行政层级 {level!r}（可用：{'、'.join(_LEVELS)}）")
        return JurisdictionRef(
            code=str(value["code"]),
            name=value.get("name"),
            level=level,
            parent=None if value.get("parent") is None else str(value["parent"]),
        )
    raise _bad("jurisdiction", "jurisdiction 应为代码或表")


LEVELS = _LEVELS
