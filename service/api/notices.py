"""/api/v1/elections/{id}/notices: the catalog, previews (HTML, PDF, DOCX), publication and
downloads of published versions, through workflow/commands/notices.py as `huanjie notices` does.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from notices.output import MEDIA_TYPES
from service.api.deps import INT_MAX, Caller, Svc, Tx, admitted, bearer, current_principal
from service.api.elections import EARLIEST_DAY, LATEST_DAY, ElectionId, visible_election
from service.api.problems import PROBLEM_RESPONSES
from service.api.schemas import notices as schemas
from service.downloads import safe_file_name
from workflow.commands import notice_settings, render_jobs
from workflow.commands import notices as commands
from workflow.views.notices import published_file

router = APIRouter(prefix="/api/v1/elections", tags=["notices"], responses=PROBLEM_RESPONSES)

CODE = r"^[0-9A-Za-z_.\-]{1,32}$"
Template = Annotated[str, PathParam(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="模板名，如 voter_list")]
NoticeId = Annotated[int, PathParam(ge=1, le=INT_MAX, description="已发布公告的编号")]
JobId = Annotated[int, PathParam(ge=1, le=INT_MAX, description="生成任务的编号")]
Format = Annotated[str, Query(pattern=r"^(html|pdf|docx)$", description="html、pdf 或 docx")]
DateStyle = Annotated[
    str, Query(pattern=r"^(arabic|chinese)$", description="成文日期写法：arabic 或 chinese（二〇一一年）")
]
LawfulDate = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
FILE_RESPONSES = {
    200: {
        "description": "公告文件",
        "content": {
            media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
            for media in MEDIA_TYPES.values()
        },
    }
}


# What each notice data provider supplies, as the dashboard names it (notices/catalog.py).
DATA_NAMES = {
    "districts": "选区",
    "voters": "选民名单",
    "voter_corrections": "选民补正名单",
    "preliminary_candidates": "初步候选人名单",
    "official_candidates": "正式候选人名单",
    "results": "选举结果",
    "committee_members": "选举委员会组成人员",
    "party_branch": "党支部情况",
    "allocation": "代表名额分配",
}


class PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = Field("pdf", pattern=r"^(html|pdf|docx)$", description="存档格式")
    district: str | None = Field(None, pattern=CODE, description="选区代码（按选区生成的公告必填）")
    on: LawfulDate | None = Field(None, description="公告日期（默认：对应节点的办结日期或计划日期；计划日期未到时为今天）")
    date_style: str = Field("arabic", pattern=r"^(arabic|chinese)$")


# An inline notice may be framed by our own pages only (service/guards.py denies all framing
# elsewhere); it is inert HTML with its style inline: nothing else is loaded or run.
FRAMEABLE = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
}


def file_response(content: bytes, fmt: str, stem: str, title: str, *, download: bool) -> Response:
    """The file with its media type and a filename: ASCII for old clients, the Chinese title
    for the rest (RFC 6266 / 5987)."""
    disposition = "attachment" if download else "inline"
    stem, title = safe_file_name(stem, fallback="notice"), safe_file_name(title)  # no RTL overrides
    header = f"{disposition}; filename=\"{stem}.{fmt}\"; filename*=UTF-8''{quote(f'{title}.{fmt}')}"
    headers = {"Content-Disposition": header}
    if fmt == "html" and not download:
        headers.update(FRAMEABLE)  # the notice page shows the 样稿 in an iframe of our own origin
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get(
    "/{election_id}/notices",
    summary="本选举适用的公告、所需数据是否齐备、已发布的版本",
    response_model=schemas.NoticeCatalog,
)
def list_notices(election_id: ElectionId, session: Tx, caller: Caller) -> dict:
    visible_election(session, caller, election_id)
    return commands.notice_catalog(session, election_id)


@router.get(
    "/{election_id}/notices/{template}/preview",
    summary="公告预览（不发布；显示已有或下一个可用文号）",
    response_class=Response,
    responses=FILE_RESPONSES,
)
def preview_notice(
    election_id: ElectionId,
    template: Template,
    session: Tx,
    caller: Caller,
    svc: Svc,
    format: Format = "html",
    district: Annotated[str | None, Query(pattern=CODE, description="选区代码")] = None,
    on: Annotated[date | None, Query(ge=EARLIEST_DAY, le=LATEST_DAY, description="成文日期")] = None,
    date_style: DateStyle = "arabic",
    download: Annotated[bool, Query(description="作为附件下载（默认 HTML 在浏览器中打开）")] = False,
) -> Response:
    visible_election(session, caller, election_id)
    rendered = commands.render_notice(
        session,
        election_id,
        template,
        fmt=format,
        district=district,
        on=on,
        clock=svc.clock,
        date_style=date_style,
    )
    stem = "-".join(filter(None, [f"election{election_id}", template, district, "preview"]))
    return file_response(
        rendered.content,
        format,
        stem,
        f"{rendered.title}（预览）",
        download=download or format != "html",
    )


@router.post(
    "/{election_id}/notices/{template}/publish",
    status_code=201,
    summary="发布公告：编号、存档（新版本，不覆盖）、记入审计，并办结对应节点",
    response_model=schemas.NoticePublished,
)
def publish_notice(
    election_id: ElectionId,
    template: Template,
    request: Request,
    svc: Svc,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    body: Annotated[PublishBody | None, Body()] = None,
) -> dict:
    # Not `Tx`: the file is rendered with no transaction open and no request slot held (issue
    # 15, `publish_staged`); the caller is checked, and the result stored, in short units.
    with admitted(svc, reading=True) as session:
        caller = current_principal(request, session, credentials)
        visible_election(session, caller, election_id)
        caller.check_write()
        actor = caller.username  # read before the unit ends (its objects expire)
    body = body or PublishBody()
    result = commands.publish_staged(
        lambda: admitted(svc),
        lambda: admitted(svc, reading=True),
        election_id,
        template,
        fmt=body.format,
        district=body.district,
        on=body.on,
        clock=svc.clock,
        actor=actor,
        date_style=body.date_style,
    )
    n = result.notice
    return {
        "id": n.id,
        "election_id": election_id,
        "template": template,
        "district": body.district,
        "title": n.title,
        "number": n.number,
        "version": n.version,
        "format": n.format,
        "issued_on": n.issued_on,
        "sha256": n.sha256,
        "template_version": n.template_version,
        "milestone_completed": result.milestone_completed,
        "note": result.milestone_note,
        "download_url": f"/api/v1/elections/{election_id}/notices/published/{n.id}",
    }


@router.get(
    "/{election_id}/notices/published/{notice_id}",
    summary="下载已发布的公告（存档原文件）",
    response_class=Response,
    responses=FILE_RESPONSES,
)
def download_notice(
    election_id: ElectionId,
    notice_id: NoticeId,
    session: Tx,
    caller: Caller,
    format: Annotated[
        str | None, Query(pattern=r"^(html|pdf|docx)$", description="另存为（默认：存档格式）；其他格式由存档数据重新生成")
    ] = None,
) -> Response:
    visible_election(session, caller, election_id)
    notice, content = published_file(session, notice_id, election_id, format)
    fmt = format or notice.format
    stem = "-".join(
        filter(None, [f"election{election_id}", notice.template, notice.district, f"v{notice.version}"])
    )
    title = f"{notice.title}{'（' + notice.number + '）' if notice.number else ''}"
    response = file_response(content, fmt, stem, title, download=True)
    if fmt == notice.format:
        response.headers["X-Content-SHA256"] = notice.sha256
    return response


class SettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    numbering: str | None = Field(None, pattern=r"^(year|round)$", description="year 按年 / round 按届")
    congress_term: int | None = Field(None, ge=1, le=99, description="届次（第X届）")
    superior_org: str | None = Field(None, max_length=200, description="上级党组织；空字符串清除")


class WordingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paragraphs: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=10, description="开头段落；空列表恢复模板原文"
    )


@router.get(
    "/{election_id}/notice-settings",
    summary="本选举所属选举委员会的公告设置（编号方式、届次、上级党组织）",
    response_model=schemas.NoticeSettings,
)
def get_notice_settings(election_id: ElectionId, session: Tx, caller: Caller) -> dict:
    election = visible_election(session, caller, election_id)
    return notice_settings.settings_of(election.jurisdiction)


@router.put(
    "/{election_id}/notice-settings",
    summary="修改公告设置（未给出的项不变），记入审计",
    response_model=schemas.NoticeSettings,
)
def put_notice_settings(
    election_id: ElectionId, body: SettingsBody, session: Tx, caller: Caller, svc: Svc
) -> dict:
    election = visible_election(session, caller, election_id)
    caller.check_write()
    return notice_settings.update_settings(
        session,
        election.jurisdiction,
        numbering=body.numbering,
        congress_term=body.congress_term,
        superior_org=body.superior_org,
        clock=svc.clock,
        actor=caller.username,
    )


@router.put(
    "/{election_id}/notices/{template}/wording",
    summary="本委员会对该公告开头段落的措辞（新版本；空列表恢复模板原文）",
    response_model=schemas.NoticeWording,
)
def put_notice_wording(
    election_id: ElectionId, template: Template, body: WordingBody, session: Tx, caller: Caller, svc: Svc
) -> dict:
    election = visible_election(session, caller, election_id)
    caller.check_write()
    row = notice_settings.set_wording(
        session, election.jurisdiction, template, body.paragraphs, clock=svc.clock, actor=caller.username
    )
    return {
        "jurisdiction": election.jurisdiction.code,
        "template": row.template,
        "version": row.version,
        "paragraphs": row.paragraphs,
    }


# -- render jobs: large PDF / Word previews made off the request path (issue 15) ------------------
class RenderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = Field("pdf", pattern=r"^(pdf|docx)$", description="pdf 或 docx")
    district: str | None = Field(None, pattern=CODE, description="选区代码（按选区生成的公告必填）")
    on: LawfulDate | None = Field(None, description="成文日期（默认同预览）")
    date_style: str = Field("arabic", pattern=r"^(arabic|chinese)$")


def job_out(job) -> dict:
    base = f"/api/v1/elections/{job.election_id}/render-jobs/{job.id}"
    return {**render_jobs.describe(job), "url": base, "file_url": f"{base}/file" if job.status == "done" else None}


@router.post(
    "/{election_id}/notices/{template}/render-jobs",
    status_code=202,
    summary="后台生成公告预览文件（PDF/Word）：立即返回任务地址，生成完毕后下载",
    response_model=schemas.RenderJob,
)
def submit_render_job(
    election_id: ElectionId,
    template: Template,
    session: Tx,
    caller: Caller,
    svc: Svc,
    body: Annotated[RenderBody | None, Body()] = None,
) -> JSONResponse:
    visible_election(session, caller, election_id)
    body = body or RenderBody()
    job = render_jobs.submit(
        session,
        election_id,
        template,
        fmt=body.format,
        district=body.district,
        on=body.on,
        date_style=body.date_style,
        clock=svc.clock,
        actor=caller.username,
    )
    render_jobs.queue_after_commit(session, svc.renders(), job.id)
    out = schemas.RenderJob.model_validate(job_out(job)).model_dump(mode="json")
    return JSONResponse(out, status_code=202, headers={"Location": out["url"]})


@router.get(
    "/{election_id}/render-jobs/{job_id}",
    summary="生成任务的状态（排队中、生成中、已完成、失败）",
    response_model=schemas.RenderJob,
)
def get_render_job(election_id: ElectionId, job_id: JobId, session: Tx, caller: Caller) -> dict:
    visible_election(session, caller, election_id)
    return job_out(render_jobs.get_job(session, job_id, election_id))


@router.get(
    "/{election_id}/render-jobs/{job_id}/file",
    summary="下载生成任务的文件（完成后）",
    response_class=Response,
    responses=FILE_RESPONSES,
)
def download_render_job(election_id: ElectionId, job_id: JobId, session: Tx, caller: Caller) -> Response:
    visible_election(session, caller, election_id)
    job = render_jobs.job_file(session, job_id, election_id)
    stem = "-".join(filter(None, [f"election{election_id}", job.template, job.district, "preview"]))
    response = file_response(job.content, job.format, stem, job.title, download=True)
    response.headers["X-Content-SHA256"] = job.sha256
    return response
