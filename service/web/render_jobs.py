"""Dashboard: PDF and Word 样稿 and big exports made in the background (issue 15). The notice
page's buttons queue a render job (its data snapshot in one short transaction) and lead to the
job's page, which refreshes itself every 2 seconds until the file is ready and then offers the
download. A big grid's 进度通报 (more rows than the setting `export_job_rows`) is queued the same
way from the grid page (`/grid/report-jobs`): its page and download are `/exports/{id}`, for its
requester alone. The work is `workflow/commands/render_jobs.py`'s, as the API's routes do."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response

from service.api.deps import INT_MAX, Admitted, Tx, out_of_scope, services
from service.web.grid import DOCX, XLSX, load_grid
from service.web.notice_pages import ElectionPath, TemplatePath, _parse_date, notice_url
from service.web.routes import form_principal, render, web_principal
from workflow.commands import elections as commands
from workflow.commands import render_jobs
from workflow.errors import DomainError, NotFound
from workflow.views import progress_report

router = APIRouter(include_in_schema=False)

JobPath = Annotated[int, PathParam(ge=1, le=INT_MAX)]
REFRESH_SECONDS = 2


def job_url(election_id: int, job_id: int) -> str:
    return f"/elections/{election_id}/render-jobs/{job_id}"


@router.post("/elections/{election_id}/notices/{template}/render-jobs")
def submit_form(
    request: Request,
    _admission: Admitted,
    election_id: ElectionPath,
    template: TemplatePath,
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=32)] = "",
    on: Annotated[str, Form(max_length=20)] = "",
    format: Annotated[str, Form(max_length=10)] = "pdf",
) -> Response:
    """Anyone who may preview the notice may have its file made (nothing is published)."""
    svc = services(request)
    code = district.strip() or None
    try:
        day = _parse_date(on)
        with svc.db.transaction() as session:
            caller = form_principal(request, session, csrf)
            election = commands.get_election(session, election_id)
            if not caller.may_see(session, election.jurisdiction_id):
                raise out_of_scope(election_id)
            job = render_jobs.submit(
                session,
                election_id,
                template,
                fmt=format,
                district=code,
                on=day,
                clock=svc.clock,
                actor=caller.username,
            )
            render_jobs.queue_after_commit(session, svc.renders(), job.id)
            job_id = job.id
    except DomainError as error:
        return RedirectResponse(notice_url(election_id, template, code, err=error.message), status_code=303)
    return RedirectResponse(job_url(election_id, job_id), status_code=303)


@router.get("/elections/{election_id}/render-jobs/{job_id}")
def job_page(request: Request, session: Tx, election_id: ElectionPath, job_id: JobPath):
    caller = web_principal(request, session)
    try:
        election = commands.get_election(session, election_id)
        if not caller.may_see(session, election.jurisdiction_id):
            raise out_of_scope(election_id)
        job = render_jobs.get_job(session, job_id, election_id)
    except NotFound as error:
        return render(request, "error.html", 404, caller=caller, message=error.message)
    pending = job.status in ("queued", "running")
    api = f"/api/v1/elections/{election_id}/render-jobs/{job_id}"
    return render(
        request,
        "render_job.html",
        caller=caller,
        election=election,
        job=render_jobs.describe(job),
        pending=pending,
        refresh=REFRESH_SECONDS if pending else None,
        file_url=f"{api}/file" if job.status == "done" else None,
        back=notice_url(election_id, job.template, job.district or None),
    )


def export_url(job_id: int) -> str:
    return f"/exports/{job_id}"


Filter = Annotated[str, Form(max_length=60)]


@router.post("/grid/report-jobs")
def grid_report_job(
    request: Request,
    _admission: Admitted,
    csrf: Annotated[str, Form(max_length=100)] = "",
    fmt: Annotated[str, Form(max_length=10)] = "xlsx",
    jurisdiction: Filter = "",
    kind: Filter = "",
    phase: Filter = "",
    state: Filter = "",
    overdue: Filter = "",
    q: Filter = "",
    on: Filter = "",
) -> Response:
    """The 进度通报 of a big grid as a job: the grid's figures (the snapshot) are taken now, in
    this short transaction; the workbook or report is written in the background."""
    svc = services(request)
    try:
        with svc.db.transaction() as session:
            caller = form_principal(request, session, csrf)
            g = load_grid(
                session, caller, svc, jurisdiction=jurisdiction or None, kind=kind or None,
                phase=phase or None, state=state or None, overdue=overdue == "1", q=q or None,
                finished=False, on=on or None,
            )
            name = f"{g.root_name}换届选举进度通报-{g.today.isoformat()}.{fmt}"
            job = render_jobs.submit_export(
                session,
                "progress_report",
                progress_report.snapshot(g),
                fmt=fmt,
                title=f"{g.root_name}换届选举工作进度通报（截至 {g.today.isoformat()}）",
                filename=name,
                clock=svc.clock,
                actor=caller.username,
            )
            render_jobs.queue_after_commit(session, svc.renders(), job.id)
            job_id = job.id
    except DomainError as error:
        return RedirectResponse(f"/grid?err={quote(error.message)}", status_code=303)
    return RedirectResponse(export_url(job_id), status_code=303)


@router.get("/exports/{job_id}")
def export_page(request: Request, session: Tx, job_id: JobPath):
    caller = web_principal(request, session)
    try:
        job = render_jobs.get_export(session, job_id, caller.username)
    except NotFound as error:
        return render(request, "error.html", 404, caller=caller, message=error.message)
    pending = job.status in ("queued", "running")
    return render(
        request,
        "render_job.html",
        caller=caller,
        election=None,
        job=render_jobs.describe(job),
        pending=pending,
        refresh=REFRESH_SECONDS if pending else None,
        file_url=f"{export_url(job_id)}/file" if job.status == "done" else None,
        back="/grid",
        back_text="返回工作进度总览",
    )


@router.get("/exports/{job_id}/file")
def export_file(request: Request, session: Tx, job_id: JobPath) -> Response:
    caller = web_principal(request, session)
    try:
        job = render_jobs.ready(render_jobs.get_export(session, job_id, caller.username))
    except NotFound as error:
        return render(request, "error.html", 404, caller=caller, message=error.message)
    except DomainError as error:
        return render(request, "error.html", 409, caller=caller, message=error.message)
    return Response(
        job.content,
        media_type=XLSX if job.format == "xlsx" else DOCX,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"export-{job.id}.{job.format}\"; filename*=UTF-8''{quote(job.filename or '')}"
            ),
            "X-Content-SHA256": job.sha256 or "",
        },
    )
