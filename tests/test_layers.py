"""The layers of docs/architecture.md hold in the code: every project import points the way the
document's table says, no two modules import each other in a circle, and no project import hides
inside a function (except the deferrals the table below names, each with its reason).

The rules are read from the document itself, so the picture and the code cannot drift apart."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("config", "workflow", "schedules", "notices", "service", "demo")

# Imports inside a function that are deliberate: (module, imported module) → why.
DEFERRED = {
    ("service.app", "schedules.runner"): "APScheduler starts only when the service runs its scheduler",
    ("service.cli.serve", "service.app"): "`huanjie serve` alone needs FastAPI and uvicorn",
    ("service.cli.serve", "service.cli.serve_socket"): "uvicorn's multi-process set-up, for `serve --workers N`",
    ("service.cli.scheduler", "schedules.runner"): "`huanjie worker` alone needs APScheduler",
    ("service.cli.common", "workflow.store"): "SQLAlchemy loads only for commands that use the database",
    ("service.cli.common", "workflow.store.db"): "SQLAlchemy loads only for commands that use the database",
}
# The one deliberate dynamic import: the CLI's registry of lazily loaded command modules
# (`service/cli/__init__.py`, COMMANDS: `Lazy(name, "module:attribute", help)`). Its targets
# count as imports of that module, so the layer and circle checks cover them.
LAZY_REGISTRY = "service.cli"
# Libraries the pure domain never imports (DESIGN.md: no database, no HTTP, no scheduler).
IMPURE = ("sqlalchemy", "fastapi", "starlette", "httpx", "apscheduler", "typer", "alembic", "psycopg")


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]  # dotted prefixes
    may_import: tuple[str, ...]  # layer names, itself included


@cache
def layers() -> tuple[Layer, ...]:
    """The table between `<!-- layers -->` markers: | layer | modules | may import |."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- layers -->")[1]
    found = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("layer", "") or set(cells[0]) <= {"-"}:
            continue
        name = cells[0].strip("*")
        modules = tuple(re.findall(r"`([\w.]+)`", cells[1]))
        may = tuple(re.findall(r"\*\*([\w ]+)\*\*", cells[2]))
        found.append(Layer(name, modules, (name, *may)))
    return tuple(found)


def layer_of(module: str) -> Layer:
    """The layer whose longest prefix names the module."""
    best, length = None, -1
    for layer in layers():
        for prefix in layer.modules:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = layer, len(prefix)
    assert best is not None, f"{module} is in no layer of docs/architecture.md"
    return best


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # Alembic's scripts import the models by design
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def resolve(name: str) -> str | None:
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@dataclass(frozen=True)
class Import:
    target: str  # the project module imported
    line: int
    in_function: bool


@cache
def imports(module: str) -> list[Import]:
    path = modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        targets = {resolve(n) for n in names if n.split(".")[0] in PACKAGES}
        for target in sorted(t for t in targets if t and t != module):
            found.append(Import(target, node.lineno, id(node) in inside))
    if module == LAZY_REGISTRY:
        found += [Import(resolve(target) or target, line, False) for target, line in lazy_targets(tree)]
    return found


def lazy_targets(tree: ast.AST) -> list[tuple[str, int]]:
    """The modules named by the registry's `Lazy(name, "module:attribute", help)` entries."""
    return [
        (node.args[1].value.partition(":")[0], node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Lazy"
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
    ]


def test_every_module_is_in_a_layer():
    for module in modules():
        layer_of(module)


def test_imports_point_the_way_the_layers_say():
    wrong = []
    for module in sorted(modules()):
        own = layer_of(module)
        for found in imports(module):
            target = layer_of(found.target)
            if target.name not in own.may_import:
                wrong.append(f"{module}:{found.line} ({own.name}) imports {found.target} ({target.name})")
    assert not wrong, "imports against the layers of docs/architecture.md:\n" + "\n".join(wrong)


def test_the_pure_domain_imports_no_database_http_or_scheduler():
    wrong = []
    for module, path in sorted(modules().items()):
        if layer_of(module).name != "domain":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            wrong += [f"{module}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in IMPURE]
    assert not wrong, "\n".join(wrong)


def test_no_project_import_hides_in_a_function():
    hidden = [
        f"{module}:{found.line} imports {found.target} inside a function"
        for module in sorted(modules())
        for found in imports(module)
        if found.in_function and (module, found.target) not in DEFERRED
    ]
    assert not hidden, "\n".join(hidden)


def test_no_import_circles():
    graph = {m: {i.target for i in imports(m)} for m in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not circles, f"import circles: {circles}"


def test_the_layer_rules_are_not_vacuous():
    # The table must actually forbid something: the domain may not import storage or the edges.
    domain = layer_of("workflow.rules.tally")
    assert domain.name == "domain" and "store" not in domain.may_import
    assert layer_of("workflow.store.models").name == "store"
    assert layer_of("service.app").name == "edges"
    assert "schedules" not in layer_of("workflow.commands.elections").may_import


def test_dynamic_imports_only_in_the_cli_registry():
    """importlib/__import__ would hide an import from these checks; only the CLI's lazy registry
    may use it (and its targets are checked above)."""
    wrong = []
    for module, path in sorted(modules().items()):
        text = path.read_text(encoding="utf-8")
        if ("import_module(" in text or "__import__(" in text) and module != LAZY_REGISTRY:
            wrong.append(module)
    assert not wrong, f"dynamic imports outside {LAZY_REGISTRY}: {wrong}"
    registry = imports(LAZY_REGISTRY)
    assert {"service.cli.plan", "service.cli.elections", "service.cli.serve"} <= {i.target for i in registry}
    assert all(i.target in modules() for i in registry), "a Lazy entry names a module that does not exist"
