"""Dashboard: one notice of an election — its 样稿 preview with the number and date it would
get, publishing it (asked to confirm first), PDF and Word downloads of what was published — and
the committee's notice settings (numbering, 届次, higher organisation, own wording).

The work is the use cases' (`workflow/commands/notices.py`, `notice_settings.py`), one
transaction per form, as `huanjie notices …` and the API do."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from notices.catalog import SPECS, Scope, get_spec
from notices.render import cn_number
from service.api.deps import INT_MAX, Admitted, Principal, Svc, Tx, admitted, services
from service.web.routes import form_principal, render, web_principal
from workflow.commands import auth, notice_settings
from workflow.commands import elections as commands
from workflow.commands import notices as notice_commands
from workflow.commands.voter_districts import list_districts
from workflow.errors import DomainError
from workflow.store.models import Election

router = APIRouter(include_in_schema=False)

ElectionPath = Annotated[int, PathParam(ge=1, le=INT_MAX)]
TemplatePath = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
NUMBERING_NAMES = {"year": "按年编号（京选公〔2026〕3号）", "round": "按届编号（第3号，跨年不重新起算）"}


def _parse_date(text: str, field: str = "on") -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError("E_BAD_DATE", f"公告日期格式有误：{text}（应为 YYYY-MM-DD）", field) from None


def _writer(request: Request, session: Session, election_id: int, csrf: str) -> tuple[Principal, Election]:
    caller = form_principal(request, session, csrf)
    election = commands.get_election(session, election_id)
    if not caller.may_see(session, election.jurisdiction_id):
        raise DomainError("E_OUT_OF_SCOPE", "该选举不在本账号管辖范围内", "election_id")
    if not auth.can_write(caller.user):
        raise DomainError("E_READ_ONLY", f"「{caller.role_name}」角色不能发布公告", "role")
    return caller, election


def notice_url(election_id: int, template: str, district: str | None = None, **extra) -> str:
    query = {k: v for k, v in {"district": district, **extra}.items() if v}
    return f"/elections/{election_id}/notices/{template}" + (f"?{urlencode(query)}" if query else "")


def _api(election_id: int, template: str, district: str | None, on: date | None, fmt: str) -> str:
    query = {"format": fmt, "district": district, "on": on.isoformat() if on else None}
    if fmt != "html":
        query["download"] = "true"
    return f"/api/v1/elections/{election_id}/notices/{template}/preview?" + urlencode(
        {k: v for k, v in query.items() if v}
    )


def _page(
    request: Request,
    session: Session,
    svc,
    election_id: int,
    template: str,
    district: str | None,
    on: date | None,
    *,
    confirm: bool = False,
    status: int = 200,
    msg: str | None = None,
    err: str | None = None,
    published_id: int | None = None,
    wording_draft: list[str] | None = None,
):
    caller = web_principal(request, session)
    election = commands.get_election(session, election_id)
    if not caller.may_see(session, election.jurisdiction_id):
        return render(request, "error.html", 403, caller=caller, message="该选举不在本账号管辖范围内。")
    spec = get_spec(template)
    if election.kind not in spec.kinds:
        return render(request, "error.html", 404, caller=caller, message=f"{spec.name}不适用于本选举。")
    districts = list_districts(session, election_id) if spec.scope is not Scope.ELECTION else []
    if spec.scope is Scope.DISTRICT and not district and districts:
        district = districts[0]["code"]
    preview = problem = None
    try:
        preview = notice_commands.render_notice(
            session,
            election_id,
            template,
            fmt="html",
            district=district,
            on=on,
            clock=svc.clock,
            wording=wording_draft,
            publishable=True,  # the page publishes with the date it shows (a planned date ahead: today)
        )
    except DomainError as error:
        problem = error.message
    catalog = notice_commands.notice_catalog(session, election_id)
    entry = next(t for t in catalog["templates"] if t["template"] == template)
    versions = [p for p in entry["published"] if p["district"] == (district or None)]
    base = f"/api/v1/elections/{election_id}/notices/published"
    for v in versions:
        v["pdf_url"] = f"{base}/{v['id']}?format=pdf"
        v["docx_url"] = f"{base}/{v['id']}?format=docx"
    issued_on = preview.issued_on if preview else on
    place = election.jurisdiction
    return render(
        request,
        "notice_page.html",
        status,
        caller=caller,
        election=election,
        spec=spec,
        district=district,
        districts=districts,
        preview=preview,
        problem=problem,
        issued_on=issued_on,
        versions=versions,
        published_id=published_id,
        preview_html=_api(election_id, template, district, issued_on, "html") if preview else None,
        preview_pdf=_api(election_id, template, district, issued_on, "pdf") if preview else None,
        preview_docx=_api(election_id, template, district, issued_on, "docx") if preview else None,
        can_write=auth.can_write(caller.user) and election.state not in ("closed", "cancelled"),
        confirm=confirm,
        settings=notice_settings.settings_of(place),
        term_name=f"第{cn_number(place.congress_term)}届" if place.congress_term else "",
        numbering_names=NUMBERING_NAMES,
        wording=notice_settings.current_wording(session, place.id, template),
        wording_draft=wording_draft,
        msg=msg,
        err=err,
    )


@router.get("/elections/{election_id}/notices/{template}")
def notice_page(
    request: Request,
    session: Tx,
    svc: Svc,
    election_id: ElectionPath,
    template: TemplatePath,
    district: Annotated[str | None, Query(max_length=32)] = None,
    on: Annotated[str | None, Query(max_length=20)] = None,
    msg: Annotated[str | None, Query(max_length=300)] = None,
    err: Annotated[str | None, Query(max_length=300)] = None,
    published: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
):
    if template not in SPECS:
        caller = web_principal(request, session)
        return render(request, "error.html", 404, caller=caller, message=f"没有名为 {template} 的公告。")
    try:
        day = _parse_date(on or "")
    except DomainError as error:
        day, err = None, error.message
    return _page(
        request, session, svc, election_id, template, district or None, day, msg=msg, err=err, published_id=published
    )


@router.post("/elections/{election_id}/notices/{template}/publish")
def publish_form(
    request: Request,
    election_id: ElectionPath,
    template: TemplatePath,
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=32)] = "",
    on: Annotated[str, Form(max_length=20)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """First post: the confirmation page (number, date, what publishing does). Second post
    (`confirmed=1`): publish, then the page offers PDF and Word. Not `Admitted` for the whole
    request: publishing renders with no transaction open and no request slot held
    (`publish_staged`), each short unit of work takes the gate on its own."""
    svc = services(request)
    code = district.strip() or None
    try:
        day = _parse_date(on)
        if confirmed != "1":
            with admitted(svc, reading=True) as session:
                _writer(request, session, election_id, csrf)
                return _page(request, session, svc, election_id, template, code, day, confirm=True)
        with admitted(svc, reading=True) as session:
            actor = _writer(request, session, election_id, csrf)[0].username  # (read before it expires)
        result = notice_commands.publish_staged(
            lambda: admitted(svc),
            lambda: admitted(svc, reading=True),
            election_id,
            template,
            fmt="pdf",
            district=code,
            on=day,
            clock=svc.clock,
            actor=actor,
        )
        n = result.notice
        text = f"已发布「{n.title}」第 {n.version} 版" + (f"，文号 {n.number}" if n.number else "")
        text += f"，公告日期 {n.issued_on}"
        if result.milestone_completed:
            text += "，对应节点已办结"
        if result.milestone_note:
            text += f"（{result.milestone_note}）"
        published = n.id
    except DomainError as error:
        target = notice_url(election_id, template, code, on=on.strip() or None, err=error.message)
        return RedirectResponse(target, status_code=303)
    return RedirectResponse(
        notice_url(election_id, template, code, msg=text, published=str(published)) + "#published", status_code=303
    )


@router.post("/elections/{election_id}/notices/{template}/wording")
def wording_form(
    request: Request,
    _admission: Admitted,
    election_id: ElectionPath,
    template: TemplatePath,
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=32)] = "",
    text: Annotated[str, Form(max_length=12000)] = "",
    action: Annotated[str, Form(max_length=10)] = "save",
) -> Response:
    """A new version of the committee's lead paragraphs (blank lines separate paragraphs; empty
    restores the template's text), or (`action=preview`) the notice with that wording, as a
    样稿, nothing saved."""
    svc = services(request)
    code = district.strip() or None
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    try:
        if action == "preview":
            with svc.db.reading() as session:
                _writer(request, session, election_id, csrf)
                return _page(
                    request,
                    session,
                    svc,
                    election_id,
                    template,
                    code,
                    None,
                    msg="以下样稿采用拟用措辞，尚未保存",
                    wording_draft=paragraphs,
                )
        with svc.db.transaction() as session:
            caller, election = _writer(request, session, election_id, csrf)
            row = notice_settings.set_wording(
                session, election.jurisdiction, template, paragraphs, clock=svc.clock, actor=caller.username
            )
            message = (
                f"已保存本委员会的第 {row.version} 版措辞，下方预览已采用"
                if row.paragraphs
                else f"已恢复模板原文（第 {row.version} 版）"
            )
    except DomainError as error:
        return RedirectResponse(notice_url(election_id, template, code, err=error.message) + "#wording", status_code=303)
    return RedirectResponse(notice_url(election_id, template, code, msg=message), status_code=303)


@router.post("/elections/{election_id}/notice-settings")
def settings_form(
    request: Request,
    _admission: Admitted,
    election_id: ElectionPath,
    csrf: Annotated[str, Form(max_length=100)] = "",
    back: Annotated[str, Form(max_length=300)] = "",
    numbering: Annotated[str, Form(max_length=10)] = "",
    congress_term: Annotated[str, Form(max_length=10)] = "",
    superior_org: Annotated[str | None, Form(max_length=300)] = None,
) -> Response:
    svc = services(request)
    target = back if back.startswith(f"/elections/{election_id}") else f"/elections/{election_id}"
    join = "&" if "?" in target else "?"
    try:
        term = None
        if congress_term.strip():
            if not congress_term.strip().isdigit():
                raise DomainError("E_BAD_TERM", f"届次应为整数：{congress_term}", "congress_term")
            term = int(congress_term.strip())
        with svc.db.transaction() as session:
            caller, election = _writer(request, session, election_id, csrf)
            notice_settings.update_settings(
                session,
                election.jurisdiction,
                numbering=numbering or None,
                congress_term=term,
                superior_org=superior_org,
                clock=svc.clock,
                actor=caller.username,
            )
    except DomainError as error:
        return RedirectResponse(f"{target}{join}err={quote(error.message)}#settings", status_code=303)
    return RedirectResponse(f"{target}{join}msg={quote('公告设置已保存')}#settings", status_code=303)
