"""The layout of DESIGN §5, enforced: the import graph of the project's modules (tests and
migrations aside) has no cycle and every import between apps is allowed by the table; no
module grows past 800 lines; every task enqueued by name is a registered Celery task."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# DESIGN §5: which app may import which (an app may always import itself).
ALLOWED: dict[str, frozenset[str]] = {
    "servicedesk": frozenset(),
    "crm": frozenset({"servicedesk"}),
    "guidelines": frozenset({"servicedesk"}),
    "monitoring": frozenset({"servicedesk", "crm"}),
    "triage": frozenset({"servicedesk", "crm", "monitoring"}),
    "staffing": frozenset({"servicedesk"}),
    "knowledge": frozenset({"servicedesk", "guidelines"}),
    "tickets": frozenset(
        {"servicedesk", "crm", "guidelines", "monitoring", "triage", "staffing", "knowledge"}
    ),
    "privacy": frozenset(
        {"servicedesk", "crm", "guidelines", "monitoring", "triage", "staffing", "knowledge"}
        | {"tickets"}
    ),
}
APPS = frozenset(ALLOWED)
MAX_MODULE_LINES = 800
SKIPPED_DIRS = {".venv", ".git", "tests", "migrations", "__pycache__", ".local", "node_modules"}


def _python_files(top: Path) -> Iterator[Path]:
    for path in sorted(top.rglob("*.py")):
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
            yield path


def project_modules() -> dict[str, Path]:
    """Dotted name → file of every module of the apps (tests and migrations aside)."""
    modules = {}
    for app in sorted(APPS):
        if not (ROOT / app).is_dir():
            continue
        for path in _python_files(ROOT / app):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports, anywhere in its body (a function-level
    import is an edge too). `from a import b` counts as importing `a.b` if that is a module,
    else `a`."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets.update(f"{base}.{alias.name}" for alias in node.names)
                targets.add(base)
        resolved = {resolve(target) for target in targets}
        graph[name] = {target for target in resolved if target and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def forbidden_imports(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        app = module.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other != app and other not in ALLOWED[app]:
                found.append(f"{module} imports {target} ({app} may import only "
                             f"{', '.join(sorted(ALLOWED[app])) or 'no app'})")  # fmt: skip
    return found


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph(project_modules())

    assert len(graph) > 100  # the walk found the project
    assert cycles(graph) == []


def test_every_import_between_apps_is_allowed_by_the_dependency_table() -> None:
    assert forbidden_imports(import_graph(project_modules())) == []


def test_the_checks_see_a_cycle_and_a_forbidden_import() -> None:
    graph = {"crm.a": {"tickets.b"}, "tickets.b": {"crm.a"}, "servicedesk.c": {"crm.a"}}

    assert cycles(graph) == [["crm.a", "tickets.b"]]
    assert [line.split(" (")[0] for line in forbidden_imports(graph)] == [
        "crm.a imports tickets.b",
        "servicedesk.c imports crm.a",
    ]


def test_no_module_outside_tests_and_migrations_is_over_800_lines() -> None:
    long_modules = {
        str(path.relative_to(ROOT)): lines
        for path in _python_files(ROOT)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }

    assert long_modules == {}


TASK_NAME = re.compile(r"""["']([a-z_]+\.tasks\.[a-z_]+_task)["']""")


def test_every_task_named_in_the_code_is_a_registered_celery_task() -> None:
    from django.conf import settings

    from servicedesk.queue import task_named

    named = {
        match
        for path in _python_files(ROOT)
        for match in TASK_NAME.findall(path.read_text(encoding="utf-8"))
    }
    named |= {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "tickets.tasks.send_reply_task" in named  # the scan found the code's names
    assert {name: task_named(name).name for name in sorted(named)} == {
        name: name for name in sorted(named)
    }


def test_an_unknown_task_name_is_refused_when_it_is_enqueued() -> None:
    from servicedesk.queue import UnknownTask, enqueue_on_commit

    with pytest.raises(UnknownTask):
        enqueue_on_commit("tickets.tasks.no_such_task")
