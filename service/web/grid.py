"""The command centre in the dashboard: the grid (every township at a glance), its exports
(进度通报 XLSX / DOCX), 催办 from a cell, a row or a selection, the milestone page with its
actions (complete with confirmation, waive, 撤销办结, 更正日期) and the confirmation step before
advancing a phase. Every page reads the same `workflow.views.grid.grid`."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from schedules.chase import ALREADY, NO_CHANNEL, SENT, chase
from service.api.deps import INT_MAX, Admitted, Principal, Svc, Tx, services
from service.web.routes import _form_caller, form_principal, render, web_principal
from workflow.commands import auth, corrections
from workflow.commands import elections as commands
from workflow.errors import DomainError, not_found
from workflow.kinds import get_kind
from workflow.machine import Trigger, state_name
from workflow.timetable import not_applicable
from workflow.timeutil import local_date
from workflow.views import jurisdictions
from workflow.views.grid import (
    BLOCKED,
    DONE,
    DONE_LATE,
    DUE_SOON,
    NOT_APPLICABLE,
    OPEN_STATES,
    OVERDUE,
    STATE_TEXT,
    STATES,
    WAIVED,
    Filters,
    Grid,
    KindGrid,
    Row,
    data_version,
    grid,
)
from workflow.views.progress_report import report_docx, report_xlsx
from workflow.views.status import ViewCache

router = APIRouter(include_in_schema=False)
ROWS_SHOWN = 100  # per kind on the page (most urgent first); counts and exports cover every row
GRID_CACHE = ViewCache(size=64)  # built grids, read-only once built (a province's: ~2 MB)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _date(value: str | None, field: str) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise DomainError("E_BAD_DATE", f"{field} 日期格式有误：{value}（应为 YYYY-MM-DD）", field) from None


def load_grid(
    session: Session,
    caller: Principal,
    svc,
    *,
    jurisdiction: str | None,
    kind: str | None,
    phase: str | None,
    state: str | None,
    overdue: bool,
    q: str | None,
    finished: bool,
    on: str | None,
) -> Grid:
    """The caller's grid: its own jurisdiction, or one inside it; as of today or a chosen date."""
    root = caller.user.jurisdiction
    if jurisdiction:
        found = jurisdictions.by_code(session, jurisdiction[:32])
        if found is None:
            raise DomainError("E_NOT_FOUND", f"未找到行政区域 {jurisdiction}", "jurisdiction")
        caller.check_jurisdiction(session, found)
        root = found
    if state and state not in STATES:
        raise DomainError("E_BAD_STATE", f"未知的状态 {state!r}", "state")
    today = local_date(svc.clock.now(), root.timezone)
    as_of = _date(on, "on") or today
    if as_of > today:
        raise DomainError("E_DATE_IN_FUTURE", f"通报日期 {as_of} 晚于今天 {today}", "on")
    filters = Filters(
        kind=kind or None,
        phase=phase or None,
        state=state or None,
        overdue_only=overdue,
        search=(q or "").strip()[:50] or None,
        include_finished=finished,
    )
    # Cached per (database, scope, filters, date, data version): a repeated look at an unchanged
    # province costs one statement instead of ~100 ms of rows (bench/grid.py).
    key = (id(svc.db), root.id, filters, as_of, data_version(session))
    found = GRID_CACHE.get(key)
    if found is None:
        found = grid(session, root, as_of, filters, local=lambda instant: local_date(instant, root.timezone))
        GRID_CACHE.put(key, found)
    return found


# The grid's cells are written here rather than by a loop in the template: a province page
# shows thousands of cells, and one Jinja expression per cell attribute (escaping each) cost
# more than building the grid (bench/grid.py). The markup is the template's, byte for byte.
def _cell_label(state: str, days: int | None) -> str:
    if state == OVERDUE:
        return f"逾{days}"
    if state in (DONE, DONE_LATE):
        return "✓"
    if state == WAIVED:
        return "免"
    if state == NOT_APPLICABLE:
        return "不适用"
    if state == DUE_SOON:
        return f"晚{-days}" if days < 0 else f"{days}天"
    if state == BLOCKED:
        return "阻"
    return "·"


def desk_cells(k: KindGrid, r: Row) -> Markup:
    """One desk row's cells (`<td>` per column of the kind)."""
    parts = []
    link = f"/elections/{r.election_id}/milestones/"
    cells = r.cells
    for c in k.columns:
        cell = cells.get(c.key)
        if cell is None:
            parts.append('\n  <td class="cell none"></td>\n  ')
            continue
        key = escape(c.key)
        chased = cell.chased
        parts.append(
            f'\n  <td class="cell s-{escape(cell.state)}{" chased" if chased else ""}" data-key="{key}">'
            f'<a href="{link}{key}" title="{escape(c.name)}：{escape(cell.title)}">{escape(_cell_label(cell.state, cell.days))}'
            f'{f"<sup>催{chased}</sup>" if chased else ""}</a></td>\n  '
        )
    return Markup("".join(parts))


def phone_tags(r: Row, names: dict[str, str]) -> Markup:
    """A phone row's tags: its overdue, blocked and due-soon cells, in that order."""
    parts = []
    cells = r.cells.values()
    for wanted in (OVERDUE, BLOCKED, DUE_SOON):
        for cell in cells:
            if cell.state != wanted:
                continue
            days = cell.days
            if wanted == OVERDUE:
                text = f"已逾期 {days} 天"
            elif wanted == DUE_SOON and days is not None and days < 0:
                text = f"晚于计划 {-days} 天"
            elif wanted == DUE_SOON and days is not None:
                text = f"剩 {days} 天"
            else:
                text = STATE_TEXT[wanted]
            parts.append(
                f'<a class="tag s-{escape(wanted)}" href="/elections/{r.election_id}/milestones/{escape(cell.key)}">'
                f'{escape(names[cell.key])} · {escape(text)}{f" · 催{cell.chased}" if cell.chased else ""}</a>'
            )
    return Markup("".join(parts))


Filter = Annotated[str | None, Query(max_length=60)]


@router.get("/grid")
def grid_page(
    request: Request,
    session: Tx,
    svc: Svc,
    jurisdiction: Filter = None,
    kind: Filter = None,
    phase: Filter = None,
    state: Filter = None,
    overdue: bool = False,
    q: Filter = None,
    finished: bool = False,
    on: Filter = None,
    msg: Annotated[str | None, Query(max_length=2000)] = None,
    err: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    caller = web_principal(request, session)
    g = load_grid(
        session, caller, svc, jurisdiction=jurisdiction, kind=kind, phase=phase, state=state,
        overdue=overdue, q=q, finished=finished, on=on,
    )
    params = {
        k: v
        for k, v in {
            "jurisdiction": jurisdiction, "kind": kind, "phase": phase, "state": state,
            "overdue": "1" if overdue else None, "q": q, "finished": "1" if finished else None,
        }.items()
        if v
    }
    kinds = sorted({k.kind for k in g.kinds} | ({kind} if kind else set()))
    phase_names = {}
    for k in kinds:
        for p in get_kind(k).phases:
            phase_names.setdefault(p.key, p.name)
    return render(
        request,
        "grid.html",
        caller=caller,
        g=g,
        states=STATES,
        open_states=OPEN_STATES,
        state_text=STATE_TEXT,
        kind_options=[(k, get_kind(k).name) for k in ("people_congress", "village_committee", "residents_committee", "party_branch")],
        phase_names=phase_names,
        f={"jurisdiction": jurisdiction or "", "kind": kind or "", "phase": phase or "", "state": state or "",
           "overdue": overdue, "q": q or "", "finished": finished},
        query=urlencode(params),
        here=str(request.url.path) + ("?" + urlencode(params) if params else ""),
        rows_shown=ROWS_SHOWN,
        desk_cells=desk_cells,
        phone_tags=phone_tags,
        column_names={k.kind: {c.key: c.name for c in k.columns} for k in g.kinds},
        can_write=auth.can_write(caller.user),
        # A big grid's report is written in the background (service/web/render_jobs.py).
        export_job=g.rows_total > getattr(svc.settings, "export_job_rows", 2000),
        msg=msg,
        err=err,
    )


@router.get("/grid/report.{fmt}")
def grid_report(
    request: Request,
    session: Tx,
    svc: Svc,
    fmt: Annotated[str, PathParam(pattern="^(xlsx|docx)$")],
    jurisdiction: Filter = None,
    kind: Filter = None,
    phase: Filter = None,
    state: Filter = None,
    overdue: bool = False,
    q: Filter = None,
    on: Filter = None,
) -> Response:
    """The 进度通报 for a chosen date (default today), from the same grid as the page."""
    caller = web_principal(request, session)
    g = load_grid(
        session, caller, svc, jurisdiction=jurisdiction, kind=kind, phase=phase, state=state,
        overdue=overdue, q=q, finished=False, on=on,
    )
    body, media = (report_xlsx(g), XLSX) if fmt == "xlsx" else (report_docx(g), DOCX)
    name = f"{g.root_name}换届选举进度通报-{g.today.isoformat()}.{fmt}"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f"attachment; filename=\"progress-{g.today}.{fmt}\"; filename*=UTF-8''{quote(name)}"},
    )


def _back(target: str, default: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else default


def _redirect(back: str, *, msg: str | None = None, err: str | None = None, anchor: str = "") -> RedirectResponse:
    sep = "&" if "?" in back else "?"
    key, text = ("err", err) if err else ("msg", msg or "")
    return RedirectResponse(f"{back}{sep}{key}={quote(text)}{anchor}", status_code=303)


@router.post("/grid/chase")
async def chase_form(request: Request, _admission: Admitted) -> Response:
    """催办 a selection: `target` values are "<election id>" (the row's overdue and due-soon
    milestones) or "<election id>/<milestone key>" (one cell)."""
    svc = services(request)
    form = await request.form()
    back = _back(str(form.get("back") or "/grid"), "/grid")
    milestone = str(form.get("milestone") or "")[:60] or None  # one column for every selected row
    targets: list[tuple[int, str | None]] = []
    for value in form.getlist("target")[:2000]:
        election, _, key = str(value).partition("/")
        if election.isdigit() and 0 < int(election) <= INT_MAX and (int(election), key or milestone) not in targets:
            targets.append((int(election), key[:60] or milestone))
    try:
        with svc.db.transaction() as session:
            caller = form_principal(request, session, str(form.get("csrf") or ""))
            if not auth.can_write(caller.user):
                raise DomainError("E_READ_ONLY", f"「{caller.role_name}」角色不能催办", "role")
            if not targets:
                raise DomainError("E_NOTHING_SELECTED", "请先勾选要催办的乡镇", "target")
            for election_id in {e for e, _ in targets}:
                election = commands.get_election(session, election_id)
                if not caller.may_see(session, election.jurisdiction_id):
                    raise DomainError("E_OUT_OF_SCOPE", "所选选举不在本账号管辖范围内", "target")
            results = chase(session, targets, clock=svc.clock, actor=caller.username)
    except DomainError as error:
        return _redirect(back, err=error.message)
    sent = sum(1 for r in results if r.outcome == SENT)
    lines = [r.text for r in results]
    summary = f"催办 {sent} 项已排队发送" + (
        "；" + "；".join(r.text for r in results if r.outcome in (ALREADY, NO_CHANNEL)) if sent < len(results) else ""
    )
    return _redirect(back, msg=summary if len(lines) > 3 else "；".join(lines))


# -- the milestone page and its actions ---------------------------------------------------
@router.get("/elections/{election_id}/milestones/{key}")
def milestone_page(
    request: Request,
    session: Tx,
    svc: Svc,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    key: Annotated[str, PathParam(max_length=60)],
    msg: Annotated[str | None, Query(max_length=2000)] = None,
    err: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:
    caller = web_principal(request, session)
    election = commands.get_election(session, election_id)
    if not caller.may_see(session, election.jurisdiction_id):
        raise not_found("选举", election_id, "election_id")  # as a missing one: nothing leaks
    kind = commands.kind_of(election)  # as it applies: a province's variant adds milestones
    if key not in kind.milestones:
        raise DomainError("E_UNKNOWN_MILESTONE", f"{kind.name}没有节点 {key!r}", "key")
    spec = kind.milestones[key]
    m = election.milestone(key)
    today = local_date(svc.clock.now(), election.jurisdiction.timezone)
    g = grid(session, election.jurisdiction, today, Filters(kind=election.kind, include_finished=True),
             local=lambda instant: local_date(instant, election.jurisdiction.timezone))
    row = next((r for r in g.rows() if r.election_id == election_id), None)
    cell = row.cells.get(key) if row else None
    follows = [kind.milestones[k].name for k, s in kind.milestones.items() if key in s.before]
    dependent_done = [
        kind.milestones[k].name
        for k in corrections.dependents(kind, key)
        if election.milestone(k).status == "done"
    ]
    active = election.state not in ("closed", "cancelled", "suspended")
    return render(
        request,
        "milestone.html",
        caller=caller,
        election=election,
        kind=kind,
        spec=spec,
        m=m,
        cell=cell,
        state_text=STATE_TEXT,
        today=today,
        unlocks=corrections.unlocks(election, kind, key),
        follows=follows,
        dependent_done=dependent_done,
        state_name=state_name(kind, election.state),
        phase_name=kind.phase(spec.phase).name,
        can_write=auth.can_write(caller.user) and active and not spec.computed,
        back=f"/elections/{election_id}/milestones/{key}",
        msg=msg,
        err=err,
    )


def _milestone_action(request: Request, election_id: int, key: str, csrf: str, work) -> Response:
    svc = services(request)
    back = f"/elections/{election_id}/milestones/{quote(key)}"
    try:
        with svc.db.transaction() as session:
            caller = _form_caller(request, session, election_id, csrf)
            text = work(session, caller, svc)
    except DomainError as error:
        return _redirect(back, err=error.message)
    return _redirect(back, msg=text)


ElectionId = Annotated[int, PathParam(ge=1, le=INT_MAX)]
Key = Annotated[str, PathParam(max_length=60)]
Csrf = Annotated[str, Form(max_length=100)]
Reason = Annotated[str, Form(max_length=500)]


@router.post("/elections/{election_id}/milestones/{key}/waive")
def waive_form(request: Request, _admission: Admitted, election_id: ElectionId, key: Key, csrf: Csrf = "", reason: Reason = "") -> Response:
    def work(session, caller, svc):
        m = commands.waive_milestone(session, election_id, key, reason=reason, clock=svc.clock, actor=caller.username)
        return f"已免除「{get_kind(m.election.kind).milestones[key].name}」：{m.waived_reason}"

    return _milestone_action(request, election_id, key, csrf, work)


@router.post("/elections/{election_id}/milestones/{key}/undo")
def undo_form(request: Request, _admission: Admitted, election_id: ElectionId, key: Key, csrf: Csrf = "", reason: Reason = "") -> Response:
    def work(session, caller, svc):
        corrections.undo_completion(session, election_id, key, reason=reason, clock=svc.clock, actor=caller.username)
        name = get_kind(commands.get_election(session, election_id).kind).milestones[key].name
        return f"已撤销「{name}」的办结（理由：{reason.strip()}），提醒已重新安排"

    return _milestone_action(request, election_id, key, csrf, work)


@router.post("/elections/{election_id}/milestones/{key}/redate")
def redate_form(
    request: Request,
    _admission: Admitted,
    election_id: ElectionId,
    key: Key,
    csrf: Csrf = "",
    on: Annotated[str, Form(max_length=20)] = "",
    reason: Reason = "",
    confirm_early: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    def work(session, caller, svc):
        new = _date(on, "on")
        if new is None:
            raise DomainError("E_BAD_DATE", "请填写更正后的办结日期", "on")
        m = corrections.correct_date(
            session, election_id, key, new, reason=reason, clock=svc.clock, actor=caller.username,
            confirm_early=bool(confirm_early),
        )
        name = get_kind(commands.get_election(session, election_id).kind).milestones[key].name
        return f"已将「{name}」的办结日期更正为 {m.done_on}" + ("（已超过法定期限）" if m.late else "")

    return _milestone_action(request, election_id, key, csrf, work)


@router.post("/elections/{election_id}/milestones/{key}/chase")
def chase_one(request: Request, _admission: Admitted, election_id: ElectionId, key: Key, csrf: Csrf = "") -> Response:
    def work(session, caller, svc):
        return "；".join(r.text for r in chase(session, [(election_id, key)], clock=svc.clock, actor=caller.username))

    return _milestone_action(request, election_id, key, csrf, work)


# -- advancing a phase: say what will happen, then ask -------------------------------------
@router.get("/elections/{election_id}/advance")
def advance_confirm(request: Request, session: Tx, svc: Svc, election_id: ElectionId) -> HTMLResponse:
    caller = web_principal(request, session)
    election = commands.get_election(session, election_id)
    if not caller.may_see(session, election.jurisdiction_id):
        raise not_found("选举", election_id, "election_id")  # as a missing one: nothing leaks
    kind = commands.kind_of(election)  # as it applies: a variant's milestones are its rows
    decision = commands.decide(election, Trigger.ADVANCE)
    today = local_date(svc.clock.now(), election.jurisdiction.timezone)
    target = decision.target
    target_milestones = [
        {"name": s.name, "latest": election.milestone(k).latest, "planned": election.milestone(k).planned_date}
        for k, s in kind.milestones.items()
        if target and s.phase == target and not s.computed
    ]
    waiting = not_applicable(kind, election.milestones)  # approvals not needed (不适用)
    open_now = [
        kind.milestones[m.key].name
        for m in election.milestones
        if m.phase == election.state
        and not m.settled
        and not kind.milestones[m.key].computed
        and m.key not in waiting
    ]
    return render(
        request,
        "advance.html",
        caller=caller,
        election=election,
        decision=decision,
        current=state_name(kind, election.state),
        target=state_name(kind, target) if target else None,
        target_milestones=target_milestones,
        open_now=open_now,
        today=today,
        can_write=auth.can_write(caller.user),
    )
