"""Typer's and Click's own texts in Chinese: "Usage:", "Options", "Show this message and exit.",
"Missing option", "Error: …", "Try '… --help' for help.".

Typer (≥ 0.25) carries its own copy of Click (`typer._click`) whose texts are plain English
strings, not gettext calls; only `typer.core` translates through gettext (bound at import, with the
catalogue the user's locale picks). The CLI is Chinese whatever the machine's locale (county staff
read it), so this module
- binds `typer.core`'s gettext name to the catalogue below (`install()`);
- gives every command a Context whose help formatter writes "用法：" and translates the help
  option's text (`ChineseContext`, set on each command by `service.cli.LazyGroup`);
- prints usage errors itself (`error_text`), from the exception's type and fields, in Chinese.
`tests/test_cli_chinese.py` checks help and errors for English left over, and that every gettext
text of `typer.core` has a translation here (an upgrade that adds one fails the suite).
"""

from __future__ import annotations

import re
import unicodedata

import typer.core
from typer._click.core import Context
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    FileError,
    MissingParameter,
    NoSuchOption,
    UsageError,
)
from typer._click.formatting import HelpFormatter

# typer.core's gettext texts.
TEXTS: dict[str, str] = {
    "(dynamic)": "（动态）",
    "Aborted!": "已中止。",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
    "Arguments": "参数",
    "Options": "选项",
    "Commands": "命令",
    "Missing command.": "缺少子命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
}

# Texts the vendored Click writes as plain strings into help pages.
HELP_TEXTS: dict[str, str] = {
    "Show this message and exit.": "显示本帮助并退出。",
}

# Usage-error messages of the vendored Click and of Typer's value checks (pydantic), as patterns.
MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"^Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)$", "多余的参数：{args}"),
        (r"^Option (?P<name>'.*') requires an argument\.$", "选项 {name} 需要一个取值。"),
        (r"^Option (?P<name>'.*') requires (?P<n>\d+) arguments\.$", "选项 {name} 需要 {n} 个取值。"),
        (r"^Option (?P<name>'.*') does not take a value\.$", "选项 {name} 不带取值。"),
        (r"^Argument (?P<name>'.*') takes (?P<n>\d+) values\.$", "参数 {name} 需要 {n} 个值。"),
        (r"^No such option: (?P<name>.*)$", "没有选项 {name}。"),
        (r"^Value must be an iterable\.$", "取值必须是一组值。"),
        (r"^Value (?P<value>.*) is not a valid (?P<type>\w+)\.$", "{value} 不是有效的 {type}。"),
        (r"^Input should be a valid integer.*$", "应为整数。"),
        (r"^Input should be a valid number.*$", "应为数字。"),
        (r"^Input should be a valid boolean.*$", "应为是/否（true、false、yes、no、1、0）。"),
        (r"^Input should be a valid date.*$", "应为日期 YYYY-MM-DD。"),
        (r"^Input should be a valid datetime.*$", "应为日期时间（ISO 格式）。"),
        (r"^Input should be (?P<choices>'.*')$", "应为以下之一：{choices}。"),
        (r"^Input should be greater than or equal to (?P<n>.*)$", "不能小于 {n}。"),
        (r"^Input should be less than or equal to (?P<n>.*)$", "不能大于 {n}。"),
        (r"^Input should be greater than (?P<n>.*)$", "应大于 {n}。"),
        (r"^Input should be less than (?P<n>.*)$", "应小于 {n}。"),
        (r"^(?P<label>File|Directory|Path) (?P<path>.*) does not exist\.$", "{label} {path} 不存在。"),
        (r"^(?P<label>File|Directory|Path) (?P<path>.*) is a file\.$", "{label} {path} 是文件，应为目录。"),
        (
            r"^(?P<label>File|Directory|Path) (?P<path>.*) is a directory\.$",
            "{label} {path} 是目录，应为文件。",
        ),
        (r"^(?P<label>File|Directory|Path) (?P<path>.*) is not readable\.$", "{label} {path} 不可读。"),
        (r"^(?P<label>File|Directory|Path) (?P<path>.*) is not writable\.$", "{label} {path} 不可写。"),
    )
)
LABELS = {"File": "文件", "Directory": "目录", "Path": "路径"}


def gettext(message: str) -> str:
    return TEXTS.get(message, message)


def install() -> None:
    """Bind the catalogue into typer.core (idempotent)."""
    typer.core._ = gettext


def translate(message: str) -> str:
    """A Click/Typer message in Chinese (Chinese messages of our own pass unchanged)."""
    for pattern, text in MESSAGES:
        found = pattern.match(message)
        if found:
            fields = {k: LABELS.get(v, v) for k, v in found.groupdict().items()}
            return text.format(**fields)
    return message


# The value types Typer names in help pages (`--db <str>`, `--batch <int range>`).
TYPES = {
    "str": "文本",
    "int": "整数",
    "float": "数",
    "path": "路径",
    "bool": "是/否",
    "date": "日期",
    "datetime": "日期时间",
}
_TYPE = re.compile(r"<(\w+)( range)?>")


def _type_name(found: re.Match[str]) -> str:
    name = TYPES.get(found.group(1))
    if name is None:
        return found.group(0)
    return f"<{name}{'，有范围' if found.group(2) else ''}>"


def width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# A run of Latin letters, digits and their punctuation stays on one line; a Chinese character or
# a space may end a line.
_TOKENS = re.compile(r"[\x21-\x7e]+|\s+|.")


CLOSING = set("，。、；：？！）」』》〉】”’,.;:?!)]}")


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most `columns` terminal columns (a single over-long word stays whole).
    Closing punctuation never starts a line (避头): the character before it moves down with it."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for token in _TOKENS.findall(paragraph):
            if not line.strip() or width(line + token.rstrip()) <= columns:
                line += token
                continue
            carry = token.lstrip()
            if carry and carry[0] in CLOSING:
                while len(line) > 1 and (line[-1] in CLOSING or carry[0] in CLOSING):
                    line, carry = line[:-1], line[-1] + carry
                    if line[-1:] not in CLOSING:
                        break
            lines.append(line.rstrip())
            line = carry
        lines.append(line.rstrip())
    return lines


class ChineseFormatter(HelpFormatter):
    """Click's help layout, measured in terminal columns (Chinese characters are two wide) so
    that help pages fit the terminal and their columns line up."""

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        paragraphs = [p for p in re.split(r"\n\s*\n", text)]
        lines = []
        for number, paragraph in enumerate(paragraphs):
            if number:
                lines.append("")
            joined = " ".join(part.strip() for part in paragraph.splitlines())
            lines += [indent + line for line in wrap(joined, max(self.width - self.current_indent, 20))]
        self.write("\n".join(lines) + "\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(_TYPE.sub(_type_name, a), HELP_TEXTS.get(b, b)) for a, b in rows]
        first = min(max((width(a) for a, _ in rows), default=0), col_max) + col_spacing
        text_columns = max(self.width - first - self.current_indent, 10)
        for term, text in rows:
            self.write(f"{'':>{self.current_indent}}{term}")
            if not text:
                self.write("\n")
                continue
            if width(term) <= first - col_spacing:
                self.write(" " * (first - width(term)))
            else:
                self.write("\n" + " " * (first + self.current_indent))
            lines = wrap(text, text_columns)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(" " * (first + self.current_indent) + line + "\n")


class ChineseContext(Context):
    formatter_class = ChineseFormatter


def _hint(error: BadParameter) -> str:
    if error.param_hint is not None:
        hint = error.param_hint
        return hint if isinstance(hint, str) else " / ".join(repr(h) for h in hint)
    return error.param.get_error_hint() if error.param is not None else ""


def error_text(error: ClickException) -> str:
    """The one-line Chinese message of a usage error (without the usage line and hint)."""
    if isinstance(error, MissingParameter):
        kind = error.param_type or (error.param.param_type_name if error.param is not None else "")
        what = {"option": "选项", "argument": "参数"}.get(kind, "参数")
        extra = ""
        if error.param is not None:
            choices = error.param.get_missing_message(ctx=error.ctx) or ""
            if choices.startswith("Choose from:"):
                extra = "，可选：" + "、".join(c.strip(" ,\t") for c in choices.splitlines()[1:])
        return f"缺少{what} {_hint(error)}{extra}。".replace(" 。", "。")
    if isinstance(error, NoSuchOption):
        text = f"没有选项 {error.option_name}。"
        if error.possibilities:
            text += f"是否要用：{'、'.join(sorted(error.possibilities))}？"
        return text
    if isinstance(error, BadParameter):
        hint = _hint(error)
        message = translate(error.message)
        return f"{hint} 的取值有误：{message}" if hint else f"取值有误：{message}"
    if isinstance(error, FileError):
        return f"无法打开文件 {error.ui_filename!r}：{translate(error.message)}"
    return translate(error.message)


def show(error: ClickException) -> None:
    """Print a usage error as staff read it: the usage line, the error, where to find help."""
    ctx = getattr(error, "ctx", None)
    if isinstance(error, UsageError) and ctx is not None:
        typer.echo(ctx.get_usage(), err=True)
        if ctx.command.get_help_option(ctx) is not None:
            typer.echo(f"请用 '{ctx.command_path} {ctx.help_option_names[0]}' 查看帮助。", err=True)
    typer.echo(f"错误：{error_text(error)}", err=True)
