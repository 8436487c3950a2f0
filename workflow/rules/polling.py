"""Voting away from the polling station, pure: proxies (EL 42; VCL 15 for villages) and mobile
ballot boxes (EL 38, 43). The limits are the kind's `[counting]` data (`CandidateRules`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workflow.errors import DomainError
from workflow.rules.candidates import CLOSE_RELATIVES, CandidateRules, mask_id


# -- proxies (EL 42) and mobile boxes (EL 38) --------------------------------------------------
@dataclass(frozen=True)
class ProxyRequest:
    grantor_id: str  # normalised
    holder_id: str
    consent_document: str  # the written authorisation (书面委托) on file
    approved: bool  # the committee's consent (经选举委员会同意)
    relationship: str | None = None


def check_proxy(
    rules: CandidateRules,
    request: ProxyRequest,
    holder_count: int,
    grantor_count: int,
    holder_is_candidate: bool = False,
) -> None:
    """EL 42: written, approved, at most `proxy_max` per holder; VCL 2018 art. 15: close
    relatives only; VCL 2025 art. 18 / RCL 2025 art. 19: no candidate may hold a proxy."""
    if rules.proxy_max == 0:  # e.g. RCL 2025 art. 19 ¶4: none when the representatives vote
        way = f"本次选举采取「{rules.voting_method_name}」方式，" if rules.voting_method_name else ""
        raise DomainError(
            "E_PROXY_NOT_ALLOWED",
            f"{way}不实行委托投票（{rules.proxy_source or rules.cite('proxy')}）",
            "grantor",
        )
    if request.grantor_id == request.holder_id:
        raise DomainError("E_PROXY_SELF", "委托人与受托人不能是同一人", "holder")
    if rules.proxy_candidates_barred and holder_is_candidate:
        raise DomainError(
            "E_PROXY_HOLDER_IS_CANDIDATE", f"候选人不得接受委托投票（{rules.proxy_source}）", "holder"
        )
    if not request.consent_document.strip():
        raise DomainError(
            "E_PROXY_NO_CONSENT",
            f"委托投票须有书面委托（{rules.cite('proxy')}），请登记委托书编号",
            "consent",
        )
    if not request.approved:
        raise DomainError(
            "E_PROXY_NOT_APPROVED", f"委托投票须经选举委员会同意（{rules.cite('proxy')}）", "approved"
        )
    if grantor_count > 0:
        raise DomainError("E_PROXY_DUPLICATE", f"委托人 {mask_id(request.grantor_id)} 已登记委托", "grantor")
    if rules.proxy_max is not None and holder_count + 1 > rules.proxy_max:
        raise DomainError(
            "E_PROXY_LIMIT",
            f"受托人 {mask_id(request.holder_id)} 已接受 {holder_count} 人委托，每一选民接受的委托不得超过"
            f" {rules.proxy_max} 人（{rules.cite('proxy')}）",
            "holder",
        )
    if rules.proxy_close_relatives_only and (request.relationship or "").strip() not in CLOSE_RELATIVES:
        raise DomainError(
            "E_PROXY_NOT_RELATIVE",
            f"村民只能书面委托本村有选举权的近亲属代为投票（{rules.proxy_source}）",
            "relationship",
        )


def check_mobile_box(
    rules: CandidateRules,
    scrutineers: Sequence[str],
    candidate_names: Iterable[str],
    staff: Sequence[str] = (),
    relatives: Sequence[tuple[str, str, str]] = (),
) -> list[str]:
    """At least the province's number of people and of distinct scrutineers (the kind's
    variant data, e.g. Zhejiang art. 40 ¶4; EL 38 itself fixes none); no candidate scrutinises,
    nor a candidate's close relative (EL 43 ¶2; `relatives`: the declared (scrutineer,
    candidate, relationship) ties). Returns the cleaned scrutineer names."""
    candidate_names = list(candidate_names)
    cleaned = [s.strip() for s in scrutineers if s.strip()]
    if len(set(cleaned)) != len(cleaned):
        raise DomainError("E_DUPLICATE_SCRUTINEER", "监票人重复", "scrutineers")
    cited = f"（{rules.mobile_box_source}）" if rules.mobile_box_source else ""
    if rules.mobile_box_min_scrutineers is not None and len(cleaned) < rules.mobile_box_min_scrutineers:
        raise DomainError(
            "E_TOO_FEW_SCRUTINEERS",
            f"流动票箱至少须有 {rules.mobile_box_min_scrutineers} 名监票人{cited}，本次仅 {len(cleaned)} 名",
            "scrutineers",
        )
    clash = sorted(set(cleaned) & set(candidate_names))
    if clash:
        raise DomainError(
            "E_SCRUTINEER_IS_CANDIDATE",
            f"{'、'.join(clash)} 是候选人，不能担任监票人"
            + (f"（{rules.cite('scrutineer_conflict')}）" if rules.cite("scrutineer_conflict") else ""),
            "scrutineers",
        )
    check_scrutineer_relatives(rules, cleaned, candidate_names, relatives)
    people = set(cleaned) | {s.strip() for s in staff if s.strip()}
    if rules.mobile_box_min_staff is not None and len(people) < rules.mobile_box_min_staff:
        raise DomainError(
            "E_TOO_FEW_MOBILE_BOX_STAFF",
            f"流动票箱须有 {rules.mobile_box_min_staff} 名以上工作人员负责（含监票人）{cited}，本次仅 {len(people)} 名",
            "staff",
        )
    return cleaned


def check_scrutineer_relatives(
    rules: CandidateRules,
    scrutineers: Iterable[str],
    candidate_names: Iterable[str],
    relatives: Sequence[tuple[str, str, str]],
) -> None:
    """A candidate's close relative (spouse, parents, children, siblings, grandparents,
    grandchildren) may not be a scrutineer or counter (EL 43 ¶2, cited from the kind): each
    declared (person, candidate, relationship) tie of a scrutineer to a candidate is refused."""
    names = {n.strip() for n in scrutineers}
    candidates = {c.strip() for c in candidate_names}
    for person, candidate, relationship in relatives:
        person, candidate, relationship = person.strip(), candidate.strip(), relationship.strip()
        if person in names and candidate in candidates and relationship in CLOSE_RELATIVES:
            cited = rules.cite("scrutineer_conflict")
            raise DomainError(
                "E_SCRUTINEER_IS_RELATIVE",
                f"{person} 是候选人 {candidate} 的{relationship}（近亲属），不能担任监票人、计票人"
                + (f"（{cited}）" if cited else ""),
                "scrutineers",
            )
