"""Election kinds as data: load `config/kinds/*.toml`, validate, and expose a frozen spec.

A broken kind file fails with the file, the key and the rule that is broken. Everything the
engine knows about a kind (phases, milestones, statutory bounds with their sources, guards,
reminder lead times, quota and counting parameters) comes from here.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workflow.errors import DomainError
from workflow.rules.counting_params import CountingParams

KINDS_DIR = Path(__file__).resolve().parent.parent / "config" / "kinds"
VARIANTS = "variants"  # config/kinds/variants/*.toml: provincial variants (`extend = "<kind>"`)
ANCHOR = "anchor"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BoundSpec(_Strict):
    """A date relative to the anchor or to another milestone (its actual, else planned date)."""

    from_: str = Field(ANCHOR, alias="from")
    days: int = 0
    months: int = 0
    # When the referenced milestone has neither an actual nor a planned date, use the anchor.
    fallback: Literal["anchor"] | None = None


MILESTONE_TYPES = ("task", "cutoff", "filing", "deadline", "approval")
# task: an act the committee does (the default). cutoff: the last day an act by others is
# accepted (Zhejiang art. 29: late registration until E − 12); filing: "file within N days of
# X" (the last day to file, counted from X's date); deadline: a date the law fixes that other
# milestones must respect (`before`). The three are computed: the date is the bound itself.
# approval: "needs approval of Y before Z" — moving `approves` off its statutory bounds (up to
# `limit`, if the rule sets one) is lawful only with this approval done before it.
COMPUTED_TYPES = ("cutoff", "filing", "deadline")


class MilestoneSpec(_Strict):
    key: str
    type: Literal["task", "cutoff", "filing", "deadline", "approval"] = "task"
    name: str
    phase: str
    source: str  # law and article, e.g. 选举法第二十八条
    text: str  # the rule in words, e.g. 选民名单应在选举日的二十日以前公布
    latest: BoundSpec | None = None
    earliest: BoundSpec | None = None
    before: tuple[str, ...] = ()  # ordering without a day count: this one not after those
    # Done (or waived) before this one may be completed: "needs Y before Z", e.g. the deputies'
    # qualification review before the first session (EL 47 ¶2).
    requires: tuple[str, ...] = ()
    computed: bool = False  # the date is the bound itself; a plan may not set it
    missing: str | None = None  # what a refused guard says, e.g. 正式代表候选人名单尚未公布
    template: str | None = None  # notice published to complete this milestone
    approves: str | None = None  # approval: the milestone whose date it lets move
    approver: str | None = None  # approval: who approves, e.g. 本级选举委员会
    limit: BoundSpec | None = None  # approval: the furthest the approved date may move
    refuses: str | None = None  # cutoff/filing: the act refused after it, e.g. 补办选民登记

    @model_validator(mode="before")
    @classmethod
    def _typed(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") in COMPUTED_TYPES:
            data = {**data, "computed": True}
        return data

    @model_validator(mode="after")
    def _type_fields(self) -> MilestoneSpec:
        if self.type == "approval" and not (self.approves and self.approver):
            raise ValueError(f"milestones.{self.key}：approval 节点须有 approves 和 approver")
        if self.type != "approval" and (self.approves or self.approver or self.limit):
            raise ValueError(f"milestones.{self.key}：approves/approver/limit 只用于 approval 节点")
        return self

    @property
    def rule(self) -> str:
        return f"{self.source}：{self.text}"

    @property
    def missing_text(self) -> str:
        return self.missing or f"「{self.name}」尚未完成"


class PhaseSpec(_Strict):
    key: str
    name: str
    requires: tuple[str, ...] = ()  # milestones done (or waived) before this phase may start


class ClosingSpec(_Strict):
    name: str = "已结束"
    requires: tuple[str, ...] = ()


class RemindersSpec(_Strict):
    lead_days: tuple[int, ...] = (7, 3, 1)
    hour: int = 9
    escalate_after_days: int = 2

    @field_validator("hour")
    @classmethod
    def _hour(cls, value: int) -> int:
        if not 0 <= value <= 23:
            raise ValueError("hour 应在 0–23 之间")
        return value

    @field_validator("lead_days")
    @classmethod
    def _lead(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d <= 0 for d in value):
            raise ValueError("lead_days 必须为正整数")
        return tuple(sorted(set(value), reverse=True))


class QuotaRule(_Strict):
    base: int
    per: int  # one more seat per full `per` people
    cap: int
    small_population: int  # below this the law allows fewer than `base`
    source: str


class KindSpec(_Strict):
    key: str
    name: str
    version: int
    anchor: Literal["election_day", "term_ends"]
    anchor_name: str
    description: str = ""
    statutes: tuple[str, ...] = ()
    default_statute: str | None = None
    # How "选举日的N日以前" is counted: `before_anchor = "practice"` (E − N is lawful, as
    # published county schedules read it; CONTRACTS.md) or "strict" (N full days, E − N − 1);
    # `source` says where the reading comes from. `plan check` shows both where they differ.
    calendar: dict[str, Any] = {}
    phases: tuple[PhaseSpec, ...]
    closing: ClosingSpec = ClosingSpec()
    milestones: dict[str, MilestoneSpec]
    reminders: RemindersSpec = RemindersSpec()
    quota: dict[str, dict[str, QuotaRule]] = {}
    # The provincial addition to the quota (EL 12 ¶3): {max_percent, condition, source}.
    quota_extra: dict[str, Any] = {}
    # Citations the rules print (key → "选举法第二十五条第二款") and legal numbers they use
    # (e.g. district_seats = [1, 3]); both per statute version like everything else.
    citations: dict[str, str] = {}
    law: dict[str, Any] = {}
    # Statutory sentences the notices print word for word (key → sentence), per statute version
    # like the citations (e.g. who elects a residents' committee: RCL 2018 art. 8, 2025 art. 14).
    texts: dict[str, str] = {}
    counting: dict[str, Any] = {}
    candidates: dict[str, Any] = {}
    # Statute versions: key → {in_force = date, text = "…", plus overlay tables (milestones,
    # counting, candidates) merged over this file where that version's text differs, e.g. its
    # article numbering}. The version in force on the anchor date applies unless a plan names one.
    versions: dict[str, dict[str, Any]] = {}
    # Set on a resolved spec: the statute version and provincial variant applied, and where
    # each overridden value came from (dotted path → "statute 2010" / the variant's source).
    statute: str | None = None
    variant: str | None = None
    provenance: dict[str, str] = {}

    @model_validator(mode="before")
    @classmethod
    def _keys_into_milestones(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("milestones"), dict):
            data = dict(data)
            data["milestones"] = {
                key: ({"key": key, **value} if isinstance(value, dict) else value)
                for key, value in data["milestones"].items()
            }
        return data

    @field_validator("counting")
    @classmethod
    def _counting(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value:  # thresholds and ratios must parse (workflow/rules/counting_params.py)
            base = {k: v for k, v in value.items() if k != "methods"}
            CountingParams.from_table("", base)
            for method, overlay in value.get("methods", {}).items():
                try:
                    CountingParams.from_table("", {**base, **overlay})
                except ValueError as exc:
                    raise ValueError(f"methods.{method}：{exc}") from None
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> KindSpec:
        phase_keys = [p.key for p in self.phases]
        if len(set(phase_keys)) != len(phase_keys):
            raise ValueError("phases 中有重复的阶段键")
        if not phase_keys:
            raise ValueError("phases 不能为空")
        for key, milestone in self.milestones.items():
            if milestone.phase not in phase_keys:
                raise ValueError(f"milestones.{key}.phase：未知阶段 {milestone.phase!r}")
            for bound_name in ("latest", "earliest"):
                bound = getattr(milestone, bound_name)
                if bound and bound.from_ != ANCHOR and bound.from_ not in self.milestones:
                    raise ValueError(f"milestones.{key}.{bound_name}.from：未知节点 {bound.from_!r}")
            for other in milestone.before:
                if other not in self.milestones:
                    raise ValueError(f"milestones.{key}.before：未知节点 {other!r}")
            for other in milestone.requires:
                if other not in self.milestones or other == key:
                    raise ValueError(f"milestones.{key}.requires：未知节点 {other!r}")
            if milestone.approves and milestone.approves not in self.milestones:
                raise ValueError(f"milestones.{key}.approves：未知节点 {milestone.approves!r}")
            if milestone.limit and milestone.limit.from_ != ANCHOR and milestone.limit.from_ not in self.milestones:
                raise ValueError(f"milestones.{key}.limit.from：未知节点 {milestone.limit.from_!r}")
            if milestone.computed and milestone.latest is None:
                raise ValueError(f"milestones.{key}：computed 节点必须有 latest")
        for phase in self.phases:
            for req in phase.requires:
                if req not in self.milestones:
                    raise ValueError(f"phases.{phase.key}.requires：未知节点 {req!r}")
        for req in self.closing.requires:
            if req not in self.milestones:
                raise ValueError(f"closing.requires：未知节点 {req!r}")
        if self.statutes and self.default_statute not in self.statutes:
            raise ValueError("default_statute 必须是 statutes 之一")
        for version, overlay in self.versions.items():
            if version not in self.statutes:
                raise ValueError(f"versions.{version}：不在 statutes 中")
            if "in_force" not in overlay:
                raise ValueError(f"versions.{version}.in_force 缺失（该文本的施行日期）")
        self.bound_order()  # raises on a cycle
        return self

    # -- derived views -------------------------------------------------------------------
    def cite(self, key: str) -> str:
        """The citation of one of the kind's rules ("" when the kind has none)."""
        return self.citations.get(key, "")

    @property
    def phase_keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.phases)

    def phase(self, key: str) -> PhaseSpec:
        for phase in self.phases:
            if phase.key == key:
                return phase
        raise KeyError(key)

    def bound_order(self) -> list[str]:
        """Milestone keys so that every bound's reference comes before the milestone."""
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(key: str, path: tuple[str, ...]) -> None:
            if state.get(key) == 2:
                return
            if state.get(key) == 1:
                raise ValueError("节点期限的引用成环：" + " → ".join((*path, key)))
            state[key] = 1
            spec = self.milestones[key]
            for bound in (spec.latest, spec.earliest):
                if bound and bound.from_ != ANCHOR:
                    visit(bound.from_, (*path, key))
            state[key] = 2
            order.append(key)

        for key in self.milestones:
            visit(key, ())
        return order

    def approvals_of(self, key: str) -> tuple[MilestoneSpec, ...]:
        """The approval milestones that let `key` move off its statutory bounds."""
        return tuple(m for m in self.milestones.values() if m.approves == key)

    def requirements_of(self, target: str) -> tuple[str, ...]:
        """Milestones a transition into `target` (a phase key or "closed") requires."""
        if target == "closed":
            return self.closing.requires
        return self.phase(target).requires


# Keys a kind file may no longer set, each with why (defect 6: parsed, never used). Bounds are
# not moved off holidays: a planned date on a statutory holiday is a warning (CONTRACTS.md),
# and the seed's age limits for residents' committee chairs are local practice, not law.
_AGE_LIMIT = "候选人年龄上限是种子材料中的地方做法，不是法律规定，系统不据此拒绝候选人"
RETIRED_KEYS = {
    "holiday_shift": "法定期限不因节假日顺延，计划日期遇法定节假日只作提示（plan check 的警告）",
    "candidates.chair_age_limit": _AGE_LIMIT,
    "candidates.deputy_age_limit": _AGE_LIMIT,
}


def refuse_retired(data: dict[str, Any], source: str) -> None:
    """A DomainError naming the first retired key `data` (a kind file with its version overlays,
    or a variant) still sets, and why it is gone."""
    tables = [("", data)] + [
        (f"versions.{name}.", overlay)
        for name, overlay in (data.get("versions") or {}).items()
        if isinstance(overlay, dict)
    ]
    for prefix, table in tables:
        for dotted, reason in RETIRED_KEYS.items():
            head, _, leaf = dotted.rpartition(".")
            holder = table.get(head) if head else table
            if isinstance(holder, dict) and leaf in holder:
                where = prefix + dotted
                raise DomainError("E_KIND_INVALID", f"选举类型文件 {source} 的 {where} 已取消：{reason}", where)


def _format_location(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc if part not in ("function-after",))


def parse_kind(text: str, source: str) -> KindSpec:
    """Parse and validate one kind file; errors name the file, the key and the rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DomainError("E_KIND_SYNTAX", f"选举类型文件 {source} 不是有效的 TOML：{exc}") from exc
    refuse_retired(data, source)
    try:
        return KindSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _format_location(first["loc"]) or "(根)"
        message = first["msg"].removeprefix("Value error, ")
        raise DomainError(
            "E_KIND_INVALID", f"选举类型文件 {source} 的 {where} 有误：{message}", where
        ) from exc


def load_kind_file(path: Path) -> KindSpec:
    kind = parse_kind(path.read_text(encoding="utf-8"), str(path))
    if kind.key != path.stem:
        raise DomainError(
            "E_KIND_INVALID", f"选举类型文件 {path} 的 key 应与文件名一致（{path.stem}）", "key"
        )
    return kind


@cache
def all_kinds(directory: Path = KINDS_DIR) -> dict[str, KindSpec]:
    """Every kind in the directory, loaded once per process."""
    return {path.stem: load_kind_file(path) for path in sorted(directory.glob("*.toml"))}


def get_kind(key: str, directory: Path = KINDS_DIR) -> KindSpec:
    kinds = all_kinds(directory)
    try:
        return kinds[key]
    except KeyError:
        known = "、".join(kinds)
        raise DomainError("E_UNKNOWN_KIND", f"未知的选举类型 {key!r}（可用：{known}）", "kind") from None


# -- statute versions and provincial variants --------------------------------------------------
_OVERLAY_KEYS = {
    "milestones",
    "counting",
    "candidates",
    "name",
    "description",
    "quota",
    "quota_extra",
    "citations",
    "law",
    "texts",
}
_VARIANT_KEYS = {
    "in_force",
    "citations",
    "law",
    "variant",
    "extend",
    "name",
    "jurisdiction_prefix",
    "source",
    "description",
    "milestones",
    "counting",
    "candidates",
    "versions",
    "remove_milestones",
}


def _merge(
    base: dict[str, Any], overlay: dict[str, Any], origin: str, path: str, provenance: dict[str, str]
) -> dict[str, Any]:
    """`overlay` over `base`, tables merged key by key, anything else replaced; each replaced or
    added leaf recorded in `provenance` as coming from `origin`."""
    merged = dict(base)
    for key, value in overlay.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value, origin, where, provenance)
        else:
            merged[key] = value
            if key not in ("name", "description"):
                provenance[where] = origin
    return merged


@cache
def _kind_data(directory: Path = KINDS_DIR) -> dict[str, dict[str, Any]]:
    """Each base kind's raw TOML data (validated by `all_kinds`)."""
    return {
        path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.toml"))
    }


@cache
def _raw_variants(directory: Path = KINDS_DIR) -> dict[str, dict[str, Any]]:
    """Provincial variants (config/kinds/variants/*.toml), by file stem, read and checked for
    their keys: each must `extend` a kind and name the jurisdiction code prefix it applies to."""
    variants: dict[str, dict[str, Any]] = {}
    bases = all_kinds(directory)
    for path in sorted((directory / VARIANTS).glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DomainError("E_KIND_SYNTAX", f"选举类型文件 {path} 不是有效的 TOML：{exc}") from exc
        problems = [
            f"{key}（缺失）" for key in ("extend", "jurisdiction_prefix", "source", "name") if key not in data
        ]
        problems += sorted(set(data) - _VARIANT_KEYS)
        if problems:
            raise DomainError(
                "E_KIND_INVALID", f"地方变体 {path} 的键有误：{'、'.join(problems)}", problems[0]
            )
        if data["extend"] not in bases:
            raise DomainError(
                "E_KIND_INVALID", f"地方变体 {path} 扩展了未知的选举类型 {data['extend']!r}", "extend"
            )
        refuse_retired(data, str(path))
        variants[path.stem] = {"variant": path.stem, **data}
    return variants


def all_variants(directory: Path = KINDS_DIR) -> dict[str, KindSpec]:
    """Every provincial variant resolved over its kind under each statute version (each must
    validate), keyed "<variant>@<statute>" (or the variant's stem when the kind has none)."""
    result: dict[str, KindSpec] = {}
    for stem, data in _raw_variants(directory).items():
        base = get_kind(data["extend"], directory)
        for version in base.statutes or (None,):
            spec = _resolved(data["extend"], version, stem, directory)
            result[f"{stem}@{version}" if version else stem] = spec
    return result


def version_in_force(kind: KindSpec, on: date | None) -> str | None:
    """The statute version in force on `on` (the latest whose `in_force` is not after it); the
    earliest version for a date before them all; the kind's default without a date."""
    if not kind.versions:
        return kind.default_statute
    ordered = sorted(kind.versions, key=lambda v: kind.versions[v]["in_force"])
    if on is None:
        return kind.default_statute or ordered[-1]
    chosen = ordered[0]
    for version in ordered:
        if kind.versions[version]["in_force"] <= on:
            chosen = version
    return chosen


def _variant_for(key: str, jurisdiction: str | None, directory: Path, on: date | None = None) -> str | None:
    """The variant of `key` whose prefix is the longest that starts `jurisdiction` (and, when
    the variant gives `in_force`, only for an election on or after that date)."""
    if not jurisdiction:
        return None
    found = [
        (len(str(v["jurisdiction_prefix"])), stem)
        for stem, v in _raw_variants(directory).items()
        if v["extend"] == key
        and str(jurisdiction).startswith(str(v["jurisdiction_prefix"]))
        and (on is None or "in_force" not in v or v["in_force"] <= on)
    ]
    return max(found)[1] if found else None


@cache
def _resolved(key: str, statute: str | None, variant: str | None, directory: Path) -> KindSpec:
    base = get_kind(key, directory)
    data = _kind_data(directory)[key]
    provenance: dict[str, str] = {}
    if statute and statute in base.versions:
        overlay = {k: v for k, v in base.versions[statute].items() if k in _OVERLAY_KEYS}
        data = _merge(data, overlay, f"法律版本 {statute}", "", provenance)
    origin_name = None
    if variant:
        vdata = _raw_variants(directory)[variant]
        origin_name = vdata["source"]
        overlay = {k: v for k, v in vdata.items() if k in _OVERLAY_KEYS}
        data = _merge(data, overlay, origin_name, "", provenance)
        version_overlay = vdata.get("versions", {}).get(statute or "", {})
        data = _merge(
            data,
            {k: v for k, v in version_overlay.items() if k in _OVERLAY_KEYS},
            origin_name,
            "",
            provenance,
        )
        data = _without(data, tuple(vdata.get("remove_milestones", ())), origin_name, provenance)
    try:
        spec = KindSpec.model_validate(
            {**data, "statute": statute, "variant": variant, "provenance": provenance}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _format_location(first["loc"]) or "(根)"
        raise DomainError(
            "E_KIND_INVALID",
            f"选举类型 {key}（法律版本 {statute}，地方变体 {variant}）的 {where} 有误："
            f"{first['msg'].removeprefix('Value error, ')}",
            where,
        ) from exc
    for key in set(spec.milestones) - set(base.milestones):
        provenance.setdefault(f"milestones.{key}", origin_name or "")
    return spec


def _without(
    data: dict[str, Any], removed: tuple[str, ...], origin: str, provenance: dict[str, str]
) -> dict[str, Any]:
    """The kind's data without the milestones a variant removes, and without every guard and
    ordering that names them (a bound counted from a removed milestone stays an error)."""
    if not removed:
        return data
    unknown = [key for key in removed if key not in data.get("milestones", {})]
    if unknown:
        raise DomainError(
            "E_KIND_INVALID", f"地方变体删除了不存在的节点 {unknown[0]!r}", "remove_milestones"
        )

    def kept(keys: Any) -> list[str]:
        return [k for k in keys or () if k not in removed]

    milestones = {}
    for key, value in data["milestones"].items():
        if key in removed:
            provenance[f"milestones.{key}"] = f"{origin}（删除）"
            continue
        value = dict(value)
        for field in ("before", "requires"):
            if field in value:
                value[field] = kept(value[field])
        milestones[key] = value
    phases = [{**p, "requires": kept(p.get("requires"))} for p in data["phases"]]
    closing = dict(data.get("closing", {}))
    if "requires" in closing:
        closing["requires"] = kept(closing["requires"])
    return {**data, "milestones": milestones, "phases": phases, "closing": closing}


def resolve_kind(
    key: str,
    *,
    jurisdiction: str | None = None,
    on: date | None = None,
    statute: str | None = None,
    directory: Path = KINDS_DIR,
) -> KindSpec:
    """The kind as it applies to one election: the statute version (`statute`, else the one in
    force on `on`) and the provincial variant for the jurisdiction code, merged over the kind.
    `provenance` on the result says where each overridden value came from."""
    base = get_kind(key, directory)
    version = statute or version_in_force(base, on)
    return _resolved(key, version, _variant_for(key, jurisdiction, directory, on), directory)


def counting_table(spec: KindSpec, method: str | None = None) -> dict[str, Any]:
    """The kind's `[counting]` table, with the overlay of a voting method where the kind offers
    several (`[counting.methods.<method>]`, e.g. RCL 2025 art. 19 ¶1: households or residents'
    representatives); an unknown method is a DomainError listing the kind's."""
    table = {k: v for k, v in spec.counting.items() if k != "methods"}
    if method is None:
        return table
    methods = spec.counting.get("methods", {})
    if method not in methods:
        known = "、".join(methods) or "无"
        raise DomainError("E_UNKNOWN_METHOD", f"{spec.name}没有选举方式 {method!r}（可用：{known}）", "method")
    overlay = methods[method]
    merged = {**table, **{k: v for k, v in overlay.items() if k not in ("sources", "name")}}
    merged["sources"] = {**table.get("sources", {}), **overlay.get("sources", {})}
    return merged


def counting_params(kind: str | KindSpec, method: str | None = None) -> CountingParams:
    """A kind's counting rules (from its key or its spec), for a voting method where given; a
    broken table is a DomainError naming the key."""
    spec = get_kind(kind) if isinstance(kind, str) else kind
    try:
        return CountingParams.from_table(spec.key, counting_table(spec, method))
    except ValueError as exc:
        raise DomainError(
            "E_KIND_INVALID", f"选举类型 {spec.key} 的计票参数有误：{exc}", "counting"
        ) from None


def kind_of_election(election: Any) -> KindSpec:
    """The kind as it applies to a stored election (anything with `kind`, `jurisdiction.code`,
    `anchor_date` and `statute`): its statute version and its province's variant, whose
    milestones (a variant may add some) are the election's milestone rows."""
    return resolve_kind(
        election.kind,
        jurisdiction=election.jurisdiction.code,
        on=election.anchor_date,
        statute=election.statute,
    )
