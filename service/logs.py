"""The service's logs, for the two readers they have.

- A person at a terminal (`make run`, `huanjie serve`, `huanjie worker` by hand): one Chinese line
  per event — time, level, source, what happened, its details — `ConsoleFormatter`.
- A log store (stderr not a terminal: systemd, a container, a pipe): one JSON object per line
  (python-json-logger), Chinese kept as UTF-8 text, never `\\uXXXX` escapes.

`format="auto"` (the default) picks by whether stderr is a terminal; `HUANJIE_LOG_FORMAT` or
`huanjie serve --log-format text|json` chooses. `configure` is called by `huanjie serve` and
`huanjie worker`, never at import.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from datetime import datetime
from typing import Literal

from service.sanitize import RedactIds
from workflow.errors import DomainError

JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
LogFormat = Literal["auto", "text", "json"]
FORMATS: tuple[str, ...] = ("auto", "text", "json")

LEVELS = {"DEBUG": "调试", "INFO": "信息", "WARNING": "警告", "ERROR": "错误", "CRITICAL": "严重"}
SOURCES = {
    "huanjie.service": "服务",
    "huanjie.access": "访问",
    "huanjie.api": "接口",
    "huanjie.sweep": "提醒扫描",
    "huanjie.digest": "每日提示",
    "huanjie.holidays": "节假日复核",
    "huanjie.worker": "调度",
    "huanjie.delivery": "通知投递",
    "huanjie.renders": "后台生成",
    "uvicorn": "服务器",
    "uvicorn.error": "服务器",
    "apscheduler": "调度器",
}
# The service's own messages (their %-format, as logged) and uvicorn's, in Chinese; the same
# placeholders in the same order. A message not listed here is printed as it is.
MESSAGES = {
    "serving": "服务已启动",
    "scheduler started": "调度器已启动",
    "scheduler started in the service process": "调度器在服务进程内启动",
    "several API processes: the scheduler is not started in them; run `huanjie worker`": (
        "多个 API 进程：调度器不在其中运行，请另起 huanjie worker"
    ),
    "unhandled error": "未处理的错误",
    "health check failed": "健康检查失败",
    "hot read failed": "快速读取连接出错：暂走普通读取，稍后重连",
    "hot read connection not closed cleanly": "快速读取连接未能正常关闭",
    "digest: %d committees": "每日提示：已写给 %d 个选举委员会",
    "holiday recheck: %d messages": "节假日复核：已发出 %d 条暂定日期复核通知",
    "holiday recheck failed": "节假日复核失败",
    "sweep failed": "提醒扫描失败",
    "digest failed": "每日提示失败",
    "delivery failed": "通知投递失败",
    "signal %s: stopping after the running jobs": "收到信号 %s：处理完当前任务后停止",
    "worker started: sweep every %ss, digest at %02d:00 %s": "调度进程已启动：每 %s 秒扫描一次，每日 %02d:00（%s）发送每日提示",
    "worker stopped": "调度进程已停止",
    "sweep at %s: backlog of %d due reminders": "提醒扫描（%s）：到期提醒积压 %d 条",
    "sweep at %s: %d handled, %d coalesced, %d cancelled, %d notifications in %d batches": (
        "提醒扫描（%s）：发出 %d 条，合并 %d 条，取消 %d 条，生成通知 %d 条，共 %d 批"
    ),
    "election %s: jurisdiction has no parent committee to escalate to": "选举 %s：没有上级选举委员会可上报督办",
    "notification %s [%s] to %s: %s\n%s": "通知 %s［%s］致 %s：%s\n%s",
    "notification %s parked as failed after %s attempts: %s": "通知 %s 已尝试 %s 次仍失败，暂停发送：%s",
    "notification %s: lease lost before its result was written": "通知 %s：结果写入前租约已失效",
    "database error": "数据库错误",
    "delivery lease too short": "通知投递租约过短",
    "delivery lease ran short: %d claimed notifications released unsent": "通知投递租约不足：已领取的 %d 条通知未发送即释放",
    "audit head missing over %d entries: re-created": "审计日志链头缺失（共 %d 条记录）：已重建",
    "audit chain not sealed: it does not check out (run huanjie audit verify)": (
        "审计日志链未能封存：校验不通过（请运行 huanjie audit verify）"
    ),
    "render job %s: claim lost before its result was stored": "生成任务 %s：结果写入前已被重新排队，本次结果作废",
    "render job %s: heartbeat failed": "生成任务 %s：心跳写入失败",
    "render job %s failed: %s": "生成任务 %s 失败：%s",
    "render job %s: its worker stopped; queued again": "生成任务 %s：其工作进程已停止，重新排队",
    "render jobs: %d finished jobs past retention deleted": "生成任务：已删除超过保留期限的已完成任务 %d 个",
    "render worker: database error": "生成进程：数据库错误",
    "render job purge failed": "清理过期生成任务失败",
    "render worker started: %s (poll every %ss)": "生成进程已启动：%s（每 %s 秒查看一次队列）",
    "render worker stopped: %d jobs run": "生成进程已停止：共完成任务 %d 个",
    "render jobs are left to render workers (render_runner = worker)": (
        "后台生成任务交由 huanjie render-worker 进程处理（render_runner = worker）"
    ),
    # uvicorn
    "Started server process [%d]": "服务器进程已启动［%d］",
    "Finished server process [%d]": "服务器进程已结束［%d］",
    "Waiting for application startup.": "等待应用启动……",
    "Application startup complete.": "应用已启动。",
    "Waiting for application shutdown.": "等待应用关闭……",
    "Application shutdown complete.": "应用已关闭。",
    "Shutting down": "正在关闭",
    "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)": "正在监听 %s://%s:%d（按 Ctrl+C 停止）",
    "Started parent process [%d]": "主进程已启动［%d］",
    "Stopping parent process [%d]": "主进程正在停止［%d］",
}
# Details passed with `extra=` and how a person reads them.
DETAILS = {
    "url": "地址",
    "database": "数据库",
    "path": "路径",
    "route": "路由",
    "method": "方法",
    "status": "状态",
    "ms": "毫秒",
    "user": "用户",
    "error": "错误",
}
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


class DropColor(logging.Filter):
    """uvicorn adds an ANSI-coloured copy of each message; our formatters use the plain one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when the record comes (a test runner may swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class ConsoleFormatter(logging.Formatter):
    """`2026-11-30 09:00:01 信息 服务 服务已启动  地址=http://127.0.0.1:8000/  数据库=sqlite`"""

    _second: tuple[int, str] = (-1, "")

    def _when(self, created: float) -> str:
        """The record's local time to the second, formatted once per second (not per line)."""
        second = int(created)
        if self._second[0] != second:
            self._second = (second, datetime.fromtimestamp(second).strftime("%Y-%m-%d %H:%M:%S"))
        return self._second[1]

    def format(self, record: logging.LogRecord) -> str:
        when = self._when(record.created)
        level = LEVELS.get(record.levelname, record.levelname)
        source = SOURCES.get(record.name, record.name)
        details = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        if record.name == "huanjie.access" and record.msg == "request":
            text = "{method} {path} → {status}（{ms} 毫秒）".format(
                **{k: details.pop(k, "") for k in ("method", "path", "status", "ms")}
            )
            details.pop("route", None)
            if details.get("user") is None:
                details.pop("user", None)
        else:
            text = self.message(record)
        line = f"{when} {level} {source} {text}"
        shown = [f"{DETAILS.get(k, k)}={v}" for k, v in details.items() if v is not None]
        if shown:
            line += "  " + "  ".join(shown)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line

    @staticmethod
    def message(record: logging.LogRecord) -> str:
        template = MESSAGES.get(record.msg, record.msg) if isinstance(record.msg, str) else record.msg
        if not record.args:
            return str(template)
        try:
            return str(template) % record.args
        except (TypeError, ValueError):  # a translation that does not fit: the original
            return record.getMessage()


def check_format(log_format: str) -> str:
    """A log format named on the command line or in HUANJIE_LOG_FORMAT, or a DomainError."""
    if log_format not in FORMATS:
        raise DomainError(
            "E_BAD_OPTION", f"日志格式 {log_format!r} 有误：可用 {'、'.join(FORMATS)}", "log_format"
        )
    return log_format


def choose(log_format: str = "auto", stream=None) -> Literal["text", "json"]:
    """`auto`: text on a terminal, JSON otherwise."""
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r}: one of {', '.join(FORMATS)}")
    if log_format != "auto":
        return log_format  # type: ignore[return-value]
    stream = stream or sys.stderr
    return "text" if getattr(stream, "isatty", lambda: False)() else "json"


def log_config(log_format: str = "auto", level: str = "INFO") -> dict:
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FORMAT,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        }
        if choose(log_format) == "json"
        else {"()": ConsoleFormatter}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        # redact_ids: no whole ID number in any log line or traceback (service/sanitize.py).
        "filters": {"drop_color": {"()": DropColor}, "redact_ids": {"()": RedactIds}},
        "handlers": {
            "stderr": {"()": StderrHandler, "formatter": "default", "filters": ["drop_color", "redact_ids"]}
        },
        "loggers": {
            # Propagates: a host's root handlers (and pytest's caplog) see the records too; the root
            # logger has no handler of ours, so nothing is printed twice.
            "huanjie": {"handlers": ["stderr"], "level": level, "propagate": True},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Requests are logged by the service's own middleware, with the route and the user.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "apscheduler": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "alembic": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


def configure(log_format: str = "auto", level: str = "INFO") -> dict:
    config = log_config(log_format, level)
    logging.config.dictConfig(config)
    return config
