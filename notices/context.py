"""A template's context from plain data, pure: the election as a dict, the parts' data rows.

`workflow.commands.notice_data` fetches the stored election and the data each template needs
(voters, candidates, results: docs/notices.md, "Data providers") and calls `assemble` here. This
module only checks the request, cleans the rows (no addresses, masked ID numbers) and lays out
the document's fields: no database, no clock.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from notices.catalog import Numbering, Scope, TemplateSpec
from notices.render import mask_id
from workflow.errors import DomainError
from workflow.events import jsonable

# Never printed in a notice (DESIGN.md §6); ID numbers are masked instead.
PRIVATE_KEYS = frozenset({"address", "home_address", "phone", "mobile", "email", "household"})
ID_KEYS = frozenset({"id_number", "id_card", "identity_number"})


# Notices that print every district's seats (and add them up).
SEATED = frozenset({"quota_allocation", "districts_published"})


def sanitize(value: Any) -> Any:
    """Drop addresses and phone numbers, mask ID numbers, dates as ISO strings."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in PRIVATE_KEYS:
                continue
            if key in ID_KEYS:
                out[key] = mask_id(item)
            elif isinstance(item, str | int | float | bool) or item is None:
                out[key] = item  # the common case, kept cheap: voter rows are millions
            elif isinstance(item, date):
                out[key] = item.isoformat()
            else:
                out[key] = sanitize(item)
        return out
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value]
    return jsonable(value)


# -- the election's own data ----------------------------------------------------------------
def issuer(election: dict, spec: TemplateSpec) -> str:
    """Who signs: the election committee, or the party organisation. `election` is the dict of
    `workflow.commands.notice_data.election_data`."""
    place = election["jurisdiction"]
    if spec.numbering is Numbering.PARTY or election["kind"] == "party_branch":
        name = place["name"]
        if name.endswith("党支部"):
            return "中共" + name[: -len("党支部")] + "支部委员会"
        return name if name.startswith("中共") else f"中共{name}委员会"
    # The body the statute names, where it names one (the kind's [texts] `committee`: 居民选举委员会
    # under RCL 2025 art. 15, 村民选举委员会 under VCL 2018 art. 12 / 2025 art. 15), not the
    # congress election's generic 选举委员会.
    body = (election.get("texts") or {}).get("committee")
    if body:
        recorded = place["committee"] or ""
        return recorded if recorded.endswith(body) else f"{place['name']}{body}"
    return place["committee"] or f"{place['name']}选举委员会"


def abbreviation(place_name: str) -> str:
    """The committee's one-character short name used in document numbers (京山县 → 京)."""
    return place_name[:1]


def number_prefix(place_name: str, kind: str, spec: TemplateSpec) -> str | None:
    abbr = abbreviation(place_name)
    if spec.numbering is Numbering.NOTICE:
        return f"{abbr}居选公" if kind == "residents_committee" else f"{abbr}选公"
    if spec.numbering is Numbering.PARTY:
        return f"{abbr}党支"
    return None


# A committee numbers its notices per year (京选公〔2026〕3号: GB/T 9704-2012 7.2.4) or per round
# (第3号, the common form of an election committee's 公告: one run for the whole round, across 1 January).
NUMBERING_MODES = ("year", "round")


def format_number(prefix: str, year: int, seq: int, mode: str = "year") -> str:
    """Per year: year in hexagonal brackets 〔〕, serial without padding or 第 (GB/T 9704-2012
    7.2.4). Per round: 第<n>号."""
    if mode == "round":
        return f"第{seq}号"
    return f"{prefix}〔{year}〕{seq}号"


def heading_lines(spec: TemplateSpec, by: str) -> list[str]:
    """The title, in the lines it is printed on: a long 请示/报告 title breaks after the issuer,
    never inside a word (GB/T 9704-2012 7.3.1: 回行时要做到词意完整)."""
    match spec.key:
        case "party_request":
            return [by, "关于召开党员大会进行换届选举的请示"]
        case "party_results_report":
            return [by, "关于换届选举结果的报告"]
        case "voter_certificate" | "certificate_of_election":
            return [spec.name]
        case "deadline_warning":
            return ["换届选举工作期限提醒"]
        case _:
            return [f"{by}公告"]


def heading(spec: TemplateSpec, by: str) -> str:
    return "".join(heading_lines(spec, by))


def bound_source(election: dict, template: str) -> str:
    for milestone in election["milestones"].values():
        if milestone.get("template") == template:
            return milestone.get("source") or ""
    return ""


def addressee(spec: TemplateSpec, election: dict, data: dict) -> str | None:
    """Whom a party branch's 请示 or 报告 goes to: its higher organisation (《中国共产党基层组织选举工作条例》: the
    branch asks the higher party organisation before its assembly), as the branch's record or its data
    give it. A document is never addressed to a guessed organisation."""
    if spec.numbering is not Numbering.PARTY:
        return None
    branch = data.get("party_branch") or {}
    results = data.get("results") or [{}]
    superior = branch.get("superior") or results[0].get("superior") or election["jurisdiction"].get("superior")
    if not superior:
        raise DomainError(
            "E_NO_SUPERIOR",
            f"尚未登记党支部的上级党组织，无法生成{spec.name}；请在公告设置中填写「上级党组织」",
            "superior_org",
        )
    return superior


def check_request(spec: TemplateSpec, kind: str, kind_name: str, district: str | None, date_style: str) -> None:
    """Refuse a template that does not fit the election's kind, scope or date style."""
    if kind not in spec.kinds:
        raise DomainError("E_TEMPLATE_KIND", f"{spec.name}不适用于{kind_name}", "template")
    if spec.scope is Scope.DISTRICT and not district:
        raise DomainError(
            "E_DISTRICT_REQUIRED", f"{spec.name}按选区生成，请用 --district 指定选区", "district"
        )
    if spec.scope is Scope.ELECTION and district:
        raise DomainError("E_DISTRICT_NOT_APPLICABLE", f"{spec.name}面向整个选举，不按选区生成", "district")
    if date_style not in ("arabic", "chinese"):
        raise DomainError(
            "E_BAD_DATE_STYLE", "日期样式只能是 arabic（阿拉伯数字）或 chinese（汉字）", "date_style"
        )


def check_district_known(rows: list[dict] | None, district: str | None) -> None:
    """A district the districts data does not list is named as unknown, not as "no voters"."""
    if rows and district and not any(row.get("code") == district for row in rows):
        raise DomainError("E_UNKNOWN_DISTRICT", f"本次选举没有选区 {district}", "district")


def check_seated(spec: TemplateSpec, districts: list[dict] | None) -> None:
    if spec.key in SEATED and districts:  # EL 25: every district elects 1–3 deputies
        unseated = [row.get("code") for row in districts if not row.get("seats")]
        if unseated:
            raise DomainError(
                "E_NO_DATA", f"选区 {'、'.join(unseated)} 尚未确定应选代表名额，无法生成{spec.name}", "template"
            )


def check_allocation(spec: TemplateSpec, data: dict) -> None:
    """The quota notice prints the recorded allocation (its seats add up to the recorded total)
    or, without one, the districts' seats (each district seated)."""
    allocation = data.get("allocation")
    if not allocation:
        if not data.get("districts"):
            raise DomainError("E_NO_DATA", f"尚无代表名额分配数据或选区数据，无法生成{spec.name}", "template")
        check_seated(spec, data.get("districts"))
        return
    if allocation.get("units") is None:  # a township's total, printed with its districts' seats
        districts = data.get("districts") or []
        if not districts:
            raise DomainError("E_NO_DATA", f"尚无选区数据，无法生成{spec.name}", "template")
        check_seated(spec, districts)
        given = sum(int(row.get("seats") or 0) for row in districts)
        if given != allocation.get("total"):  # EL 25: the districts elect the whole total
            raise DomainError(
                "E_ALLOCATION_MISMATCH",
                f"各选区应选代表名额合计 {given} 名与代表总名额 {allocation.get('total')} 名不符，无法生成{spec.name}",
                "allocation",
            )
        return
    units = allocation.get("units") or []
    given = sum(int(u.get("seats") or 0) for u in units)
    if not units or given != allocation.get("total"):
        raise DomainError(
            "E_ALLOCATION_MISMATCH",
            f"代表名额分配合计 {given} 名与代表总名额 {allocation.get('total')} 名不符，无法生成{spec.name}",
            "allocation",
        )
    unseated = [u.get("name") for u in units if not u.get("seats")]
    if unseated:  # EL 15: every township, however small, has at least one deputy
        raise DomainError("E_NO_DATA", f"{'、'.join(unseated)} 未分配代表名额（选举法第十五条：至少应有代表一人）", "allocation")


def assemble(
    spec: TemplateSpec,
    election: dict,
    data: dict[str, Any],
    *,
    district: str | None,
    issued_on: date,
    number: str | None,
    date_style: str,
    options: dict | None,
    draft: bool = False,
    wording: list[str] | None = None,
) -> dict:
    """Everything the template renders from, as JSON-friendly data (stored with the notice).
    `draft`: a preview, printed with the 样稿 mark; `wording`: the committee's own lead
    paragraphs (replacing the template's)."""
    if spec.key == "quota_allocation":
        check_allocation(spec, data)
    else:
        check_seated(spec, data.get("districts"))
    by = issuer(election, spec)
    to = addressee(spec, election, data)
    district_info = None
    if district:
        district_info = {"code": district, "name": district}
        for row in data.get("districts") or []:
            if row.get("code") == district:
                district_info = {"code": district, "name": row.get("name") or district}
                break
    context = {
        "template": spec.key,
        "template_name": spec.name,
        "doc": {
            "heading": heading(spec, by),
            "heading_lines": heading_lines(spec, by),
            "number": number,
            "issuer": by,
            "addressee": to,
            "issued_on": issued_on.isoformat(),
            "date_style": date_style,
            "public": spec.public,
            "draft": draft,
            # the bound milestone's legal source (config/kinds/*.toml), cited by the template
            "source": bound_source(election, spec.key),
            "wording": list(wording or []),
        },
        "election": election,
        "district": district_info,
        "data": data,
        "options": jsonable(options or {}),
    }
    if spec.key == "deadline_warning":
        context["warning"] = warning_data(election, (options or {}).get("milestone"), issued_on)
    return context


def warning_data(election: dict, milestone: str | None, today: date) -> dict:
    """The milestone a warning is about: the one named, else the nearest pending deadline."""
    milestones = election["milestones"]
    if milestone is None:
        pending = [
            (m["latest"], key)
            for key, m in milestones.items()
            if m["status"] == "pending" and m["latest"] and m["latest"] >= today.isoformat()
        ]
        if not pending:
            raise DomainError("E_NO_DEADLINE", "该选举没有尚未办理的法定期限，无需提醒", "milestone")
        milestone = min(pending)[1]
    if milestone not in milestones:
        raise DomainError("E_UNKNOWN_MILESTONE", f"该选举没有节点 {milestone!r}", "milestone")
    m = milestones[milestone]
    if not m["latest"]:
        raise DomainError("E_NO_DEADLINE", f"「{m['name']}」没有法定最迟期限", "milestone")
    days_left = (date.fromisoformat(m["latest"]) - today).days
    return {"key": milestone, **m, "days_left": days_left, "today": today.isoformat()}
