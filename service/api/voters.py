"""/api/v1/elections/{id}/districts, …/voters and …/appeals: registration over HTTP.

The same command functions as `huanjie districts|voters|appeals` (workflow/commands/voter_*.py,
appeals.py, voter_files.py) in the request's one transaction. Writes need `can_write_voters`
(county admin, township staff, registrar); whole ID numbers only for registrars
(`can_see_full_ids`), and every time they are shown it is audited.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from service.api.deps import (
    INT_MAX,
    Caller,
    ImportSlot,
    Principal,
    Services,
    Svc,
    Tx,
    admitted,
    bearer,
    current_principal,
)
from service.api.elections import EARLIEST_DAY, LATEST_DAY, ElectionId, visible_election
from service.api.problems import PROBLEM, PROBLEM_RESPONSES, Forbidden
from service.api.schemas import voters as schemas
from workflow.commands import appeals as appeal_commands
from workflow.commands import auth, register_levels, voter_districts, voter_exports, voter_import, voter_list
from workflow.commands.voter_files import (
    CSV_SUFFIXES,
    XLS_SUFFIXES,
    XLSX_SUFFIXES,
    RejectedRows,
    file_digest,
    load_rejected,
    open_sheet,
    save_rejected,
)
from workflow.errors import DomainError, not_found
from workflow.rules import ric
from workflow.rules.voter_import import ImportReport
from workflow.views import voters as voters_view

router = APIRouter(prefix="/api/v1/elections", tags=["voters"], responses=PROBLEM_RESPONSES)

DistrictCode = Annotated[str, Field(pattern=r"^[0-9A-Za-z_.\-]{1,32}$", description="选区代码")]
DistrictQuery = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z_.\-]{1,32}$", description="选区代码")]
LawfulDate = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
MAX_UPLOAD = 200 * 1024 * 1024  # a county's register as CSV is well under 100 MB
REPORT_KEYS = (
    "accepted",
    "unchanged",
    "warnings",
    "rejected",
    "duplicates",
    "committed",
    "rejected_total",
    "rejected_rows",
    "warnings_total",
)
IMPORT_ATTEMPTS = 3  # a conflict with a concurrent import of the same people is retried
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The printed lists' columns (workflow.commands.voter_exports.list_view) as JSON keys.
COLUMN_KEYS = {
    "序号": "seq",
    "选民证号": "certificate_no",
    "类别": "change",
    "姓名": "name",
    "性别": "sex",
    "年龄": "age",
    "出生日期": "birth_date",
    "民族": "ethnicity",
    "选民小组": "voter_group",
    "住址": "address",
    "公民身份号码": "id_number",
    "选区": "district",
    "原因": "reason",
    "日期": "on",
    "状态": "status",
    "选举日": "election_day",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DistrictCreate(_Body):
    code: DistrictCode
    name: str = Field(min_length=1, max_length=200, description="选区名称")
    seats: int | None = Field(None, ge=1, le=100, description="应选代表名额")
    population: int | None = Field(None, ge=0, le=INT_MAX, description="选区人口数")
    area: str | None = Field(
        None, max_length=voter_districts.AREA_MAX, description="选区范围：所辖村（居）民委员会或单位"
    )


class VoterCreate(_Body):
    district: DistrictCode
    name: str = Field(min_length=1, max_length=100, description="姓名")
    id_number: str = Field(min_length=1, max_length=32, description="公民身份号码")
    reason: str = Field(
        pattern=r"^(registered|newly_18|moved_in|migrant|restored|late)$",
        description="登记原因：registered 登记 / newly_18 新满十八周岁 / moved_in 迁入 / migrant 流动人口 / "
        "restored 恢复政治权利 / late 补办选民登记（名单公布后，省级细则可规定截止日）",
    )
    proof: str | None = Field(None, max_length=1000, description="证明（流动人口须提交户籍地选民资格证明）")
    voter_group: str | None = Field(None, max_length=100, description="选民小组")
    address: str | None = Field(None, max_length=200, description="住址")


class PublishBody(_Body):
    on: LawfulDate | None = Field(None, description="公布日期（默认今天）")


class AppealCreate(_Body):
    filer: str = Field(min_length=1, max_length=100, description="申诉人")
    request: str = Field(
        pattern=r"^(add|remove|correct)$", description="add 增列 / remove 除名 / correct 更正"
    )
    subject_name: str = Field(min_length=1, max_length=100, description="所涉人员姓名")
    subject_id: str | None = Field(None, max_length=32, description="所涉人员公民身份号码")
    reason: str = Field(min_length=1, max_length=1000, description="申诉理由")
    district: DistrictCode | None = Field(None, description="请求增列时所在选区")
    correction: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200)]] | None = (
        Field(None, description='更正项，如 {"name": "张三"}')
    )
    on: LawfulDate | None = Field(None, description="申诉日期（默认今天）")


class AppealDecision(_Body):
    upheld: bool = Field(description="true 支持 / false 驳回")
    reason: str | None = Field(None, max_length=1000, description="处理理由（驳回时必填）")
    on: LawfulDate | None = Field(None, description="处理日期（默认今天）")


def check_write_voters(caller: Principal) -> None:
    if not auth.can_write_voters(caller.user):
        raise Forbidden("E_READ_ONLY", f"「{caller.role_name}」角色不能办理选民登记", "role")


def writable_election(session: Session, caller: Principal, election_id: int):
    election = visible_election(session, caller, election_id)
    check_write_voters(caller)
    return election


# -- districts ---------------------------------------------------------------------------------
@router.get(
    "/{election_id}/districts",
    summary="选区及其选民人数",
    response_model=schemas.VoterDistrictList,
)
def list_districts(election_id: ElectionId, session: Tx, caller: Caller) -> dict:
    visible_election(session, caller, election_id)
    return {"election_id": election_id, "districts": voter_districts.list_districts(session, election_id)}


@router.post(
    "/{election_id}/districts",
    status_code=201,
    summary="添加一个选区",
    response_model=schemas.VoterDistrict,
)
def add_district(
    election_id: ElectionId, body: DistrictCreate, session: Tx, caller: Caller, svc: Svc
) -> dict:
    writable_election(session, caller, election_id)
    d = voter_districts.add_district(
        session,
        election_id,
        code=body.code,
        name=body.name,
        seats=body.seats,
        population=body.population,
        area=body.area,
        clock=svc.clock,
        actor=caller.username,
    )
    return {"code": d.code, "name": d.name, "seats": d.seats, "population": d.population, "area": d.area}


# -- import ------------------------------------------------------------------------------------
def _spool(upload: UploadFile, directory: str) -> Path:
    """The upload as a file with its own suffix (open_sheet reads CSV or XLSX by suffix)."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in CSV_SUFFIXES | XLSX_SUFFIXES | XLS_SUFFIXES:
        raise DomainError(
            "E_FILE_FORMAT", f"不支持的文件格式：{suffix or '无扩展名'}（应为 .csv、.xlsx 或 .xls）", "file"
        )
    target = Path(directory) / f"upload{suffix}"
    written = 0
    with target.open("wb") as out:
        while block := upload.file.read(1 << 20):
            written += len(block)
            if written > MAX_UPLOAD:
                raise DomainError("E_FILE_TOO_LARGE", f"文件超过 {MAX_UPLOAD // 1024 // 1024} MB", "file")
            out.write(block)
    return target


def import_upload(
    svc: Services,
    username: str,
    election_id: int,
    upload: UploadFile,
    *,
    district: str | None,
    sheet: str | None,
    accept_valid: bool,
    transaction: voter_import.Transaction,
) -> ImportReport:
    """Import an uploaded file in short transactions (`transaction()`, each of them admitted at
    the gate on its own: voter_import.import_staged), so other users' requests run meanwhile.
    Rejected rows without accept_valid: nothing is written, and the report comes back
    uncommitted. Either way the rejected rows are kept as a file to download, fix and resend."""
    name = Path(upload.filename or "upload").name[:200]
    with tempfile.TemporaryDirectory(prefix="huanjie-upload-") as scratch:
        path = _spool(upload, scratch)
        digest = file_digest(path)
        for attempt in range(1, IMPORT_ATTEMPTS + 1):
            rejects = RejectedRows()
            try:
                report, header = _import_once(
                    svc,
                    username,
                    election_id,
                    path,
                    name,
                    digest,
                    district,
                    sheet,
                    accept_valid,
                    transaction,
                    rejects,
                )
                if rejects.rows:
                    rejects.to_xlsx(header)  # built before the transaction: no lock meanwhile
                    with transaction() as session:
                        report.rejected_file = save_rejected(
                            session,
                            election_id,
                            rejects,
                            header,
                            file_name=name,
                            actor=username,
                            now=svc.clock.now(),
                        )
                return report
            except voter_import.ImportConflict:
                # A concurrent import of the same people committed first: run again, now seeing
                # them registered (nothing of this attempt was written).
                if attempt == IMPORT_ATTEMPTS:
                    raise
            finally:
                rejects.close()
        raise AssertionError("unreachable")  # the loop returns or raises


def _import_once(
    svc, username, election_id, path, name, digest, district, sheet, accept_valid, transaction, rejects
) -> tuple[ImportReport, list[object]]:
    """One attempt → (report, header)."""
    opened = open_sheet(path, sheet=sheet)
    try:
        report = register_levels.import_township_register_staged(
            transaction,
            election_id,
            opened.header,
            opened.rows,
            file_name=name,
            file_sha256=digest,
            district=district,
            accept_valid=accept_valid,
            clock=svc.clock,
            actor=username,
            on_reject=rejects,
        )
    except voter_import.ImportRejected as rejected:
        report = rejected.report
    finally:
        opened.close()
    return report, opened.header


def report_json(report: ImportReport, election_id: int | None = None) -> dict:
    payload = report.as_dict()
    body = {k: payload[k] for k in REPORT_KEYS}
    body["rejected_file"] = (
        f"/api/v1/elections/{election_id}/voters/import/rejects/{report.rejected_file}"
        if report.rejected_file and election_id is not None
        else None
    )
    return body


@router.post(
    "/{election_id}/voters/import",
    summary="导入选民登记表（CSV 或 XLSX）：有被拒绝的行时不导入（422，附报告），除非 accept_valid",
    response_model=schemas.ImportReport,
    responses={
        422: {
            "description": "有被拒绝的行，未导入：problem details 附导入报告",
            "model": schemas.ImportRejected,
            "content": {PROBLEM: {}},
        }
    },
)
def import_voters(
    election_id: ElectionId,
    request: Request,
    svc: Svc,
    _slot: ImportSlot,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    file: Annotated[UploadFile, File(description="选民登记表 .csv / .xlsx")],
    accept_valid: Annotated[bool, Query(description="有被拒绝的行时，仍导入其余有效行")] = False,
    district: DistrictQuery = None,
    sheet: Annotated[str | None, Query(max_length=100, description="工作表名称（默认第一个）")] = None,
):
    # Not `Tx`: a request's transaction holds the gate (on SQLite the only slot) until it
    # returns; an import takes one short transaction per batch instead (issue 16 item 3).
    with admitted(svc) as session:
        caller = current_principal(request, session, credentials)
        writable_election(session, caller, election_id)
        username = caller.username
    report = import_upload(
        svc,
        username,
        election_id,
        file,
        district=district,
        sheet=sheet,
        accept_valid=accept_valid,
        transaction=lambda: admitted(svc),
    )
    body = report_json(report, election_id)
    if report.committed:
        return body
    first = report.rejected[0] if report.rejected else {}
    detail = (
        f"有 {report.rejected_rows} 行被拒绝，未导入任何记录（可改正后重导，或用 accept_valid 只导入有效行）"
    )
    if first:
        detail += f"；如第 {first.get('row')} 行「{first.get('column')}」：{first.get('reason')}"
    problem = {
        "type": "urn:huanjie:problem:E_IMPORT_REJECTED",
        "title": "E_IMPORT_REJECTED",
        "status": 422,
        "detail": detail,
        "code": "E_IMPORT_REJECTED",
        "field": "file",
        "instance": f"/api/v1/elections/{election_id}/voters/import",
    }
    return JSONResponse(problem | jsonable_encoder(body), status_code=422, media_type=PROBLEM)


@router.get(
    "/{election_id}/voters/import/rejects/{token}",
    summary="下载上传中被拒绝的行（XLSX：原行加「原因」列，改正后可重新上传；仅限上传者）",
    response_class=Response,
    responses={
        200: {
            "description": "XLSX 文件",
            "content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def rejected_rows(
    election_id: ElectionId,
    token: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_\-]{16,64}$")],
    session: Tx,
    caller: Caller,
) -> Response:
    writable_election(session, caller, election_id)
    name, content = load_rejected(session, election_id, token, actor=caller.username)
    return xlsx_download(name, content)


def xlsx_download(name: str, content: bytes) -> Response:
    return Response(
        content,
        media_type=XLSX_TYPE,
        headers={
            "Content-Disposition": f"attachment; filename=\"rejected.xlsx\"; filename*=UTF-8''{quote(name)}"
        },
    )


# -- status and lists --------------------------------------------------------------------------
@router.get(
    "/{election_id}/voters/status",
    summary="选民登记概况：各选区人数、已公布版本、待处理申诉",
    response_model=schemas.VotersStatus,
)
def voters_status(election_id: ElectionId, session: Tx, caller: Caller, svc: Svc) -> dict:
    election = visible_election(session, caller, election_id)
    return voters_view.voters_status(session, election, clock=svc.clock)


@router.get(
    "/{election_id}/voters",
    summary="选民登记册或名单（分页；身份号码仅对登记员完整显示，且记入审计）",
    response_model=schemas.VoterPage,
)
def list_voters(
    election_id: ElectionId,
    session: Tx,
    caller: Caller,
    svc: Svc,
    which: Annotated[
        str,
        Query(
            alias="list",
            pattern=r"^(register|published|supplementary|certificates)$",
            description="register 登记册 / published 已公布名单 / supplementary 补正名单 / certificates 选民证",
        ),
    ] = "register",
    district: DistrictQuery = None,
    full_ids: Annotated[bool, Query(description="显示完整身份号码（仅登记员）")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
):
    visible_election(session, caller, election_id)
    if full_ids and not auth.can_see_full_ids(caller.user):
        raise Forbidden(
            "E_FULL_IDS_FORBIDDEN",
            f"只有登记员可以查看完整的公民身份号码（本账号为「{caller.role_name}」）",
            "full_ids",
        )
    view = voter_exports.list_view(session, election_id, which=which, district=district, full_ids=full_ids)
    keys = [COLUMN_KEYS.get(h, h) for h in view.header]
    page, total = [], 0
    for total, row in enumerate(view.rows, 1):
        if offset < total <= offset + limit:
            page.append(dict(zip(keys, row, strict=False)))
    if full_ids:
        # Whole ID numbers are personal data: who saw which page is recorded, as the CLI does.
        # A GET's own unit of work is read-only, so the audit entry has its own transaction.
        with svc.db.transaction() as writing:
            voter_exports.audit_full_ids(
                writing,
                election_id,
                what=f"api list={which} district={district or ''} offset={offset} limit={limit}",
                clock=svc.clock,
                actor=caller.username,
            )
    return {"title": view.title, "items": page, "total": total, "limit": limit, "offset": offset}


@router.post(
    "/{election_id}/voters",
    status_code=201,
    summary="登记一名选民（名单公布后为补办登记，过省级细则规定的截止日不予登记）",
    response_model=schemas.VoterRegistered,
)
def add_voter(election_id: ElectionId, body: VoterCreate, session: Tx, caller: Caller, svc: Svc) -> dict:
    election = writable_election(session, caller, election_id)
    voter = register_levels.add_voter(
        session,
        election_id,
        district=body.district,
        name=body.name,
        id_number=body.id_number,
        reason=body.reason,
        proof=body.proof,
        voter_group=body.voter_group,
        address=body.address,
        clock=svc.clock,
        actor=caller.username,
    )
    return {
        "id": voter.id,
        "name": voter.name,
        "id_masked": ric.mask(voter.id_number),
        "district": body.district,
        "reason": voter.added_reason,
        "supplementary": voter_list.is_published(election),
    }


@router.post(
    "/{election_id}/voters/publish",
    summary="公布选民名单（首次）或补正名单（此后）",
    response_model=schemas.VotersPublished,
)
def publish_voters(
    election_id: ElectionId, session: Tx, caller: Caller, svc: Svc, body: PublishBody | None = None
) -> dict:
    writable_election(session, caller, election_id)
    published = voter_list.publish(
        session, election_id, on=(body or PublishBody()).on, clock=svc.clock, actor=caller.username
    )
    return published.as_dict()


# -- appeals -----------------------------------------------------------------------------------
AppealId = Annotated[int, PathParam(ge=1, le=INT_MAX, description="申诉编号")]


@router.get(
    "/{election_id}/appeals",
    summary="申诉、申诉期限和起诉期限（选举法第二十九条）",
    response_model=schemas.AppealList,
)
def list_appeals(election_id: ElectionId, session: Tx, caller: Caller, svc: Svc) -> dict:
    visible_election(session, caller, election_id)
    return appeal_commands.list_appeals(session, election_id, clock=svc.clock)


@router.post(
    "/{election_id}/appeals",
    status_code=201,
    summary="受理申诉（名单公布之日起五日内）",
    response_model=schemas.AppealOut,
)
def file_appeal(election_id: ElectionId, body: AppealCreate, session: Tx, caller: Caller, svc: Svc) -> dict:
    election = writable_election(session, caller, election_id)
    appeal = appeal_commands.file_appeal(
        session,
        election_id,
        filer=body.filer,
        request=body.request,
        subject_name=body.subject_name,
        subject_id_number=body.subject_id,
        reason=body.reason,
        district=body.district,
        correction=body.correction,
        filed_on=body.on,
        clock=svc.clock,
        actor=caller.username,
    )
    return appeal_commands.appeal_dict(appeal, election)


@router.post(
    "/{election_id}/appeals/{appeal_id}/decide",
    summary="对申诉作出处理决定（三日内）",
    response_model=schemas.AppealOut,
)
def decide_appeal(
    election_id: ElectionId, appeal_id: AppealId, body: AppealDecision, session: Tx, caller: Caller, svc: Svc
) -> dict:
    election = writable_election(session, caller, election_id)
    appeal = appeal_commands.get_appeal(session, appeal_id)
    if appeal.election_id != election_id:
        raise not_found("申诉", appeal_id, "appeal_id")
    appeal = appeal_commands.decide_appeal(
        session,
        appeal_id,
        upheld=body.upheld,
        reason=body.reason,
        decided_on=body.on,
        clock=svc.clock,
        actor=caller.username,
    )
    return appeal_commands.appeal_dict(appeal, election)
