"""The import graph follows the layers (README, "Architecture"; STYLE.md, "Layout").

Every module of `tradeline/` (migrations, tests, the shared test helpers in `tradeline/testing` and
the `__main__` entry point left out) is parsed with `ast`; every `import` counts, at module level and inside functions. From
that come two graphs: files (module -> module it imports) and apps (app -> app). The tests fail on
- any cycle between files or between apps;
- more than MAX_UPWARD imports that point from a lower layer to a higher one;
- an app that is not placed in LAYERS (so a new app gets a place on purpose).
"""

import ast
from pathlib import Path

import pytest

# Low -> high. A module may import its own layer and the layers below it. analytics (the daily
# broker figures) sits right above orders because the payment services write its counters; the
# browser-facing apps share one layer; devtools (simulators, demo data) is on top.
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("audit",),
    ("brokers",),
    ("hooks",),  # webhooks to brokers: the business services above emit events into it
    ("catalog",),
    ("orders",),
    ("agreements",),
    ("evidence",),
    ("analytics",),
    ("payments",),
    ("fulfillment",),
    ("payouts",),
    ("chargebacks",),
    ("reports",),  # revenue reports: reads orders and daily figures; only the dashboard and the API use it
    ("ledger",),
    ("dashboard", "portal", "widget", "orderstatus"),
    ("devtools",),
]
# The paid, refund and dispute services call up into fulfillment (enqueue) and payouts (commissions,
# clawbacks, dispute holds): 5 imports today, the ceiling. Lower it when one goes; never raise it.
MAX_UPWARD = 5

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # .../tradeline
RANK = {app: rank for rank, layer in enumerate(LAYERS) for app in layer}


def _skipped(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    # __main__.py is the command-line entry point (manage.py's job): above every layer.
    return "migrations" in parts or "tests" in parts or parts[0] in ("testing", "__main__.py")


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every production module under `root` (a package dir)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        if _skipped(path, root):
            continue
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    if node.level:  # relative: resolve against this module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    # `from pkg import sub` names a submodule when one exists; the caller resolves that.
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_edges(root: Path) -> list[tuple[str, str, int]]:
    """(importer, imported module, line) for every import between modules under `root`."""
    modules = module_files(root)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):  # module level and inside functions alike
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = _imported_names(node, module, path.name == "__init__.py")
            if isinstance(node, ast.ImportFrom):
                submodules = [name for name in names[:-1] if name in modules]
                names = submodules or names[-1:]
            for name in names:
                target = resolve(name) if name.startswith(root.name + ".") else None
                if target and target != module:
                    edges.append((module, target, node.lineno))
    return edges


def app_of(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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


def file_graph(edges) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for source, target, _ in edges:
        graph.setdefault(source, set()).add(target)
    return graph


def app_graph(edges) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for source, target, _ in edges:
        if app_of(source) != app_of(target):
            graph.setdefault(app_of(source), set()).add(app_of(target))
    return graph


def upward(edges) -> list[tuple[str, str, int]]:
    return [(s, t, line) for s, t, line in edges if RANK[app_of(s)] < RANK[app_of(t)]]


@pytest.fixture(scope="module")
def edges():
    return import_edges(PACKAGE_ROOT)


def test_every_app_has_a_layer(edges):
    apps = {app_of(module) for module in module_files(PACKAGE_ROOT) if "." in module}
    assert sorted(apps - set(RANK)) == []


def test_no_cycle_between_apps(edges):
    assert cycles(app_graph(edges)) == []


def test_no_cycle_between_files(edges):
    assert cycles(file_graph(edges)) == []


def test_at_most_max_upward_imports(edges):
    found = upward(edges)
    listing = "\n".join(f"{s}:{line} -> {t}" for s, t, line in found)
    assert len(found) <= MAX_UPWARD, f"{len(found)} imports point up the layers:\n{listing}"


def test_domain_apps_never_import_the_browser_apps_ledger_or_devtools(edges):
    top = {"dashboard", "portal", "widget", "ledger", "devtools"}
    wrong = [(s, t) for s, t, _ in edges if app_of(t) in top and app_of(s) not in top]
    assert wrong == []


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_walker_sees_function_level_imports_and_reports_their_cycles(tmp_path):
    """The checks above can fail: a cycle hidden in a function, and an upward import, are found."""
    root = tmp_path / "tradeline"
    _write(root, "__init__.py", "")
    _write(root, "orders/__init__.py", "")
    _write(root, "orders/services.py", "from tradeline.orders import selectors\n")
    _write(root, "orders/selectors.py", "def f():\n    from tradeline.orders.services import g\n")
    _write(root, "core/__init__.py", "")
    _write(root, "core/money.py", "from .. import orders\nfrom ..orders.selectors import f\n")
    _write(root, "orders/tests/test_x.py", "from tradeline.core import money\n")  # tests are left out
    found = import_edges(root)
    assert sorted((s, t) for s, t, _ in found) == [
        ("tradeline.core.money", "tradeline.orders"),
        ("tradeline.core.money", "tradeline.orders.selectors"),
        ("tradeline.orders.selectors", "tradeline.orders.services"),
        ("tradeline.orders.services", "tradeline.orders.selectors"),
    ]
    assert cycles(file_graph(found)) == [["tradeline.orders.selectors", "tradeline.orders.services"]]
    assert [(s, t) for s, t, _ in upward(found)] == [
        ("tradeline.core.money", "tradeline.orders"), ("tradeline.core.money", "tradeline.orders.selectors")]
    assert cycles(app_graph(found)) == []
