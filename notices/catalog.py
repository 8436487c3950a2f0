"""Every notice huanjie can issue: its name, which data it needs, how it is numbered.

Kind configs bind a milestone to a notice with `template = "<key>"`; publishing that notice
completes the milestone. Bump `version` when a template's wording changes in substance (the
stored notice also keeps the SHA-256 of the template files).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflow.errors import DomainError


class Numbering(StrEnum):
    NOTICE = "notice"  # 公告: 京选公〔2026〕3号
    PARTY = "party"  # party branch documents: 京党支〔2026〕1号
    CERTIFICATE = "certificate"  # one serial per certificate, no document number
    NONE = "none"  # messages to staff


class Scope(StrEnum):
    ELECTION = "election"  # one notice for the whole election
    DISTRICT = "district"  # one per electoral district (--district required)
    EITHER = "either"  # whole election, or one district when given


@dataclass(frozen=True)
class TemplateSpec:
    key: str
    name: str  # what staff call it, e.g. 选民名单公告
    kinds: tuple[str, ...]  # election kinds that use it
    numbering: Numbering = Numbering.NOTICE
    scope: Scope = Scope.ELECTION
    needs: tuple[str, ...] = ()  # data providers that must be registered
    optional: tuple[str, ...] = ()  # data providers used when registered
    public: bool = True  # posted publicly: ID numbers masked, no addresses
    version: int = 1
    # the milestone whose date a notice bound to none is dated by (certificates: the results')
    dated_by: str | None = None


PC = ("people_congress",)
SPECS: dict[str, TemplateSpec] = {
    s.key: s
    for s in [
        TemplateSpec("election_committee_formed", "选举委员会成立公告", PC, optional=("committee_members",)),
        # The recorded allocation (total decided with its document, seats per township, EL 15)
        # when an `allocation` provider gives it; else the districts' seats.
        TemplateSpec("quota_allocation", "代表名额分配方案公告", PC, optional=("allocation", "districts")),
        TemplateSpec("districts_published", "选区划分公告", PC, needs=("districts",)),
        TemplateSpec(
            "voter_list", "选民名单公告", PC, scope=Scope.DISTRICT, needs=("voters",), optional=("districts",)
        ),
        TemplateSpec(
            "voter_list_supplement",
            "选民补正名单公告",
            PC,
            scope=Scope.DISTRICT,
            needs=("voter_corrections",),
            optional=("districts",),
        ),
        TemplateSpec(
            "voter_certificate",
            "选民证",
            PC,
            numbering=Numbering.CERTIFICATE,
            scope=Scope.DISTRICT,
            needs=("voters",),
            optional=("districts",),
            public=False,
            dated_by="voter_list_published",  # 选民证 are issued with the published list (EL 28)
        ),
        TemplateSpec(
            "preliminary_candidates",
            "初步代表候选人名单公告",
            PC,
            scope=Scope.EITHER,
            needs=("preliminary_candidates",),
        ),
        TemplateSpec(
            "official_candidates",
            "正式代表候选人名单及基本情况公告",
            PC,
            scope=Scope.EITHER,
            needs=("official_candidates",),
        ),
        # Announced weeks before the vote, with the districts (docs/notices.md: not bound to the vote).
        TemplateSpec("election_day", "选举日公告", PC, optional=("districts",), dated_by="districts_published"),
        TemplateSpec("results", "选举结果公告", PC, scope=Scope.EITHER, needs=("results",)),
        TemplateSpec(
            "certificate_of_election",
            "当选证书",
            PC,
            numbering=Numbering.CERTIFICATE,
            scope=Scope.EITHER,
            needs=("results",),
            public=False,
            dated_by="results_published",  # 当选证书 follow the confirmed results (EL 46)
        ),
        TemplateSpec(
            "party_request",
            "换届选举请示",
            ("party_branch",),
            numbering=Numbering.PARTY,
            optional=("party_branch",),
            public=False,
        ),
        TemplateSpec(
            "party_results_report",
            "选举结果报告",
            ("party_branch",),
            numbering=Numbering.PARTY,
            needs=("results",),
            public=False,
        ),
        TemplateSpec("residents_announcement", "选举公告", ("residents_committee",), optional=("voters",)),
        TemplateSpec("residents_results", "选举结果公告", ("residents_committee",), needs=("results",)),
        TemplateSpec(
            "deadline_warning",
            "工作期限提醒",
            ("people_congress", "party_branch", "residents_committee", "village_committee"),
            numbering=Numbering.NONE,
            public=False,
        ),
    ]
}

# What a missing provider means, in the words staff read.
PROVIDER_NAMES = {
    "voters": "选民数据",
    "voter_corrections": "选民补正数据",
    "districts": "选区数据",
    "preliminary_candidates": "初步代表候选人数据",
    "official_candidates": "正式代表候选人数据",
    "results": "选举结果数据",
    "committee_members": "选举委员会组成人员数据",
    "party_branch": "党支部数据",
    "allocation": "代表名额分配数据",
}


def get_spec(key: str) -> TemplateSpec:
    try:
        return SPECS[key]
    except KeyError:
        known = "、".join(SPECS)
        raise DomainError(
            "E_UNKNOWN_TEMPLATE", f"没有名为 {key!r} 的公告模板（可用：{known}）", "template"
        ) from None
