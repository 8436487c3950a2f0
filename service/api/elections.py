"""/api/v1/elections: create from a plan, list, show, transitions, reschedule, milestones.

Every route calls the same command functions as the CLI (workflow/commands/elections.py) in the
request's one transaction, with the caller's username as the audit actor.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from service.api.deps import (
    INT_MAX,
    Admitted,
    Caller,
    Principal,
    Services,
    Svc,
    Tx,
    bearer,
    current_principal,
    out_of_scope,
    services,
)
from service.api.problems import PROBLEM_RESPONSES, Forbidden
from service.api.schemas import elections as schemas
from workflow.calendar import HolidayCalendar
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.commands.auth import subtree_ids
from workflow.errors import DomainError, NotFound
from workflow.machine import Trigger
from workflow.plan import Plan, parse_plan, parse_plan_text
from workflow.store.models import Election
from workflow.timeutil import local_date
from workflow.views import elections as election_views
from workflow.views import jurisdictions
from workflow.views import status as status_views
from workflow.views.overview import list_elections_page, progress, summary

router = APIRouter(prefix="/api/v1/elections", tags=["elections"], responses=PROBLEM_RESPONSES)

ElectionId = Annotated[int, Path(ge=1, le=INT_MAX, description="选举编号")]
MilestoneKey = Annotated[
    str, Path(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="节点键，如 voter_list_published")
]
EARLIEST_DAY, LATEST_DAY = date(1949, 10, 1), date(2199, 12, 31)
LawfulDate = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
Reason = Annotated[str, Field(max_length=1000)]
VotingMethod = Annotated[str, Field(pattern=r"^[a-z_]{1,30}$", description="选举方式的键")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ElectionCreate(_Body):
    plan: dict[str, Any] | str = Field(
        description="计划：JSON 对象（与 TOML 计划文件同样的键），或 TOML 计划文件的全文",
        examples=[
            'kind = "people_congress"\ntitle = "…"\njurisdiction = "420821"\nelection_day = 2011-10-18\n'
        ],
    )
    accept_violations: Reason | None = Field(None, description="确需违反法定期限时的理由（记入审计日志）")
    voting_method: VotingMethod | None = Field(
        None,
        description="选举方式（居委会选举：all 全体选民 / households 每户派代表 / representatives 居民代表）",
    )


class RoundCreate(ElectionCreate):
    jurisdictions: list[Annotated[str, Field(pattern=r"^[0-9A-Za-z_.\-]{1,32}$")]] = Field(
        min_length=1,
        max_length=5000,
        description="行政区划代码：每个区域按同一计划各建一次选举（计划中的 jurisdiction 不使用）",
    )
    title_format: str = Field(
        "{title}（{name}）",
        min_length=1,
        max_length=300,
        description="选举名称格式：{title} 计划名称，{name} 区域名称，{code} 代码",
    )


class VotingMethodBody(_Body):
    voting_method: VotingMethod = Field(
        description="all 全体选民 / households 每户派代表 / representatives 居民（小组）代表；投票开始后不能更改"
    )
    expected_version: int | None = Field(None, ge=1, le=INT_MAX, description="乐观锁：提交时看到的版本")


class TransitionBody(_Body):
    reason: Reason | None = Field(None, description="理由（暂停、取消时必填）")
    expected_version: int | None = Field(None, ge=1, le=INT_MAX, description="乐观锁：提交时看到的版本")


class RescheduleBody(_Body):
    anchor_date: LawfulDate = Field(description="新的选举日（党支部为任期届满日）")
    keep_plan: bool = Field(False, description="未办结节点的计划日期保持不变（默认随选举日平移）")
    accept_violations: Reason | None = None


class CompleteBody(_Body):
    on: LawfulDate | None = Field(None, description="办结日期（默认今天）")
    expected_version: int | None = Field(None, ge=1, le=INT_MAX)
    confirm_early: bool = Field(False, description="办结日期早于选举日一年以上时，确认日期无误")


class WaiveBody(_Body):
    reason: Reason = Field(description="免除理由")


def today_for(svc: Services, election: Election) -> date:
    return local_date(svc.clock.now(), election.jurisdiction.timezone)


def visible_election(session: Session, caller: Principal, election_id: int) -> Election:
    election = commands.get_election(session, election_id)
    caller.check_election(session, election)
    return election


def election_view(session: Session, svc: Services, election: int | Election) -> dict:
    if not isinstance(election, Election):
        election = commands.get_election(session, election)
    view = election_views.describe(election)
    view["progress"] = progress(election, today_for(svc, election))
    return view


# -- create -------------------------------------------------------------------------------
def _parse(body: ElectionCreate) -> Plan:
    try:
        plan = parse_plan_text(body.plan, "plan") if isinstance(body.plan, str) else parse_plan(body.plan)
    except DomainError as error:
        error.field = f"plan.{error.field}" if error.field else "plan"
        raise
    _within_limits(plan)
    return plan


def _within_limits(plan: Plan) -> None:
    """What the columns and the calendar can hold, checked before anything is written."""
    ref = plan.jurisdiction
    if len(plan.title) > 300:
        raise DomainError("E_TOO_LONG", "标题不能超过 300 个字符", "plan.title")
    if len(ref.code) > 32 or not ref.code.strip():
        raise DomainError("E_BAD_CODE", "行政区划代码应为 1–32 个字符", "plan.jurisdiction.code")
    if ref.name is not None and (len(str(ref.name)) > 200 or not str(ref.name).strip()):
        raise DomainError("E_BAD_NAME", "行政区域名称应为 1–200 个字符", "plan.jurisdiction.name")
    if plan.parent_election is not None and plan.parent_election > INT_MAX:
        raise DomainError("E_NOT_FOUND", f"未找到上级选举：{plan.parent_election}", "plan.parent_election")
    dates = {"plan.anchor": plan.anchor} | {f"plan.milestones.{k}": v for k, v in plan.milestones.items()}
    for key, window in plan.phases.items():
        dates |= {f"plan.phases.{key}.start": window.start, f"plan.phases.{key}.end": window.end}
    for field, day in dates.items():
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise DomainError("E_DATE_OUT_OF_RANGE", f"{field} 的日期 {day} 超出可处理的范围", field)


def _check_plan_scope(session: Session, caller: Principal, plan: Plan) -> None:
    ref = plan.jurisdiction
    found = jurisdictions.by_code(session, ref.code)
    if found is not None:
        caller.check_jurisdiction(session, found)
    elif ref.parent:
        try:
            parent = jurisdiction_commands.find_jurisdiction(session, ref.parent)
        except NotFound as error:
            error.field = "plan.jurisdiction.parent"
            raise DomainError(error.code, error.message, error.field) from None
        caller.check_jurisdiction(session, parent)
    elif ref.name and ref.level:
        raise Forbidden(
            "E_OUT_OF_SCOPE",
            "新的行政区域须指定本账号管辖范围内的上级（jurisdiction.parent）",
            "plan.jurisdiction.parent",
        )
    else:
        raise DomainError("E_NOT_FOUND", f"未找到行政区域：{ref.code}", "plan.jurisdiction")
    if plan.parent_election is not None:  # the parent must be in the caller's subtree too
        try:
            caller.check_election(session, commands.get_election(session, plan.parent_election))
        except NotFound:
            raise DomainError(
                "E_NOT_FOUND", f"未找到上级选举：{plan.parent_election}", "plan.parent_election"
            ) from None


@router.post(
    "",
    status_code=201,
    summary="按计划创建选举（计划不符合法定期限时拒绝，除非说明理由）",
    response_model=schemas.ElectionCreated,
    response_model_exclude_unset=True,
)
def create_election(body: ElectionCreate, session: Tx, caller: Caller, svc: Svc, response: Response) -> dict:
    caller.check_write()
    plan = _parse(body)
    _check_plan_scope(session, caller, plan)
    created = commands.create_election(
        session,
        plan,
        clock=svc.clock,
        actor=caller.username,
        accept_violations=body.accept_violations,
        holidays=HolidayCalendar(),
        voting_method=body.voting_method,
    )
    response.headers["Location"] = f"/api/v1/elections/{created.election.id}"
    return {
        "election": election_view(session, svc, created.election.id),
        "warnings": [w.as_dict() for w in created.report.warnings],
        "accepted_violations": [v.key for v in created.report.violations],
    }


@router.post(
    "/round",
    status_code=201,
    summary="按同一计划为多个行政区域同时创建选举（如县乡两级换届中的各乡镇；一个事务）",
    response_model=schemas.RoundCreated,
)
def create_round(body: RoundCreate, session: Tx, caller: Caller, svc: Svc) -> dict:
    caller.check_write()
    plan = _parse(body)
    found = jurisdictions.by_codes(session, body.jurisdictions)
    # Every one must be the caller's, before anything is written; one outside the caller's
    # subtree is refused exactly as a missing one is (the command's own E_NOT_FOUND).
    hidden = [c for c in body.jurisdictions if c in found and not caller.may_see(session, found[c].id)]
    if hidden:
        raise DomainError("E_NOT_FOUND", f"未找到行政区域：{'、'.join(hidden)}", "jurisdictions")
    if plan.parent_election is not None:
        try:
            caller.check_election(session, commands.get_election(session, plan.parent_election))
        except NotFound:
            raise DomainError(
                "E_NOT_FOUND", f"未找到上级选举：{plan.parent_election}", "plan.parent_election"
            ) from None
    try:
        created = commands.create_round(
            session,
            plan,
            body.jurisdictions,
            clock=svc.clock,
            actor=caller.username,
            title_format=body.title_format,
            accept_violations=body.accept_violations,
            voting_method=body.voting_method,
            holidays=HolidayCalendar(),
        )
    except DomainError as error:
        if error.field == "title":  # the CLI's --title is this body's title_format
            error.field = "title_format"
        raise
    return {
        "elections": [
            {"id": e.id, "jurisdiction": e.jurisdiction.code, "title": e.title} for e in created.elections
        ],
        "count": len(created.elections),
        "warnings": [w.as_dict() for w in created.report.warnings],
        "accepted_violations": [v.key for v in created.report.violations],
    }


# -- read ---------------------------------------------------------------------------------
@router.get("", summary="选举列表（分页、筛选；仅本账号管辖范围）", response_model=schemas.ElectionList)
def list_elections(
    session: Tx,
    caller: Caller,
    svc: Svc,
    jurisdiction: Annotated[
        str | None, Query(pattern=r"^[0-9A-Za-z_.\-]{1,32}$", description="行政区划代码（含下级）")
    ] = None,
    state: Annotated[str | None, Query(pattern=r"^[a-z_]{1,30}$", description="阶段或状态键")] = None,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,50}$", description="选举类型")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> dict:
    narrowed = None
    if jurisdiction:
        j = jurisdiction_commands.find_jurisdiction(session, jurisdiction)
        caller.check_jurisdiction(session, j)
        narrowed = subtree_ids(session, j.id)
    page = list_elections_page(
        session,
        scope=caller.scope(session),
        jurisdiction_ids=narrowed,
        state=state,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    today = local_date(svc.clock.now())
    return {
        "items": [summary(e, today) for e in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get(
    "/{election_id}",
    summary="选举详情：阶段、节点、法定期限、进度",
    response_model=schemas.ElectionOut,
    response_model_exclude_unset=True,
)
def show_election(
    election_id: ElectionId,
    request: Request,
    _admission: Admitted,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    """The status read, the hottest route. A caller with an API token whose view is cached never
    gets here: `QuickStatus` (below) answers it before the router. Here: one thread hop and one
    read-only unit of work for the whole request (not one hop per dependency), the caller
    checked as every route checks it (`current_principal`), then one Core statement for access
    and the view's key; the view comes serialised from the per-(election, version, date) cache
    (workflow/views/status.py). The body is what the response model gives (validated once, when
    the view is built)."""
    svc = services(request)
    with svc.db.reading() as session:
        caller = current_principal(request, session, credentials)
        head = status_views.head(session, election_id, caller.user.jurisdiction_id, svc.clock.now())
        if not head.visible:
            raise out_of_scope(election_id)
        body = status_views.cached_status(session, head.key, _status_body, svc.status_cache)
    return Response(content=body, media_type="application/json")


class QuickStatus:
    """Pure ASGI: the status route's quick path before the router. `GET /api/v1/elections/{id}`
    with an API token whose view is cached is answered here (`status_views.quick_status`: one
    statement on the hot-read connection, in the event loop: no gate, no thread, no
    transaction; the body the cached bytes), without routing, dependency solving or FastAPI's
    wrappers (which cost more than the read). It sits inside the service's own middleware (request log, security headers,
    guard, input hygiene), so the answer gets every header and log line any response gets, and
    is marked with the route for the log and metrics. Every other request, and every status
    request it cannot answer with a 200, goes on to the router unchanged."""

    PREFIX = router.prefix + "/"

    def __init__(self, app, services: Services):
        self.app = app
        self.services = services
        # The route as the router marks it (`scope["route"]`), learnt from the first status
        # request the router answers: until then (and no view is cached before it) none is quick.
        self.route = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            if path.startswith(self.PREFIX):
                rest = path[len(self.PREFIX) :]
                if rest.isdigit() and rest.isascii() and 1 <= int(rest) <= INT_MAX:
                    if self.route is None:
                        await self.app(scope, receive, send)
                        route = scope.get("route")
                        if getattr(route, "endpoint", None) is show_election:
                            self.route = route
                        return
                    body, username = self._quick(scope, int(rest))
                    if body is not None:
                        scope["route"] = self.route
                        scope.setdefault("state", {})["username"] = username  # for the request log
                        await send(
                            {
                                "type": "http.response.start",
                                "status": 200,
                                "headers": [
                                    (b"content-length", str(len(body)).encode()),
                                    (b"content-type", b"application/json"),
                                ],
                            }
                        )
                        await send({"type": "http.response.body", "body": body})
                        return
        await self.app(scope, receive, send)

    def _quick(self, scope, election_id: int) -> tuple[bytes | None, str | None]:
        for name, value in scope["headers"]:
            if name == b"authorization":  # the first one, as HTTPBearer reads it
                scheme, _, token = value.decode("latin-1").partition(" ")
                token = token.strip()
                if scheme.lower() != "bearer" or not token:
                    return None, None
                svc = self.services
                quick = status_views.quick_status(
                    svc.db, token, election_id, svc.clock.now(), svc.status_cache
                )
                return (None, None) if quick is None else (quick.body, quick.username)
        return None, None


def _status_body(election: Election, today: date) -> bytes:
    view = election_views.describe(election)
    view["progress"] = progress(election, today)
    return (
        schemas.ElectionOut.model_validate(view).model_dump_json(exclude_unset=True, by_alias=True).encode()
    )


# -- transitions --------------------------------------------------------------------------
def _transition(
    session: Session,
    svc: Services,
    caller: Principal,
    election_id: int,
    trigger: Trigger,
    body: TransitionBody,
) -> dict:
    caller.check_write()
    visible_election(session, caller, election_id)
    decision = commands.transition(
        session,
        election_id,
        trigger,
        clock=svc.clock,
        actor=caller.username,
        reason=body.reason,
        expected_version=body.expected_version,
    )
    return {
        "id": election_id,
        "from": decision.source,
        "to": decision.target,
        "election": election_view(session, svc, election_id),
    }


OptionalBody = Annotated[TransitionBody | None, Body()]


@router.post(
    "/{election_id}/advance",
    summary="推进到下一阶段（条件不满足时 409 并列出原因）",
    response_model=schemas.Transitioned,
    response_model_exclude_unset=True,
)
def advance(
    election_id: ElectionId, session: Tx, caller: Caller, svc: Svc, body: OptionalBody = None
) -> dict:
    return _transition(session, svc, caller, election_id, Trigger.ADVANCE, body or TransitionBody())


@router.post(
    "/{election_id}/suspend",
    summary="暂停选举（须说明理由）",
    response_model=schemas.Transitioned,
    response_model_exclude_unset=True,
)
def suspend(election_id: ElectionId, body: TransitionBody, session: Tx, caller: Caller, svc: Svc) -> dict:
    return _transition(session, svc, caller, election_id, Trigger.SUSPEND, body)


@router.post(
    "/{election_id}/resume",
    summary="恢复已暂停的选举",
    response_model=schemas.Transitioned,
    response_model_exclude_unset=True,
)
def resume(election_id: ElectionId, session: Tx, caller: Caller, svc: Svc, body: OptionalBody = None) -> dict:
    return _transition(session, svc, caller, election_id, Trigger.RESUME, body or TransitionBody())


@router.post(
    "/{election_id}/cancel",
    summary="取消选举（须说明理由）",
    response_model=schemas.Transitioned,
    response_model_exclude_unset=True,
)
def cancel(election_id: ElectionId, body: TransitionBody, session: Tx, caller: Caller, svc: Svc) -> dict:
    return _transition(session, svc, caller, election_id, Trigger.CANCEL, body)


@router.post(
    "/{election_id}/voting-method",
    summary="设定选举方式（居委会组织法：全体选民、每户派代表或居民代表；投票开始后不能更改）",
    response_model=schemas.ElectionOut,
    response_model_exclude_unset=True,
)
def set_voting_method(
    election_id: ElectionId, body: VotingMethodBody, session: Tx, caller: Caller, svc: Svc
) -> dict:
    caller.check_write()
    visible_election(session, caller, election_id)
    election = commands.set_voting_method(
        session,
        election_id,
        body.voting_method,
        clock=svc.clock,
        actor=caller.username,
        expected_version=body.expected_version,
    )
    session.flush()
    return election_view(session, svc, election)


@router.post(
    "/{election_id}/reschedule",
    summary="调整选举日（或任期届满日），重新计算全部法定期限",
    response_model=schemas.Rescheduled,
    response_model_exclude_unset=True,
)
def reschedule(election_id: ElectionId, body: RescheduleBody, session: Tx, caller: Caller, svc: Svc) -> dict:
    caller.check_write()
    visible_election(session, caller, election_id)
    report = commands.reschedule(
        session,
        election_id,
        body.anchor_date,
        clock=svc.clock,
        actor=caller.username,
        shift_plan=not body.keep_plan,
        accept_violations=body.accept_violations,
        holidays=HolidayCalendar(),
    )
    return {
        "id": election_id,
        "anchor_date": body.anchor_date.isoformat(),
        "ok": report.ok,
        "violations": [m.as_dict() for m in report.violations],
        "warnings": [w.as_dict() for w in report.warnings],
        "election": election_view(session, svc, election_id),
    }


# -- milestones ---------------------------------------------------------------------------
@router.post(
    "/{election_id}/milestones/{key}/complete",
    summary="办结一个工作节点",
    response_model=schemas.MilestoneCompleted,
)
def complete_milestone(
    election_id: ElectionId,
    key: MilestoneKey,
    session: Tx,
    caller: Caller,
    svc: Svc,
    body: Annotated[CompleteBody | None, Body()] = None,
) -> dict:
    caller.check_write()
    visible_election(session, caller, election_id)
    body = body or CompleteBody()
    m = commands.complete_milestone(
        session,
        election_id,
        key,
        clock=svc.clock,
        actor=caller.username,
        on=body.on,
        expected_version=body.expected_version,
        confirm_early=body.confirm_early,
    )
    return {
        "election_id": election_id,
        "key": key,
        "status": m.status,
        "done_on": m.done_on.isoformat() if m.done_on else None,
        "late": m.late,
        "done_by": m.done_by,
    }


@router.post(
    "/{election_id}/milestones/{key}/waive",
    summary="免除一个不适用的节点（须说明理由）",
    response_model=schemas.MilestoneWaived,
)
def waive_milestone(
    election_id: ElectionId, key: MilestoneKey, body: WaiveBody, session: Tx, caller: Caller, svc: Svc
) -> dict:
    caller.check_write()
    visible_election(session, caller, election_id)
    m = commands.waive_milestone(
        session, election_id, key, reason=body.reason, clock=svc.clock, actor=caller.username
    )
    return {"election_id": election_id, "key": key, "status": m.status, "waived_reason": m.waived_reason}
