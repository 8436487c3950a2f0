"""The command centre over HTTP: the grid as JSON (the same view as the dashboard page and the
进度通报), 催办, and the corrections of a recorded milestone (撤销办结, 更正日期)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from schedules.chase import chase
from service.api.deps import INT_MAX, Caller, Svc, Tx
from service.api.elections import ElectionId, LawfulDate, MilestoneKey, Reason, visible_election
from service.api.problems import PROBLEM_RESPONSES
from service.api.schemas import elections as election_schemas
from service.api.schemas import grid as schemas
from service.web.grid import load_grid
from workflow.commands import corrections
from workflow.views.grid import grid_dict

router = APIRouter(prefix="/api/v1", tags=["command-centre"], responses=PROBLEM_RESPONSES)
Text = Annotated[str | None, Query(max_length=60)]


@router.get("/grid", summary="进度网格：管辖范围内各选举 × 各工作节点的状态、统计与紧急程度排序", response_model=schemas.Grid)
def get_grid(
    session: Tx,
    caller: Caller,
    svc: Svc,
    jurisdiction: Annotated[str | None, Query(max_length=32, description="行政区域代码（默认本账号的）")] = None,
    kind: Text = None,
    phase: Annotated[str | None, Query(max_length=30, description="选举当前阶段")] = None,
    state: Annotated[str | None, Query(max_length=20, description="至少有一个节点处于该状态")] = None,
    overdue: Annotated[bool, Query(description="只看有逾期节点的选举")] = False,
    q: Annotated[str | None, Query(max_length=50, description="按乡镇或选举名称搜索")] = None,
    finished: Annotated[bool, Query(description="包括已结束、已取消的选举")] = False,
    on: Annotated[str | None, Query(max_length=10, description="统计日期（默认今天）")] = None,
    limit: Annotated[int, Query(ge=1, le=2000, description="每种选举最多返回的行数（按紧急程度）")] = 200,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
) -> Response:
    g = load_grid(
        session, caller, svc, jurisdiction=jurisdiction, kind=kind, phase=phase, state=state,
        overdue=overdue, q=q, finished=finished, on=on,
    )
    # Serialised here: validating thousands of cells against the response model again costs
    # more than building them (bench/grid.py); the model documents the body all the same.
    body = json.dumps(grid_dict(g, limit=limit, offset=offset), ensure_ascii=False, separators=(",", ":"))
    return Response(body, media_type="application/json")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Target(_Body):
    election_id: int = Field(ge=1, le=INT_MAX)
    key: str | None = Field(None, max_length=60, description="节点；省略时催办该选举所有逾期和即将到期的节点")


class ChaseBody(_Body):
    targets: list[Target] = Field(min_length=1, max_length=2000)


@router.post("/grid/chase", summary="催办（每个节点每天最多一次，经委员会配置的渠道发送）", response_model=schemas.ChaseResult)
def post_chase(body: ChaseBody, session: Tx, caller: Caller, svc: Svc) -> dict:
    caller.check_write()
    for election_id in {t.election_id for t in body.targets}:
        visible_election(session, caller, election_id)
    results = chase(session, [(t.election_id, t.key) for t in body.targets], clock=svc.clock, actor=caller.username)
    return {
        "items": [
            {
                "election_id": r.election_id, "jurisdiction": r.jurisdiction, "key": r.key,
                "milestone": r.milestone, "outcome": r.outcome, "channels": list(r.channels), "text": r.text,
            }
            for r in results
        ]
    }


class UndoBody(_Body):
    reason: Reason = Field(description="撤销理由（必填）")


class RedateBody(_Body):
    on: LawfulDate = Field(description="更正后的办结日期")
    reason: Reason = Field(description="更正理由（必填）")
    confirm_early: bool = False


def _milestone_out(election_id: int, key: str, m) -> dict:
    return {
        "election_id": election_id,
        "key": key,
        "status": m.status,
        "done_on": m.done_on.isoformat() if m.done_on else None,
        "late": m.late,
        "done_by": m.done_by,
    }


@router.post(
    "/elections/{election_id}/milestones/{key}/undo",
    summary="撤销办结（须说明理由；后续依赖节点已办结时拒绝）",
    response_model=election_schemas.MilestoneCompleted,
)
def undo(election_id: ElectionId, key: MilestoneKey, body: UndoBody, session: Tx, caller: Caller, svc: Svc) -> dict:
    caller.check_write()
    visible_election(session, caller, election_id)
    m = corrections.undo_completion(session, election_id, key, reason=body.reason, clock=svc.clock, actor=caller.username)
    return _milestone_out(election_id, key, m)


@router.post(
    "/elections/{election_id}/milestones/{key}/redate",
    summary="更正办结日期（须说明理由；后续依赖节点已办结时拒绝）",
    response_model=election_schemas.MilestoneCompleted,
)
def redate(election_id: ElectionId, key: MilestoneKey, body: RedateBody, session: Tx, caller: Caller, svc: Svc) -> dict:
    caller.check_write()
    visible_election(session, caller, election_id)
    m = corrections.correct_date(
        session, election_id, key, body.on, reason=body.reason, clock=svc.clock, actor=caller.username,
        confirm_early=body.confirm_early,
    )
    return _milestone_out(election_id, key, m)
