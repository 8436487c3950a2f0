"""Objections to the published voter list (申诉), EL 29: the time limits and what a filing
and a decision must contain. Pure: data in, decision out.

Filed within 5 days of publication (Civil Code art. 201: the day after publication is day 1,
so published on the 1st, the last day is the 6th); each decided within 3 days of filing; the
filer may then sue in court up to E − 5.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from workflow.calendar import shift
from workflow.errors import DomainError
from workflow.kinds import KindSpec, get_kind

# The filing window and the decision time are the kind's `voter_appeals_closed` bounds
# (people's congress, EL 29: filed within 5 days of publication, decided within 3): earliest =
# publication + filing days, latest = earliest + decision days.
_APPEALS = get_kind("people_congress").milestones["voter_appeals_closed"]
FILING_DAYS = _APPEALS.earliest.days
DECISION_DAYS = _APPEALS.latest.days - _APPEALS.earliest.days
APPEALS_RULE = get_kind("people_congress").cite("appeals")
# The court-suit deadline is the kind's computed milestone (people's congress: EL 29, E − 5); a
# kind without it (village: VCL 14 gives no court suit) has none.
SUIT_MILESTONE = "court_suit_deadline"
CLOSED_MILESTONE = "voter_appeals_closed"
REQUESTS = ("add", "remove", "correct")
CORRECTABLE = {
    "name": "姓名",
    "voter_group": "选民小组",
    "address": "住址",
    "ethnicity": "民族",
    "hukou": "户籍地",
}


def last_filing_day(published: date) -> date:
    return published + timedelta(days=FILING_DAYS)


def decide_by(filed_on: date) -> date:
    return filed_on + timedelta(days=DECISION_DAYS)


def court_suit_deadline(kind: KindSpec, election_day: date) -> date | None:
    """The last day to sue in court over a decision, where the kind's law provides one."""
    spec = kind.milestones.get(SUIT_MILESTONE)
    if spec is None or spec.latest is None:
        return None
    return shift(election_day, spec.latest)


def after_decision(kind: KindSpec) -> str:
    """What the filer and the committee are told once an appeal is decided: the court suit
    (EL 29) or the publication of the decision (VCL 14 ¶2), cited from the kind."""
    spec = kind.milestones.get(SUIT_MILESTONE) or kind.milestones.get(CLOSED_MILESTONE)
    return spec.rule if spec else ""


def check_filing(
    *,
    filed_on: date,
    today: date,
    published: date,
    filer: str,
    reason: str,
    subject_name: str,
    request: str,
    supplements: Sequence[date] = (),
    rule: str = "",
) -> None:
    """A filing's date lies in the window and it names filer, subject, reason and request.

    Every published list opens its own window: the first list (EL 29) and each supplementary
    list (补正名单, published as a list of its own, whose notice tells voters they may object
    within five days of it)."""
    last_day = last_filing_day(published)
    if filed_on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"申诉日期 {filed_on} 晚于今天 {today}", "on")
    if filed_on < published:
        raise DomainError("E_APPEAL_BEFORE_PUBLICATION", f"申诉日期早于选民名单公布日期 {published}", "on")
    if any(day <= filed_on <= last_filing_day(day) for day in supplements):
        last_day = filed_on
    if filed_on > last_day:
        raise DomainError(
            "E_APPEAL_WINDOW_CLOSED",
            f"申诉期限已过：选民名单于 {published} 公布，应在 {last_day} 以前提出（{rule or APPEALS_RULE}）",
            "on",
        )
    if not filer.strip() or not reason.strip() or not subject_name.strip():
        raise DomainError("E_APPEAL_INCOMPLETE", "申诉须写明申诉人、被申诉事项涉及的人员和理由", "reason")
    if request not in REQUESTS:
        raise DomainError(
            "E_APPEAL_REQUEST", "申诉请求应为 add（增列）、remove（除名）或 correct（更正）", "request"
        )


def check_correction(correction: dict[str, str] | None) -> None:
    """A correction names at least one field, and only fields that may be corrected."""
    if not correction or not set(correction) <= set(CORRECTABLE):
        allowed = "、".join(f"{k}（{v}）" for k, v in CORRECTABLE.items())
        raise DomainError("E_APPEAL_CORRECTION", f"更正申诉须写明更正的项目：{allowed}", "correction")


def check_decision(
    *, decided_on: date, today: date, filed_on: date, upheld: bool, reason: str | None
) -> str | None:
    """The decision's date lies between filing and today; a rejection gives its reason.
    Returns the reason as recorded (stripped, empty as None)."""
    if decided_on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"处理日期 {decided_on} 晚于今天 {today}", "on")
    if decided_on < filed_on:
        raise DomainError("E_DATE_BEFORE_FILING", f"处理日期早于申诉日期 {filed_on}", "on")
    if not upheld and not (reason and reason.strip()):
        raise DomainError("E_REASON_REQUIRED", "驳回申诉必须说明理由", "reason")
    return (reason or "").strip() or None


def correction_details(before: dict[str, str | None], changes: dict[str, str]) -> str:
    """The supplementary list's description of an upheld correction."""
    return "；".join(f"{CORRECTABLE[k]}：{before[k] or '空'} → {v}" for k, v in changes.items())
