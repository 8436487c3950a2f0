"""Candidates, pure: competitive ratio, nomination limits, committee conflicts and primaries
(预选); the list's structure report is in `candidate_structure`, proxies and mobile ballot boxes
in `polling`.
Exact integers and fractions only.

The numbers are data: a kind's `[candidates]` table (ratio bounds, voter nominators, structure
targets) and `[counting]` table (proxy and mobile-box limits). Bad input raises DomainError;
a lawful "no" (an out-of-bounds ratio, a structure warning) is returned as a report.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Any

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from workflow.errors import DomainError
from workflow.kinds import KindSpec, counting_table
from workflow.rules import ric as id_numbers


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Occupation(StrEnum):
    """Occupation categories of the structure report (seed: 工人、农民、专业技术人员、干部 …)."""

    WORKER = "worker"
    FARMER = "farmer"
    TECHNICIAN = "technician"
    CADRE = "cadre"
    BUSINESS = "business"
    MILITARY = "military"
    OTHER = "other"


OCCUPATION_NAMES = {
    Occupation.WORKER: "工人",
    Occupation.FARMER: "农民",
    Occupation.TECHNICIAN: "专业技术人员",
    Occupation.CADRE: "党政干部",
    Occupation.BUSINESS: "企业负责人",
    Occupation.MILITARY: "军人",
    Occupation.OTHER: "其他",
}
FRONT_LINE = frozenset({Occupation.WORKER, Occupation.FARMER, Occupation.TECHNICIAN})


class NominatorType(StrEnum):
    PARTY = "party"  # 政党
    ORGANISATION = "organisation"  # 人民团体
    VOTERS = "voters"  # 选民十人以上联名 (EL 30)


NOMINATOR_NAMES = {
    NominatorType.PARTY: "政党推荐",
    NominatorType.ORGANISATION: "人民团体推荐",
    NominatorType.VOTERS: "选民联名推荐",
}

CPC_NAMES = frozenset({"中国共产党", "中共", "中共党员", "共产党员", "中共预备党员", "cpc"})
# Civil Code art. 1045: close relatives (近亲属), for village proxies (VCL 15).
CLOSE_RELATIVES = frozenset(
    {
        "配偶",
        "父母",
        "父亲",
        "母亲",
        "子女",
        "儿子",
        "女儿",
        "兄弟姐妹",
        "兄弟",
        "姐妹",
        "哥哥",
        "弟弟",
        "姐姐",
        "妹妹",
        "祖父母",
        "祖父",
        "祖母",
        "外祖父母",
        "外祖父",
        "外祖母",
        "孙子女",
        "孙子",
        "孙女",
        "外孙子女",
        "外孙子",
        "外孙女",
    }
)


def is_cpc(party: str | None) -> bool:
    return bool(party) and party.strip().lower() in CPC_NAMES


# -- ID numbers (GB 11643) ------------------------------------------------------------------
def normalise_id(number: str, field: str = "id_number") -> str:
    """A valid 18-character resident ID number (check digit and birth date verified)."""
    text = (number or "").strip().upper()
    try:
        # Length, digits, check digit (ISO 7064 MOD 11-2) and birth date. The region code is not
        # looked up: python-stdnum's table lags behind new and renamed counties.
        if len(text) != 18 or not text[:17].isdigit() or text[-1] != ric.calc_check_digit(text):
            raise ValidationError()
        ric.get_birth_date(text)
        return text
    except ValidationError:
        raise DomainError(
            "E_BAD_ID_NUMBER", f"公民身份号码 {mask_id(text)} 无效（GB 11643 校验码或出生日期不符）", field
        ) from None


def id_hash(number: str) -> str:
    """The stored form of an ID number: SHA-256 of the normalised number (never stored whole)."""
    return hashlib.sha256(number.strip().upper().encode("ascii")).hexdigest()


def mask_id(number: str) -> str:
    """The one ID mask (`ric.mask`): area code and check character only, 420821***********X."""
    return id_numbers.mask((number or "").strip())


def birth_date_of(number: str) -> date:
    """The birth date a normalised ID number carries (GB 11643: characters 7–14, YYYYMMDD)."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def unregistered(numbers: Iterable[str], registered: set[str]) -> list[str]:
    """The numbers not among the registered voters, masked and sorted for the refusal."""
    return sorted(mask_id(n) for n in numbers if n not in registered)


# -- the kind's parameters ------------------------------------------------------------------
def _fraction(value: Any, key: str) -> Fraction | None:
    if value is None:
        return None
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise DomainError(
            "E_KIND_INVALID", f"选举类型参数 candidates.{key} 不是有效的分数：{value!r}", key
        ) from None


@dataclass(frozen=True)
class CandidateRules:
    kind: str
    kind_name: str
    ratio_min: Fraction | None = None  # candidates ≥ seats × (1 + ratio_min)
    ratio_min_exclusive: Fraction | None = None  # candidates > seats × (1 + r)
    ratio_max: Fraction | None = None  # candidates ≤ seats × (1 + ratio_max)
    voter_nominators_min: int = 1
    women_min: Fraction | None = None
    women_members_min: int | None = None  # VCL 6 ¶2: 村民委员会成员中，应当有妇女成员
    cpc_max: Fraction | None = None
    cadre_max_exclusive: Fraction | None = None
    proxy_max: int | None = None
    proxy_close_relatives_only: bool = False
    proxy_candidates_barred: bool = False  # VCL 2025 art. 18, RCL 2025 art. 19: 候选人不得接受委托投票
    proxy_source: str = ""
    # Mobile boxes: EL 38 fixes no numbers; a province's variant does (e.g. Zhejiang art. 40).
    mobile_box_min_scrutineers: int | None = None
    mobile_box_min_staff: int | None = None  # people attending the box, scrutineers included
    mobile_box_source: str = ""
    ratio_source: str = ""
    citations: Mapping[str, str] = field(default_factory=dict)  # the kind's [citations]

    def cite(self, key: str) -> str:
        return self.citations.get(key, "")

    voting_method_name: str = ""  # the election's way where the kind offers several (RCL art. 14)

    @classmethod
    def of(cls, kind: KindSpec, method: str | None = None) -> CandidateRules:
        """The kind's rules; `method` (the election's voting method) overlays its counting
        limits, e.g. no proxies when the residents' representatives vote (RCL 2025 art. 19 ¶4)."""
        c, counting = kind.candidates, counting_table(kind, method)
        return cls(
            kind=kind.key,
            kind_name=kind.name,
            ratio_min=_fraction(c.get("ratio_min"), "ratio_min"),
            ratio_min_exclusive=_fraction(c.get("ratio_min_exclusive"), "ratio_min_exclusive"),
            ratio_max=_fraction(c.get("ratio_max"), "ratio_max"),
            voter_nominators_min=int(c.get("voter_nominators_min", 1)),
            women_min=_fraction(c.get("women_min"), "women_min"),
            women_members_min=c.get("women_members_min"),
            cpc_max=_fraction(c.get("cpc_max"), "cpc_max"),
            cadre_max_exclusive=_fraction(c.get("cadre_max_exclusive"), "cadre_max_exclusive"),
            proxy_max=counting.get("proxy_max"),
            proxy_close_relatives_only=bool(counting.get("proxy_close_relatives_only", False)),
            proxy_candidates_barred=bool(counting.get("proxy_candidates_barred", False)),
            proxy_source=str(counting.get("sources", {}).get("proxy", "") or counting.get("source", "")),
            mobile_box_min_scrutineers=counting.get("mobile_box_min_scrutineers"),
            mobile_box_min_staff=counting.get("mobile_box_min_staff"),
            mobile_box_source=str(counting.get("sources", {}).get("mobile_box", "")),
            ratio_source=str(c.get("ratio_source", "")),
            citations=dict(kind.citations),
            voting_method_name=str(kind.counting.get("methods", {}).get(method, {}).get("name", ""))
            if method
            else "",
        )


# -- competitive ratio (差额比例) -------------------------------------------------------------
@dataclass(frozen=True)
class RatioCheck:
    seats: int
    count: int
    min_candidates: int
    max_candidates: int | None
    rule: str

    @property
    def ok(self) -> bool:
        return self.count >= self.min_candidates and (
            self.max_candidates is None or self.count <= self.max_candidates
        )

    @property
    def too_many(self) -> bool:
        return self.max_candidates is not None and self.count > self.max_candidates

    def as_dict(self) -> dict:
        return {
            "seats": self.seats,
            "count": self.count,
            "min_candidates": self.min_candidates,
            "max_candidates": self.max_candidates,
            "ok": self.ok,
            "rule": self.rule,
        }


def district_seats(district: str, entered: int | None, known: int | None) -> int:
    """A district list's seats: as entered, else as the voter registry knows them; refused when
    neither says, or when the two disagree (the registry's District row is the apportionment)."""
    seats = known if entered is None else entered
    if seats is None:
        raise DomainError("E_SEATS_REQUIRED", f"请填写选区 {district} 的应选名额", "seats")
    if known is not None and known != seats:
        raise DomainError(
            "E_SEATS_MISMATCH", f"选区 {district} 的应选名额为 {known} 名，与填写的 {seats} 名不符", "seats"
        )
    return seats


def ratio_bounds(rules: CandidateRules, seats: int) -> tuple[int, int | None]:
    """Least and most candidates the kind allows for `seats` (None: no upper bound).

    people_congress (EL 31): more than seats by 1/3 to 1× → ⌈4s/3⌉ … 2s (2 for one seat);
    party_branch: at least 20% more → ⌈1.2s⌉; village (VCL 15): more than seats → s + 1;
    residents: uncontested allowed → s.
    """
    if seats < 1:
        raise DomainError("E_BAD_SEATS", f"应选名额必须至少为 1（收到 {seats}）", "seats")
    if rules.ratio_min_exclusive is not None:
        least = math.floor(seats * (1 + rules.ratio_min_exclusive)) + 1
    elif rules.ratio_min is not None:
        least = math.ceil(seats * (1 + rules.ratio_min))
    else:
        least = seats
    most = math.floor(seats * (1 + rules.ratio_max)) if rules.ratio_max is not None else None
    return least, most


def ratio_rule_text(rules: CandidateRules) -> str:
    if rules.cite("candidate_ratio") and rules.ratio_max is not None:
        return f"{rules.cite('candidate_ratio')}：由选民直接选举人民代表大会代表的，代表候选人的人数应多于应选代表名额三分之一至一倍"
    if rules.cite("candidate_ratio") and rules.ratio_min_exclusive is not None:
        return f"{rules.cite('candidate_ratio')}：候选人的名额应当多于应选名额"
    parts = []
    if rules.ratio_min_exclusive is not None:
        parts.append(f"候选人数应多于应选名额的 {1 + rules.ratio_min_exclusive} 倍")
    elif rules.ratio_min is not None:
        parts.append(f"候选人数应不少于应选名额的 {1 + rules.ratio_min} 倍")
    if rules.ratio_max is not None:
        parts.append(f"不多于应选名额的 {1 + rules.ratio_max} 倍")
    source = rules.ratio_source or rules.kind_name
    return f"{source}：" + ("，".join(parts) if parts else "候选人数不少于应选名额")


def check_ratio(rules: CandidateRules, seats: int, count: int) -> RatioCheck:
    least, most = ratio_bounds(rules, seats)
    return RatioCheck(seats, count, least, most, ratio_rule_text(rules))


def ratio_error(district: str, check: RatioCheck) -> DomainError:
    """The refusal for an official list out of bounds, naming the district and the rule."""
    if check.too_many:
        bound = f"至多 {check.max_candidates} 名"
    elif check.max_candidates is None:
        bound = f"至少 {check.min_candidates} 名"
    else:
        bound = f"应为 {check.min_candidates}–{check.max_candidates} 名"
    return DomainError(
        "E_RATIO_OUT_OF_BOUNDS",
        f"选区 {district} 应选 {check.seats} 名，正式候选人 {check.count} 名，{bound}（{check.rule}）",
        "district",
    )


# -- nominations (EL 30) ----------------------------------------------------------------------
@dataclass(frozen=True)
class Nomination:
    district: str
    name: str
    nominated_by: NominatorType
    nominators: tuple[str, ...] = ()  # parties / organisations, jointly or singly
    supporters: tuple[str, ...] = ()  # voters' ID numbers (joint nomination)


@dataclass(frozen=True)
class DistrictNominations:
    """What is already nominated in the district: candidates per nominator and per voter."""

    seats: int
    by_nominator: Mapping[str, int] = field(default_factory=dict)
    by_supporter: Mapping[str, int] = field(default_factory=dict)  # normalised ID → count


def check_nomination(
    rules: CandidateRules, nomination: Nomination, existing: DistrictNominations
) -> list[str]:
    """Validate a nomination; returns the supporters' normalised ID numbers.

    EL 30: parties and organisations may nominate jointly or singly; ten or more voters may
    nominate jointly; no party, organisation or voter may back more candidates than the
    district's seats.
    """
    if not nomination.name.strip():
        raise DomainError("E_NAME_REQUIRED", "候选人姓名不能为空", "name")
    seats = existing.seats
    if nomination.nominated_by is NominatorType.VOTERS:
        normalised = [normalise_id(n, "supporters") for n in nomination.supporters]
        duplicates = sorted({mask_id(n) for n, c in Counter(normalised).items() if c > 1})
        if duplicates:
            raise DomainError(
                "E_DUPLICATE_SUPPORTER", f"联名推荐人重复：{'、'.join(duplicates)}", "supporters"
            )
        if len(normalised) < rules.voter_nominators_min:
            raise DomainError(
                "E_TOO_FEW_NOMINATORS",
                f"选民联名推荐需 {rules.voter_nominators_min} 人以上，本次仅 {len(normalised)} 人（{rules.cite('nominators')}）",
                "supporters",
            )
        over = sorted(mask_id(n) for n in normalised if existing.by_supporter.get(n, 0) + 1 > seats)
        if over:
            raise DomainError(
                "E_SUPPORTER_LIMIT",
                f"选民 {'、'.join(over)} 参加联名推荐的候选人将超过本选区应选名额 {seats} 名（{rules.cite('nominations_limit')}）",
                "supporters",
            )
        if any(n.strip() for n in nomination.nominators):
            raise DomainError(
                "E_NOMINATORS_NOT_ALLOWED", "选民联名推荐不需填写推荐的政党或人民团体", "nominator"
            )
        return normalised
    if nomination.supporters:
        raise DomainError("E_SUPPORTERS_NOT_ALLOWED", "政党、人民团体推荐不需填写联名选民", "supporters")
    names = [n.strip() for n in nomination.nominators if n.strip()]
    if not names:
        raise DomainError("E_NOMINATOR_REQUIRED", "请填写推荐的政党或人民团体名称", "nominator")
    over = sorted(n for n in set(names) if existing.by_nominator.get(n, 0) + 1 > seats)
    if over:
        raise DomainError(
            "E_NOMINATOR_LIMIT",
            f"{'、'.join(over)} 推荐的候选人将超过本选区应选名额 {seats} 名（{rules.cite('nominations_limit')}）",
            "nominator",
        )
    return []


# -- conflicts: committee members who are candidates (EL 10) ----------------------------------
@dataclass(frozen=True)
class Person:
    name: str
    id_hash: str | None = None
    birth_date: date | None = None
    district: str | None = None


@dataclass(frozen=True)
class CommitteeSeat:
    name: str
    role: str
    id_hash: str | None = None
    birth_date: date | None = None
    resigned_on: date | None = None


@dataclass(frozen=True)
class CommitteeConflict:
    candidate: str
    district: str | None
    member: str
    role: str
    certain: bool  # matched by ID number (else by name and, where known, birth date)
    rule: str = ""  # the kind's citation (EL 10 ¶2 in the 2020 text)

    def as_dict(self) -> dict:
        how = "身份号码一致" if self.certain else "姓名一致，请核实"
        return {
            "candidate": self.candidate,
            "district": self.district,
            "member": self.member,
            "role": self.role,
            "certain": self.certain,
            "message": f"候选人{self.candidate}（选区 {self.district}）是选举委员会{self.role}（{how}），"
            f"应当辞去选举委员会的职务（{self.rule}）",
        }


def committee_conflicts(
    candidates: Iterable[Person], members: Iterable[CommitteeSeat], rule: str = ""
) -> list[CommitteeConflict]:
    """Candidates who sit on the election committee and have not resigned (EL 10)."""
    sitting = [m for m in members if m.resigned_on is None]
    found = []
    for person in candidates:
        for member in sitting:
            if person.id_hash and member.id_hash:
                if person.id_hash == member.id_hash:
                    found.append(
                        CommitteeConflict(person.name, person.district, member.name, member.role, True, rule)
                    )
                continue
            if person.name == member.name and (
                person.birth_date is None
                or member.birth_date is None
                or person.birth_date == member.birth_date
            ):
                found.append(
                    CommitteeConflict(person.name, person.district, member.name, member.role, False, rule)
                )
    return found


# -- primaries (预选, EL 32) and tie-break votes (EL 45) -----------------------------------------
@dataclass(frozen=True)
class Ranking:
    selected: tuple[str, ...]
    tied: tuple[str, ...]  # a tie across the cut-off, to be settled by a new vote
    open_places: int  # places among the tied still to fill

    def as_dict(self) -> dict:
        return {"selected": list(self.selected), "tied": list(self.tied), "open_places": self.open_places}


def rank_by_votes(votes: Mapping[str, int], places: int) -> Ranking:
    """The `places` names with most votes (EL 32: 根据预选时得票多少的顺序); a tie that crosses
    the cut-off is not broken by name: it is reported for a new vote among the tied."""
    if places < 0:
        raise DomainError("E_BAD_SIZE", "名额不能为负数", "size")
    for name, count in votes.items():
        if count < 0:
            raise DomainError("E_BAD_VOTES", f"{name} 的票数不能为负数", "votes")
    ordered = sorted(votes.items(), key=lambda item: (-item[1], item[0]))
    if len(ordered) <= places:
        return Ranking(tuple(n for n, _ in ordered), (), 0)
    cut = ordered[places - 1][1] if places else None
    if places == 0 or ordered[places][1] != cut:
        return Ranking(tuple(n for n, _ in ordered[:places]), (), 0)
    above = tuple(n for n, v in ordered if v > cut)
    tied = tuple(n for n, v in ordered if v == cut)
    return Ranking(above, tied, places - len(above))
