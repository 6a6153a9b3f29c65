"""The import graph between top-level portal packages: no cycles, and shared
packages never import a feature (they are used by every feature and must not
depend on any one of them). Every import counts, also one inside a function."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import portal

ROOT = Path(portal.__file__).resolve().parent

# Used by every feature; may import each other (without cycles), never a feature.
SHARED = {
    "audit", "cli_support", "clock", "config", "csvexport", "db", "endpoints", "errors", "extensions",
    "gateways", "idempotency", "input_filter", "jp", "logredact", "members", "messaging", "pagination",
    "procedures", "service_errors", "users", "workqueue",
}
# Put the application together: may import anything, imported by nobody but each other.
ASSEMBLY = {"__init__", "cli", "core_views", "models", "security", "seed", "templating"}
# Everything else (auth, contracts, profile, shop, staff, …, and any new package) is a feature.


def _top(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    return parts[0][:-3] if len(parts) == 1 else parts[0]


def import_graph(root: Path = ROOT) -> dict[str, dict[str, list[str]]]:
    """{importer: {imported: ["file:line", …]}} between top-level packages."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        source = _top(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
                if node.module == "portal":  # from portal import audit
                    modules = [f"portal.{alias.name}" for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] != "portal" or len(parts) < 2 or parts[1] == source:
                    continue
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                graph[source][parts[1]].append(where)
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def layering_breaks(graph: dict[str, dict[str, list[str]]]) -> list[str]:
    breaks = []
    for source, targets in sorted(graph.items()):
        for target, places in sorted(targets.items()):
            if source in SHARED and target not in SHARED:
                breaks.append(f"shared {source} imports {target} ({places[0]})")
            elif source not in ASSEMBLY and target in ASSEMBLY:
                breaks.append(f"{source} imports the application assembly {target} ({places[0]})")
    return breaks


def test_no_cycle_between_top_level_packages():
    graph = import_graph()
    cycle = find_cycle(graph)
    if cycle:
        steps = [f"{a} -> {b} ({graph[a][b][0]})" for a, b in zip(cycle, cycle[1:])]
        raise AssertionError("import cycle: " + "; ".join(steps))


def test_shared_packages_import_no_feature():
    assert layering_breaks(import_graph()) == []


def test_the_checks_catch_a_cycle_and_a_break(tmp_path):
    """The two checks fail on a package tree that has the faults."""
    (tmp_path / "portal" / "jp").mkdir(parents=True)
    (tmp_path / "portal" / "shop").mkdir()
    (tmp_path / "portal" / "voices").mkdir()
    (tmp_path / "portal" / "jp" / "dates.py").write_text("def f():\n    from portal.shop import services\n")
    (tmp_path / "portal" / "shop" / "services.py").write_text("from portal import voices\n")
    (tmp_path / "portal" / "voices" / "services.py").write_text("import portal.shop.models\n")
    graph = import_graph(tmp_path / "portal")
    assert find_cycle(graph) in (["shop", "voices", "shop"], ["voices", "shop", "voices"])
    assert layering_breaks(graph) == ["shared jp imports shop (portal/jp/dates.py:2)"]
