"""The statutory calendar, pure: bounds from an anchor, plan checks, holiday warnings.

Dates are calendar dates in the jurisdiction's local time. "Latest E − 20" means the milestone
is lawful if done on or before that date (CONTRACTS.md). Periods "within N days of X" start
the day after X (Civil Code art. 201); "N months after" lands on the same day number or on the
month's last day (Civil Code art. 202), which pendulum's month arithmetic does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import pendulum

from workflow.kinds import ANCHOR, BoundSpec, KindSpec, MilestoneSpec


@dataclass(frozen=True)
class MilestoneCheck:
    """One milestone of a plan against the law."""

    key: str
    name: str
    phase: str
    planned: date | None
    latest: date | None
    earliest: date | None
    ok: bool
    rule: str
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "planned": self.planned.isoformat() if self.planned else None,
            "latest": self.latest.isoformat() if self.latest else None,
            "earliest": self.earliest.isoformat() if self.earliest else None,
            "ok": self.ok,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Warning:
    key: str | None
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"key": self.key, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class PlanReport:
    kind: str
    anchor: date
    milestones: tuple[MilestoneCheck, ...]
    warnings: tuple[Warning, ...] = field(default=())

    @property
    def violations(self) -> tuple[MilestoneCheck, ...]:
        return tuple(m for m in self.milestones if not m.ok)

    @property
    def ok(self) -> bool:
        return not self.violations

    def by_key(self) -> dict[str, MilestoneCheck]:
        return {m.key: m for m in self.milestones}


def shift(start: date, spec: BoundSpec) -> date:
    """`start` moved by the spec's months (Civil Code art. 202) then days."""
    moved = pendulum.Date(start.year, start.month, start.day)
    if spec.months:
        moved = moved.add(months=spec.months)
    result = date(moved.year, moved.month, moved.day)
    return result + timedelta(days=spec.days)


def _resolve(spec: BoundSpec | None, anchor: date, known: Mapping[str, date | None]) -> date | None:
    if spec is None:
        return None
    if spec.from_ == ANCHOR:
        return shift(anchor, spec)
    reference = known.get(spec.from_)
    if reference is None:
        return shift(anchor, spec) if spec.fallback == ANCHOR else None
    return shift(reference, spec)


PRACTICE, STRICT = "practice", "strict"


def reading(kind: KindSpec) -> str:
    """The kind's reading of "选举日的N日以前": practice (E − N) unless it says strict."""
    return STRICT if kind.calendar.get("before_anchor") == STRICT else PRACTICE


def _counted_before_anchor(spec: MilestoneSpec) -> bool:
    """A latest bound counted back from the anchor ("选举日的N日以前")."""
    return spec.latest is not None and spec.latest.from_ == ANCHOR and spec.latest.days < 0


def _reading_warnings(kind: KindSpec, checks: list[MilestoneCheck]) -> list[Warning]:
    """Where the two readings of "N日以前" differ on a planned date: the date lawful only under
    the practice reading (E − N) is flagged with the strict reading's date (E − N − 1)."""
    source = kind.calendar.get("source", "")
    out: list[Warning] = []
    if reading(kind) == STRICT:
        return out  # the strict bound is already the one checked
    for check in checks:
        spec = kind.milestones[check.key]
        if check.planned is None or check.latest is None or not _counted_before_anchor(spec):
            continue
        strict_latest = check.latest - timedelta(days=1)
        if check.planned == check.latest:
            out.append(
                Warning(
                    check.key,
                    "W_PRACTICE_READING_ONLY",
                    f"「{check.name}」计划 {check.planned} 仅按实务计法（选举日减{-spec.latest.days}日）合法；"
                    f"按严格计法（满{-spec.latest.days}日，即 {strict_latest} 以前）已逾期"
                    + (f"（{source}）" if source else ""),
                )
            )
    return out


def compute_bounds(
    kind: KindSpec,
    anchor: date,
    planned: Mapping[str, date] | None = None,
    actual: Mapping[str, date] | None = None,
) -> dict[str, tuple[date | None, date | None]]:
    """Each milestone's (earliest, latest) statutory bounds.

    A bound relative to another milestone uses that milestone's actual date, else its
    planned date, else the anchor where the kind says so, else it is unknown (None).
    """
    planned = planned or {}
    actual = actual or {}
    strict = reading(kind) == STRICT
    reference: dict[str, date | None] = {}
    bounds: dict[str, tuple[date | None, date | None]] = {}
    for key in kind.bound_order():
        spec = kind.milestones[key]
        earliest = _resolve(spec.earliest, anchor, reference)
        latest = _resolve(spec.latest, anchor, reference)
        if latest is not None and strict and _counted_before_anchor(spec):
            latest -= timedelta(days=1)  # strict reading: N full days before the anchor
        bounds[key] = (earliest, latest)
        if spec.computed:
            reference[key] = latest
        else:
            reference[key] = actual.get(key) or planned.get(key)
    return bounds


def _approved_move(
    kind: KindSpec,
    key: str,
    when: date,
    anchor: date,
    planned: Mapping[str, date],
    bounds: Mapping[str, tuple[date | None, date | None]],
) -> tuple[list[str], list[Warning]]:
    """A planned date off `key`'s statutory bounds that an approval milestone may allow ("needs
    approval of Y before Z"): lawful when the approval is planned on or before it and the date
    is within the approval's `limit`; else the problems say which approval is missing."""
    spec = kind.milestones[key]
    problems: list[str] = []
    for approval in kind.approvals_of(key):
        limit = _resolve(approval.limit, anchor, planned) if approval.limit else None
        approved_on = planned.get(approval.key)
        if limit is not None and when > limit:
            problems.append(
                f"「{spec.name}」计划日期 {when} 超过经批准可推迟的最迟日期 {limit}（{approval.rule}）"
            )
        elif approved_on is None or approved_on > when:
            problems.append(
                f"「{spec.name}」计划日期 {when} 不在法定期限内，须在此前经{approval.approver}同意"
                f"（{approval.rule}）"
            )
        else:
            return [], [
                Warning(
                    key,
                    "W_APPROVED_MOVE",
                    f"「{spec.name}」计划日期 {when} 不在法定期限内，已计划于 {approved_on} "
                    f"经{approval.approver}同意（{approval.source}）",
                )
            ]
    return problems, []


def refusal_after(
    kind: KindSpec,
    key: str,
    anchor: date,
    on: date,
    known: Mapping[str, date] | None = None,
) -> str | None:
    """Why an act dated `on` comes too late for a cutoff or filing milestone (`key`), e.g. a
    late registration after Zhejiang's E − 12 (art. 29); None while it is still open. `known`
    holds the dates the milestone's bound counts from (actual, else planned)."""
    spec = kind.milestones[key]
    if spec.type not in ("cutoff", "filing"):
        raise ValueError(f"{key} is not a cutoff or filing milestone")
    _, last = compute_bounds(kind, anchor, known or {})[key]
    if last is None or on <= last:
        return None
    act = spec.refuses or spec.name
    return f"{on} 已过{spec.name}（{last}），不能{act}：{spec.rule}"


def check_plan(
    kind: KindSpec,
    anchor: date,
    planned: Mapping[str, date],
    holidays: HolidayCalendar | None = None,
) -> PlanReport:
    """Check a committee's plan against every statutory bound and ordering rule."""
    bounds = compute_bounds(kind, anchor, planned)
    checks: list[MilestoneCheck] = []
    approved_notes: list[Warning] = []
    for key, spec in kind.milestones.items():
        earliest, latest = bounds[key]
        when = latest if spec.computed else planned.get(key)
        problems: list[str] = []
        if when is not None and not spec.computed:
            off_bounds = []
            if latest is not None and when > latest:
                off_bounds.append(f"计划日期 {when} 晚于法定最迟日期 {latest}")
            if earliest is not None and when < earliest:
                off_bounds.append(f"计划日期 {when} 早于法定最早日期 {earliest}")
            if off_bounds and kind.approvals_of(key):
                off_bounds, note = _approved_move(kind, key, when, anchor, planned, bounds)
                approved_notes.extend(note)
            problems.extend(off_bounds)
            for other in spec.requires:
                other_when = planned.get(other)
                if other_when is not None and when < other_when:
                    problems.append(
                        f"须在「{kind.milestones[other].name}」之后，但计划日期 {when} 早于 {other_when}"
                    )
            for other in spec.before:
                other_when = planned.get(other) or (
                    bounds[other][1] if kind.milestones[other].computed else None
                )
                if other_when is not None and when > other_when:
                    problems.append(
                        f"应在「{kind.milestones[other].name}」之前，但计划日期 {when} 晚于 {other_when}"
                    )
        checks.append(
            MilestoneCheck(
                key=key,
                name=spec.name,
                phase=spec.phase,
                planned=None if spec.computed else when,
                latest=latest,
                earliest=earliest,
                ok=not problems,
                rule=spec.rule,
                problems=tuple(problems),
            )
        )
    warnings: list[Warning] = [*_reading_warnings(kind, checks), *approved_notes]
    if holidays is not None:
        for check in checks:
            if check.planned is not None:
                warnings.extend(holidays.warnings_for(check.key, check.planned))
    return PlanReport(kind=kind.key, anchor=anchor, milestones=tuple(checks), warnings=tuple(warnings))


class HolidayCalendar:
    """Statutory public holidays from the State Council's calendar (chinese-calendar).

    Only named statutory holidays count, never ordinary weekends. A year the package does not
    cover gives one warning ("no holiday data for YEAR"), never a failure.
    """

    def __init__(self) -> None:
        import chinese_calendar
        from chinese_calendar.constants import Holiday

        self._calendar = chinese_calendar
        self._names = {holiday.value: holiday.chinese for holiday in Holiday}

    def holiday_name(self, day: date) -> str | None:
        """The holiday's Chinese name, None on a working day or an ordinary weekend.

        Raises LookupError for a year without data.
        """
        try:
            on_holiday, holiday = self._calendar.get_holiday_detail(day)
        except NotImplementedError as exc:
            raise LookupError(day.year) from exc
        if not on_holiday or holiday is None:
            return None
        return self._names.get(holiday, holiday)

    def warnings_for(self, key: str, day: date) -> list[Warning]:
        try:
            name = self.holiday_name(day)
        except LookupError:
            # The State Council has not published that year's holidays (or the installed data
            # predates it): the date is provisional, checked against weekends only, and is
            # checked again once the data is installed (`provisional` below).
            found = [
                Warning(
                    key,
                    "W_NO_HOLIDAY_DATA",
                    f"暂无{day.year}年法定节假日数据（no holiday data for {day.year}），"
                    f"{day} 为暂定日期，仅按周末检查，节假日数据发布后将重新检查",
                )
            ]
            if day.weekday() >= 5:
                found.append(
                    Warning(key, "W_PROVISIONAL_WEEKEND", f"暂定日期 {day} 是周末（节假日安排尚未公布）")
                )
            return found
        if name is None:
            return []
        return [Warning(key, "W_HOLIDAY", f"计划日期 {day} 是法定节假日（{name}），工作人员可能休假")]

    def has_year(self, year: int) -> bool:
        """Whether the installed data covers `year` (the State Council has published it)."""
        try:
            self.holiday_name(date(year, 1, 1))
        except LookupError:
            return False
        return True

    def provisional(self, days: Mapping[str, date]) -> dict[str, date]:
        """The dates (by milestone key) in years without holiday data: to be checked again,
        and the committee told, once the State Council's calendar for that year is installed."""
        result = {}
        for key, day in days.items():
            try:
                self.holiday_name(day)
            except LookupError:
                result[key] = day
        return result


def provisional_years(report: PlanReport) -> list[int]:
    """The years of a checked plan's dates that were provisional (no holiday data installed)."""
    planned = {m.key: m.planned for m in report.milestones}
    return sorted(
        {planned[w.key].year for w in report.warnings if w.code == "W_NO_HOLIDAY_DATA" and planned.get(w.key)}
    )


@dataclass(frozen=True)
class Recheck:
    """The outcome of checking one year's provisional dates once its holiday data is installed."""

    year: int
    holidays: tuple[Warning, ...]  # the dates that fall on a statutory holiday

    def message(self, title: str, names: Mapping[str, str]) -> str:
        head = f"【节假日复核】{title}：{self.year}年法定节假日安排已发布，原暂定日期已重新检查。"
        if not self.holidays:
            return head + "均不在法定节假日。"
        lines = [f"「{names.get(w.key or '', w.key)}」{w.message}" for w in self.holidays]
        return head + "以下日期需调整或确认：\n" + "\n".join(f"  · {line}" for line in lines)


def recheck_provisional(
    years: Iterable[int], dates: Mapping[str, date], holidays: HolidayCalendar
) -> tuple[list[Recheck], list[int]]:
    """For each provisional year: rechecked (its data is now installed) with the dates that fall
    on a holiday, or still provisional. Returns (rechecks, years still provisional)."""
    done: list[Recheck] = []
    waiting: list[int] = []
    for year in sorted(set(years)):
        if not holidays.has_year(year):
            waiting.append(year)
            continue
        found = tuple(
            warning
            for key, day in sorted(dates.items(), key=lambda item: (item[1], item[0]))
            if day.year == year
            for warning in holidays.warnings_for(key, day)
        )
        done.append(Recheck(year, found))
    return done, waiting
