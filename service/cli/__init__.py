"""The `huanjie` command line. Each command group lives in its own module (`service/cli/<group>.py`,
a `typer.Typer` named `app`); single commands are functions in such a module.

Lazy loading (docs/architecture.md, "The CLI loads a command's module only when it runs"): the
registry `COMMANDS` below names each command's module, attribute and one-line help, in the order
`huanjie --help` lists them. `LazyGroup` (Click's documented "lazily loading subcommands" pattern)
imports a module only when its command runs or its own help is asked for, so `huanjie --help`
imports no command module, and `huanjie plan check` neither SQLAlchemy nor FastAPI. Adding a
command group is one line in `COMMANDS`; `tests/test_cli_startup.py` checks that every entry
loads and that its help here matches the module's own.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

import typer
from typer._click.core import Command, Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand, TyperGroup

from service.cli import i18n


@dataclass(frozen=True)
class Lazy:
    """A command of `huanjie`: `module:attribute` is a `typer.Typer` (a group) or a function (a
    single command); `help` is what `huanjie --help` shows beside the name."""

    name: str
    target: str
    help: str

    def load(self) -> Command:
        module, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        if isinstance(found, typer.Typer):
            command = typer.main.get_group(found)  # a group even with one command (`plan check`)
        else:
            single = typer.Typer(add_completion=False)
            single.command(self.name)(found)
            command = typer.main.get_command(single)
        command.name = self.name
        _plain(command)
        return command


COMMANDS: tuple[Lazy, ...] = (
    # Single commands first.
    Lazy("quota", "service.cli.plan:quota", "按选举法第十二条计算代表总名额。"),
    Lazy(
        "demo",
        "service.cli.demo:demo",
        "载入演示数据：京山县（2011 年种子计划与本届）、乡镇、党支部、社区居委会。",
    ),
    Lazy(
        "tally",
        "service.cli.tally:tally",
        "按法定规则计票：有效性、当选、票数相等再次投票、另行选举。0 已计票，2 输入有误。",
    ),
    Lazy(
        "apportion",
        "service.cli.districts:apportion_command",
        "按人口数把代表名额分配到各选区（每区一至三名，选举法第二十五、二十六条）。",
    ),
    Lazy(
        "serve", "service.cli.serve:serve", "启动 HTTP API、工作台和调度器（默认 http://127.0.0.1:8000/）。"
    ),
    Lazy(
        "sweep",
        "service.cli.scheduler:sweep_command",
        "执行一次到期提醒扫描：发出提醒、标记逾期、上报督办、推进阶段。",
    ),
    Lazy(
        "worker",
        "service.cli.scheduler:worker_command",
        "运行调度进程（定时扫描、每日提示、发送通知），收到 SIGTERM 后处理完当前任务再退出。",
    ),
    Lazy(
        "render-worker",
        "service.cli.worker:render_worker_command",
        "运行后台生成进程（PDF、Word 样稿与大批量导出），收到 SIGTERM 后完成当前任务再退出。",
    ),
    # Command groups.
    Lazy("plan", "service.cli.plan:app", "选举工作计划"),
    Lazy("kinds", "service.cli.kinds:app", "选举类型"),
    Lazy("jurisdictions", "service.cli.jurisdictions:app", "行政区域与选举委员会"),
    Lazy("elections", "service.cli.elections:app", "选举"),
    Lazy("rounds", "service.cli.rounds:app", "整轮换届：一次创建全省（全市）各县、乡两级选举"),
    Lazy("milestones", "service.cli.milestones:app", "工作节点"),
    Lazy("audit", "service.cli.audit:app", "审计日志"),
    Lazy("outbox", "service.cli.outbox:app", "通知发件箱"),
    Lazy("districts", "service.cli.districts:app", "选区：划分方案、登记与列表"),
    Lazy("candidates", "service.cli.candidates:app", "代表候选人：推荐、初步与正式名单、预选、结构、回避"),
    Lazy("tallies", "service.cli.tallies:app", "登记各选区计票结果（含另行选举、再次投票）"),
    Lazy("results", "service.cli.results:app", "选举结果：公布、代表资格审查、当选证书"),
    Lazy("notices", "service.cli.notices:app", "公告：列出、生成、发布"),
    Lazy("voters", "service.cli.voters:app", "选民登记、选民名单与选民证"),
    Lazy("appeals", "service.cli.appeals:app", "对选民名单的申诉（选举法第二十九条）"),
    Lazy("users", "service.cli.users:app", "登录账号"),
    Lazy("tokens", "service.cli.tokens:app", "API 令牌"),
    Lazy("reminders", "service.cli.reminders:app", "提醒"),
)


def _plain(command: Command) -> None:
    """Plain, Chinese help and errors for a loaded command tree: Typer's rich panels would import
    rich (slow) and print texts the Chinese catalogue (i18n.py) does not cover."""
    command.context_class = i18n.ChineseContext
    command.options_metavar = "[选项]"
    if isinstance(command, TyperCommand | TyperGroup):
        command.rich_markup_mode = None
    if isinstance(command, TyperGroup):
        command.suggest_commands = False  # Typer's suggestion is English; LazyGroup suggests in Chinese
        command.subcommand_metavar = "命令 [参数]..."
        for sub in command.commands.values():
            _plain(sub)


class LazyGroup(TyperGroup):
    """The root group: commands come from `COMMANDS`, imported when first used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = {entry.name: entry for entry in COMMANDS}
        self.context_class = i18n.ChineseContext
        self.suggest_commands = False  # Typer's suggestion is English; resolve_command suggests
        self.options_metavar = "[选项]"
        self.subcommand_metavar = "命令 [参数]..."

    def list_commands(self, ctx: Context) -> list[str]:
        return [*self.lazy, *(name for name in self.commands if name not in self.lazy)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = self.lazy[cmd_name].load()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The listing from the registry's help texts: `huanjie --help` loads no command."""
        rows = [(entry.name, entry.help) for entry in self.lazy.values()]
        with formatter.section(i18n.gettext("Commands")):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except UsageError as error:
            matches = get_close_matches(args[0], list(self.lazy)) if args else []
            if matches:
                error.message = error.message.rstrip("。") + f"。是否要用：{'、'.join(matches)}？"
            raise

    def invoke(self, ctx: Context) -> Any:
        """Any failure a command did not turn into a message itself ends as one, exit 2: staff see
        a Chinese sentence, never a traceback (HUANJIE_DEBUG=1 shows it for developers)."""
        try:
            return super().invoke(ctx)
        except (ClickException, typer.Exit, typer.Abort, KeyboardInterrupt, EOFError, BrokenPipeError):
            raise  # Typer's own handling (a closed pipe, as in `huanjie … | head`, exits quietly)
        except Exception as error:
            if os.environ.get("HUANJIE_DEBUG"):
                raise
            typer.echo(f"错误：{_describe(error)}", err=True)
            raise typer.Exit(2) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """As Typer's, but usage errors are printed in Chinese (i18n.show)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as error:
            error.show()  # the help page itself
            sys.exit(error.exit_code)
        except ClickException as error:
            i18n.show(error)
            sys.exit(error.exit_code)
        except typer.Abort:
            typer.echo("已中止。", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _describe(error: Exception) -> str:
    """A staff-readable sentence for an error no command anticipated."""
    if isinstance(error, OverflowError):
        return "日期超出可计算的范围（年份须在 1 至 9999 之间，且推算出的期限也不能越界），请检查日期。"
    if isinstance(error, MemoryError):
        return "内存不足，无法完成。"
    if isinstance(error, OSError):
        where = f"：{error.filename}" if getattr(error, "filename", None) else ""
        return f"读写文件失败{where}（{error.strerror or type(error).__name__}）。"
    if isinstance(error, UnicodeError):
        return "输入中有无法处理的字符（编码有误）。"
    exc = sys.modules.get("sqlalchemy.exc")
    if exc is not None and isinstance(error, exc.SQLAlchemyError):
        return "数据库操作失败，命令未完成（未提交的改动已撤销）。请检查数据库（--db 或 HUANJIE_DB）后重试。"
    return (
        f"内部错误（{type(error).__name__}），命令未完成（未提交的改动已撤销）。"
        "请联系技术支持（设置 HUANJIE_DEBUG=1 可看到详细信息）。"
    )


i18n.install()

app = typer.Typer(
    name="huanjie",
    help="换届选举工作编排：选举计划、法定期限、阶段推进、公告。",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: str = typer.Option(
        None, "--db", help="数据库 URL（默认：用户数据目录下的 SQLite 文件，或环境变量 HUANJIE_DB）"
    ),
    actor: str = typer.Option(
        None, "--actor", help="记入审计日志的操作人（默认：HUANJIE_ACTOR，或 cli:系统用户名）"
    ),
) -> None:
    # The options are kept as given; `service.cli.common.state` builds the command's state from
    # them (so the root loads nothing of the database layer).
    ctx.obj = {"db": db, "actor": actor}


def main() -> None:
    app()
