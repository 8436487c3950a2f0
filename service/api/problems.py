"""Errors as RFC 9457 problem details: the Chinese message for staff, the field and a stable code.

{"type": "urn:huanjie:problem:E_BAD_DATE", "title": "E_BAD_DATE", "status": 422,
 "detail": "on 的日期格式有误 …", "code": "E_BAD_DATE", "field": "on", "instance": "/api/v1/…"}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.sanitize import BadInput
from workflow.commands.elections import PlanViolations, TransitionRefused
from workflow.errors import Conflict, DomainError, NotFound

log = logging.getLogger("huanjie.api")
PROBLEM = "application/problem+json"


class Unauthorized(DomainError):
    """No valid credentials (401)."""


class Forbidden(DomainError):
    """Valid credentials, but the role or the jurisdiction does not allow it (403)."""


# Codes that name a missing thing in the URL rather than bad input.
_CODE_STATUS = {"E_UNKNOWN_MILESTONE": 404}


def status_of(error: DomainError) -> int:
    if isinstance(error, Unauthorized):
        return 401
    if isinstance(error, Forbidden):
        return 403
    if error.code in _CODE_STATUS and error.field == "key":
        return _CODE_STATUS[error.code]
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict | TransitionRefused):
        return 409
    return 422


def problem(
    status: int, code: str, detail: str, field: str | None, instance: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"urn:huanjie:problem:{code}",
        "title": code,
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
        "instance": instance,
        **extra,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="huanjie"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(request: Request, error: DomainError) -> JSONResponse:
    extra: dict[str, Any] = {}
    if isinstance(error, TransitionRefused):
        extra["refusals"] = [r.as_dict() for r in error.decision.refusals]
    if isinstance(error, PlanViolations):
        extra["violations"] = [v.as_dict() | {"problems": list(v.problems)} for v in error.report.violations]
    return problem(status_of(error), error.code, error.message, error.field, request.url.path, **extra)


_RULE_TEXT = {
    "missing": "缺少必填字段",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为字符串",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不应包含时间",
    "date_type": "应为日期（YYYY-MM-DD）",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "extra_forbidden": "是未知字段",
    "string_pattern_mismatch": "格式不符",
}


def _validation_item(error: dict) -> dict:
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    # Unions (plan: object | TOML text) add the branch's type name to the location.
    loc = [part for part in loc if part not in ("dict[str,any]", "str")]
    field = ".".join(loc) or None
    rule = error.get("type", "invalid")
    ctx = error.get("ctx") or {}
    if rule in ("greater_than_equal", "greater_than"):
        text = f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    elif rule in ("less_than_equal", "less_than"):
        text = f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    elif rule == "string_too_long":
        text = f"不能超过 {ctx.get('max_length')} 个字符"
    elif rule == "string_too_short":
        text = f"至少 {ctx.get('min_length')} 个字符"
    else:
        text = _RULE_TEXT.get(rule, "格式有误")
    return {"field": field, "rule": rule, "message": f"{field or '请求'} {text}"}


RETRY_AFTER_SECONDS = 5  # a SQLite lock or a PostgreSQL restart is over in seconds


def _where(error: BaseException) -> str:
    """The innermost frame of the project in the traceback (file:line), for the log."""
    found = "?"
    trace = error.__traceback__
    while trace is not None:
        name = trace.tb_frame.f_code.co_filename
        if "/site-packages/" not in name and "/lib/python" not in name:
            found = f"{name.rsplit('/', 1)[-1]}:{trace.tb_lineno}"
        trace = trace.tb_next
    return found


def database_problem(request: Request, error: Exception) -> JSONResponse:
    """A database error → 503 (unreachable, locked, pool exhausted), 409 (a concurrent write
    won: a unique key) or 422 (a value the column cannot hold). Logged without the statement's
    parameters or the driver's message, which may quote them (ID numbers)."""
    orig = getattr(error, "orig", None)
    log.error(
        "database error",
        extra={
            "path": request.url.path,
            "error": type(orig or error).__name__,
            "sqlstate": getattr(orig, "sqlstate", None),
            "where": _where(error),
        },
    )
    path = request.url.path
    if isinstance(error, IntegrityError):
        return problem(
            409,
            "E_CONFLICT",
            "数据已被另一操作同时修改（例如同一批人员正在另一处导入），请稍后重试",
            None,
            path,
        )
    if isinstance(error, DataError):
        return problem(
            422, "E_BAD_DATA", "输入中有数据库无法保存的内容（如 NUL 字符、超长文字或越界的数字）", None, path
        )
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout) or getattr(
        error, "connection_invalidated", False
    ):
        response = problem(
            503, "E_DB_UNAVAILABLE", "数据库暂时不可用（连接中断或繁忙），请稍后重试", None, path
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return problem(500, "E_INTERNAL", "服务器内部错误，已记录日志", None, path)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return domain_problem(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        items = [_validation_item(e) for e in error.errors()]
        first = items[0] if items else {"field": None, "rule": "invalid", "message": "请求格式有误"}
        return problem(
            422,
            "E_INVALID_INPUT",
            first["message"],
            first["field"],
            request.url.path,
            rule=first["rule"],
            errors=items,
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, error: DBAPIError) -> JSONResponse:
        return database_problem(request, error)

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, error: PoolTimeout) -> JSONResponse:
        return database_problem(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error, BadInput):
            return problem(422, "E_BAD_CHARACTERS", error.detail, error.field, request.url.path)
        texts = {
            400: "请求体无法解析（应为有效的 JSON）",
            404: "未找到该地址",
            405: "不支持该请求方法",
            401: "需要登录或 API 令牌",
        }
        code = {
            400: "E_BAD_REQUEST",
            404: "E_NOT_FOUND",
            405: "E_METHOD_NOT_ALLOWED",
            401: "E_UNAUTHORIZED",
            413: "E_BODY_TOO_LARGE",
        }.get(error.status_code, f"E_HTTP_{error.status_code}")
        detail = texts.get(error.status_code, str(error.detail))
        return problem(error.status_code, code, detail, None, request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(500, "E_INTERNAL", "服务器内部错误，已记录日志", None, request.url.path)


class Problem(BaseModel):
    """RFC 9457 problem details, with the project's code, field and (for bad input) rule."""

    type: str
    title: str
    status: int
    detail: str = Field(description="中文说明")
    code: str = Field(description="稳定的错误代码，如 E_BAD_DATE")
    field: str | None = Field(None, description="出错的输入字段")
    instance: str
    rule: str | None = Field(None, description="违反的校验规则（输入格式错误时）")


def _problem_response(text: str) -> dict:
    return {"description": text, "model": Problem, "content": {PROBLEM: {}}}


PROBLEM_RESPONSES: dict[int | str, dict] = {
    400: _problem_response("请求体无法解析"),
    401: _problem_response("需要 API 令牌或登录"),
    403: _problem_response("角色或管辖范围不允许"),
    404: _problem_response("未找到"),
    409: _problem_response("状态冲突（阶段条件不满足、已办结、版本冲突）"),
    422: _problem_response("输入有误：字段与规则见 field、rule"),
    503: _problem_response("数据库暂时不可用：按 Retry-After 稍后重试"),
}
