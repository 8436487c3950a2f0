"""Build a template's context from the stored election and the registered data providers.

The election's own data (jurisdiction, committee, dates, milestones) is always there. Voters,
candidates and results belong to other parts of huanjie; they register a provider here:

    register_provider("voters", fn)   # fn(session, election, district_code) -> list | dict

A template that needs a provider which is not registered, or which returns nothing, is refused
with E_NO_DATA: a notice is never printed with an invented or empty list. Provider shapes are
documented in docs/notices.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from notices.catalog import PROVIDER_NAMES, Numbering, Scope, TemplateSpec, get_spec
from notices.render import mask_id
from workflow.errors import DomainError
from workflow.events import jsonable
from workflow.kinds import get_kind
from workflow.store.models import Election, Jurisdiction

Provider = Callable[[Session, Election, str | None], Any]
_PROVIDERS: dict[str, Provider] = {}

# Never printed in a notice (DESIGN.md §6); ID numbers are masked instead.
PRIVATE_KEYS = frozenset({"address", "home_address", "phone", "mobile", "email", "household"})
ID_KEYS = frozenset({"id_number", "id_card", "identity_number"})


# Notices that print every district's seats (and add them up).
SEATED = frozenset({"quota_allocation", "districts_published"})


def register_provider(name: str, fn: Provider) -> None:
    """Make data of `name` (voters, districts, results …) available to notices."""
    if name not in PROVIDER_NAMES:
        raise ValueError(f"unknown provider {name!r}; known: {sorted(PROVIDER_NAMES)}")
    _PROVIDERS[name] = fn


def unregister_provider(name: str) -> None:
    _PROVIDERS.pop(name, None)


def registered(name: str) -> bool:
    return name in _PROVIDERS


def call_provider(name: str, session: Session, election: Election, district: str | None):
    return _PROVIDERS[name](session, election, district)


@contextmanager
def providers(**fns: Provider) -> Iterator[None]:
    """Temporarily register providers (tests, benchmarks); the previous ones come back after."""
    saved = dict(_PROVIDERS)
    try:
        for name, fn in fns.items():
            register_provider(name, fn)
        yield
    finally:
        _PROVIDERS.clear()
        _PROVIDERS.update(saved)


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
def issuer(election: Election, spec: TemplateSpec) -> str:
    place = election.jurisdiction
    if spec.numbering is Numbering.PARTY or election.kind == "party_branch":
        name = place.name
        if name.endswith("党支部"):
            return "中共" + name[: -len("党支部")] + "支部委员会"
        return name if name.startswith("中共") else f"中共{name}委员会"
    return place.committee_name or f"{place.name}选举委员会"


def abbreviation(place: Jurisdiction) -> str:
    """The committee's one-character short name used in document numbers (京山县 → 京)."""
    return place.name[:1]


def number_prefix(election: Election, spec: TemplateSpec) -> str | None:
    abbr = abbreviation(election.jurisdiction)
    if spec.numbering is Numbering.NOTICE:
        return f"{abbr}居选公" if election.kind == "residents_committee" else f"{abbr}选公"
    if spec.numbering is Numbering.PARTY:
        return f"{abbr}党支"
    return None


def format_number(prefix: str, year: int, seq: int) -> str:
    """GB/T 9704-2012 7.2.4: year in hexagonal brackets 〔〕, serial without padding or 第."""
    return f"{prefix}〔{year}〕{seq}号"


def heading(election: Election, spec: TemplateSpec, by: str) -> str:
    match spec.key:
        case "party_request":
            return f"{by}关于召开党员大会进行换届选举的请示"
        case "party_results_report":
            return f"{by}关于换届选举结果的报告"
        case "voter_certificate" | "certificate_of_election":
            return spec.name
        case "deadline_warning":
            return "换届选举工作期限提醒"
        case _:
            return f"{by}公告"


def election_data(election: Election) -> dict:
    kind = get_kind(election.kind)
    place = election.jurisdiction
    milestones = {}
    for m in election.milestones:
        spec = kind.milestones[m.key]
        milestones[m.key] = {
            "name": spec.name,
            "source": spec.source,
            "text": spec.text,
            "planned": m.planned_date,
            "earliest": m.earliest,
            "latest": m.latest,
            "status": m.status,
            "done_on": m.done_on,
            "template": spec.template,
        }
    parent = place.parent
    return jsonable(
        {
            "id": election.id,
            "title": election.title,
            "kind": election.kind,
            "kind_name": kind.name,
            "anchor": kind.anchor,
            "anchor_name": kind.anchor_name,
            "anchor_date": election.anchor_date,
            "statute": election.statute,
            "state": election.state,
            "jurisdiction": {
                "code": place.code,
                "name": place.name,
                "level": place.level,
                "committee": place.committee_name,
                "parent": parent.name if parent else None,
            },
            "milestones": milestones,
        }
    )


def _fetch(session: Session, election: Election, spec: TemplateSpec, name: str, district: str | None):
    required = name in spec.needs
    fn = _PROVIDERS.get(name)
    if fn is None:
        if required:
            raise DomainError("E_NO_DATA", f"尚无{PROVIDER_NAMES[name]}，无法生成{spec.name}", "template")
        return None
    value = fn(session, election, district)
    if required and not value:
        where = f"选区 {district} " if district else ""
        raise DomainError("E_NO_DATA", f"{where}尚无{PROVIDER_NAMES[name]}，无法生成{spec.name}", "district")
    return sanitize(value) if value is not None else None


def build_context(
    session: Session,
    election: Election,
    template: str,
    *,
    district: str | None = None,
    issued_on: date,
    number: str | None = None,
    date_style: str = "arabic",
    options: dict | None = None,
) -> dict:
    """Everything `template` renders from, as JSON-friendly data (stored with the notice)."""
    spec = get_spec(template)
    if election.kind not in spec.kinds:
        raise DomainError(
            "E_TEMPLATE_KIND",
            f"{spec.name}不适用于{get_kind(election.kind).name}",
            "template",
        )
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
    data: dict[str, Any] = {}
    names = (*spec.needs, *spec.optional)
    # Districts first: an unknown district is named as such, not as "no voters".
    for name in sorted(names, key=lambda n: n != "districts"):
        data[name] = _fetch(session, election, spec, name, district)
        known = data[name] if name == "districts" and district else None
        if known and not any(row.get("code") == district for row in known):
            raise DomainError("E_UNKNOWN_DISTRICT", f"本次选举没有选区 {district}", "district")
    if spec.key in SEATED and data.get("districts"):  # EL 25: every district elects 1–3 deputies
        unseated = [row.get("code") for row in data["districts"] if not row.get("seats")]
        if unseated:
            raise DomainError(
                "E_NO_DATA", f"选区 {'、'.join(unseated)} 尚未确定应选代表名额，无法生成{spec.name}", "template"
            )
    by = issuer(election, spec)
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
            "heading": heading(election, spec, by),
            "number": number,
            "issuer": by,
            "issued_on": issued_on.isoformat(),
            "date_style": date_style,
            "public": spec.public,
        },
        "election": election_data(election),
        "district": district_info,
        "data": data,
        "options": jsonable(options or {}),
    }
    if spec.key == "deadline_warning":
        context["warning"] = warning_data(context["election"], (options or {}).get("milestone"), issued_on)
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
