"""Dashboard: PDF and Word 样稿 made in the background (issue 15). The notice page's buttons
queue a render job (its data snapshot in one short transaction) and lead to the job's page,
which refreshes itself every 2 seconds until the file is ready and then offers the download.
The work is `workflow/commands/render_jobs.py`'s, as the API's render-jobs routes do."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response

from service.api.deps import INT_MAX, Admitted, Tx, services
from service.web.notice_pages import _parse_date, notice_url
from service.web.routes import render, web_principal
from workflow.commands import elections as commands
from workflow.commands import render_jobs
from workflow.errors import DomainError, NotFound

router = APIRouter(include_in_schema=False)

ElectionPath = Annotated[int, PathParam(ge=1, le=INT_MAX)]
TemplatePath = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
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
            caller = web_principal(request, session)
            if not caller.csrf_token or not secrets.compare_digest(caller.csrf_token, csrf):
                raise DomainError("E_CSRF", "页面已过期，请刷新后重试", "csrf")
            election = commands.get_election(session, election_id)
            if not caller.may_see(session, election.jurisdiction_id):
                raise NotFound("E_NOT_FOUND", f"未找到选举：{election_id}", "election_id")
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
            raise NotFound("E_NOT_FOUND", f"未找到选举：{election_id}", "election_id")
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
