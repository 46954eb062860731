"""The package's shape: module-level imports form no cycle and point down the layers of
docs/architecture.md only; the local server imports nothing of the client; the document names only
modules that exist.

Imports inside functions are left out on purpose: they are how heavy packages (pandas, Altair,
vl-convert, websockets, the server) stay unloaded until used, and an upward one there is a
deliberate convenience (``Table.df``), not a cycle at import time.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "trellis_jupyter"
DOC = ROOT / "docs" / "architecture.md"

# Lower numbers sit lower; a module may import its own layer or any lower one. Kept in step with
# docs/architecture.md. A new module goes here (and gets a paragraph there).
LAYERS: dict[str, int] = {
    # 0 - the vocabulary: no I/O, no other layer
    "_version": 0,
    "errors": 0,
    "events": 0,
    "types": 0,
    "sanitize": 0,
    "scrub": 0,
    "_imports": 0,
    # 1 - the local server (trellis_jupyter.local.*), checked by its own rule below
    # 2 - answers and their presentation, still without I/O
    "answer": 2,
    "_error_text": 2,
    "_retry": 2,
    "render": 2,
    "convert": 2,
    "charts": 2,
    "chart_spec": 2,
    "altair_charts": 2,
    "config": 2,
    "auth": 2,
    "uploads": 2,
    # 3 - the wire: HTTP with retries, SSE decoding, the stream objects, the WebSocket protocol
    "_http": 3,
    "_sse": 3,
    "stream": 3,
    "_wsproto": 3,
    # 4 - the transports the client hands out
    "chats": 4,
    "queries": 4,
    "websocket": 4,
    # 5 - the clients and the conversation built on them
    "client": 5,
    "conversation": 5,
    "replay": 5,
    # 6 - the surfaces: the kernel's session, the magics, the widget, the CLI
    "session": 6,
    "display": 6,
    "magic_args": 6,
    "magics": 6,
    "magic_data": 6,
    "widget": 6,
    "widget_html": 6,
    "widget_wire": 6,
    "notebooks": 6,
    "cli": 6,
    "__init__": 6,
}
LOCAL = 1
# What the local server may import from outside trellis_jupyter.local: the wire's vocabulary only.
LOCAL_MAY_IMPORT = {"_version", "errors", "events"}


def _name(path: Path) -> str:
    """``trellis_jupyter/local/app.py`` -> ``local.app``; the package itself is ``__init__``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _top_level(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Import statements run when the module loads (``if TYPE_CHECKING:`` blocks excluded)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            found += _top_level(node.body) + _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            found += _top_level(node.body)
            for handler in node.handlers:
                found += _top_level(handler.body)
            found += _top_level(node.orelse) + _top_level(node.finalbody)
    return found


def _target(name: str) -> str | None:
    """The package module an absolute dotted name refers to (``None`` outside the package)."""
    if name != "trellis_jupyter" and not name.startswith("trellis_jupyter."):
        return None
    short = name.removeprefix("trellis_jupyter").lstrip(".") or "__init__"
    while short not in MODULES and "." in short:
        short = short.rsplit(".", 1)[0]  # an attribute of a module: the module
    return short if short in MODULES else None


def module_imports(name: str) -> set[str]:
    """The package modules ``name`` imports when it loads."""
    path = MODULES[name]
    package = ["trellis_jupyter", *name.split(".")]
    if path.name != "__init__.py":
        package.pop()  # a module's relative imports start from its package
    elif name == "__init__":
        package = ["trellis_jupyter"]
    found: set[str] = set()
    for node in _top_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            bases = [f"{base}.{alias.name}" for alias in node.names]  # a submodule, or an attribute
        for full in bases:
            target = _target(full)
            if target is not None and target != name:
                found.add(target)
    return found


GRAPH: dict[str, set[str]] = {name: module_imports(name) for name in MODULES}


def _layer(name: str) -> int:
    return LOCAL if name.startswith("local") else LAYERS[name]


def test_every_module_has_a_layer() -> None:
    missing = [n for n in MODULES if not n.startswith("local") and n not in LAYERS]
    assert not missing, (
        f"modules with no layer: {missing}; add each to LAYERS in tests/test_architecture.py and "
        "give it a paragraph in docs/architecture.md"
    )


def test_the_import_graph_reads_the_package() -> None:
    # The parser itself: known edges are found, TYPE_CHECKING imports are not.
    assert "events" in GRAPH["answer"]
    assert "errors" in GRAPH["events"]
    assert "_sse" in GRAPH["stream"]
    assert "local.context" in GRAPH["local.app"]
    assert "client" not in GRAPH["chats"]  # only under TYPE_CHECKING there
    assert "events" in GRAPH["local.wire"]  # an absolute import


def test_no_import_cycle() -> None:
    # Depth-first search; the first cycle found is shown whole.
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(GRAPH):
        if start not in state:
            cycle = visit(start)
            assert cycle is None, "module-level import cycle: " + " -> ".join(cycle)


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{name} (layer {_layer(name)}) imports {dep} (layer {_layer(dep)})"
        for name, deps in sorted(GRAPH.items())
        for dep in sorted(deps)
        if _layer(dep) > _layer(name)
    ]
    assert not upward, "imports pointing up:\n" + "\n".join(upward)


def test_the_local_server_imports_nothing_of_the_client() -> None:
    wrong = [
        f"{name} imports {dep}"
        for name, deps in sorted(GRAPH.items())
        if name.startswith("local")
        for dep in sorted(deps)
        if not dep.startswith("local") and dep not in LOCAL_MAY_IMPORT
    ]
    assert not wrong, "the local server may import only events, errors and _version:\n" + "\n".join(wrong)


def test_no_client_module_imports_the_local_server_at_load() -> None:
    wrong = [
        f"{name} imports {dep}"
        for name, deps in GRAPH.items()
        if not name.startswith("local")
        for dep in deps
        if dep.startswith("local")
    ]
    assert not wrong, wrong


def test_the_architecture_document_names_real_modules() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Za-z_][\w/]*\.py)`", text))
    assert len(named) >= 20, "docs/architecture.md names the modules as `path.py`"
    # A name is a path in the package (``local/app.py``), or from the repository's root.
    missing = sorted(n for n in named if not (PACKAGE / n).is_file() and not (ROOT / n).is_file())
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"
    # And the other way round: every top-level module has its paragraph.
    top = {p.name for p in PACKAGE.glob("*.py")}
    undocumented = sorted(top - named)
    assert not undocumented, f"modules without a paragraph in docs/architecture.md: {undocumented}"


@pytest.mark.parametrize("name", ["local.planner", "local.app", "local.turns"])
def test_local_modules_are_parsed(name: str) -> None:
    assert name in MODULES
    assert GRAPH[name], f"{name} imports nothing? the parser missed its imports"
