"""Dashboard: upload a voter file (registrars, township staff, county admins) and see the import
report in Chinese. The import is the API's (service.api.voters.import_upload), in short transactions."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response

from service.api.deps import INT_MAX, ImportSlot, admitted, services
from service.api.voters import import_upload, xlsx_download
from service.web.routes import render, web_principal
from workflow.commands import auth
from workflow.commands import elections as commands
from workflow.commands.voter_files import load_rejected
from workflow.errors import DomainError, not_found

router = APIRouter(include_in_schema=False)
SHOWN = 200  # rows of each list shown on the page; the counts give the rest


@router.post("/elections/{election_id}/voters/import")
def import_form(
    request: Request,
    _slot: ImportSlot,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    file: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=32)] = "",
    accept_valid: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    svc = services(request)
    report = error = error_field = None
    status = 200
    # Not one transaction for the request: the import takes one short transaction per batch,
    # each admitted at the gate on its own, so other users' pages load meanwhile (issue 16).
    with admitted(svc, reading=True) as session:
        caller = web_principal(request, session)
        election = commands.get_election(session, election_id)
        if not caller.may_see(session, election.jurisdiction_id):
            raise not_found("选举", election_id, "election_id")  # as a missing one: nothing leaks
        title = election.title
        username = caller.username
        csrf_ok = bool(caller.csrf_token) and secrets.compare_digest(caller.csrf_token, csrf)
        may_write = auth.can_write_voters(caller.user)
        role_name = caller.role_name
    try:
        if not csrf_ok:
            raise DomainError("E_CSRF", "页面已过期，请刷新后重试", "csrf")
        if not may_write:
            raise DomainError("E_READ_ONLY", f"「{role_name}」角色不能办理选民登记", "role")
        if file is None or not file.filename:
            raise DomainError("E_FILE_MISSING", "请选择要上传的选民登记表（.csv、.xlsx 或 .xls）", "file")
        report = import_upload(
            svc,
            username,
            election_id,
            file,
            district=district.strip() or None,
            sheet=None,
            accept_valid=accept_valid in ("1", "on", "true"),
            transaction=lambda: admitted(svc),
        )
        if not report.committed:
            status = 422
    except DomainError as failure:
        error, error_field = failure.message, failure.field
        status = 403 if failure.code in ("E_CSRF", "E_READ_ONLY") else 422
    with admitted(svc, reading=True) as session:  # the page shows the caller: in an open session
        caller = web_principal(request, session)
        return render(
            request,
            "voter_import.html",
            status,
            caller=caller,
            election_id=election_id,
            title=title,
            report=report,
            error=error,
            error_field=error_field,
            file_name=file.filename if file is not None else None,
            shown=SHOWN,
        )


@router.get("/elections/{election_id}/voters/import/rejects/{token}")
def rejected_rows_download(
    request: Request,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    token: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_\-]{16,64}$")],
) -> Response:
    """The upload's rejected rows as XLSX (original row + 原因), for the uploader only."""
    svc = services(request)
    with svc.db.reading() as session:
        caller = web_principal(request, session)
        election = commands.get_election(session, election_id)
        if not caller.may_see(session, election.jurisdiction_id):
            raise not_found("选举", election_id, "election_id")  # as a missing one: nothing leaks
        if not auth.can_write_voters(caller.user):
            return render(request, "error.html", 403, caller=caller, message="本账号无权下载退回的选民名册行。")
        try:
            name, content = load_rejected(session, election_id, token, actor=caller.username)
        except DomainError as failure:
            return render(request, "error.html", 404, caller=caller, message=failure.message)
    return xlsx_download(name, content)
