"""Views never write audit rows: the service that does the work writes its own, so
the same action leaves the same row whether a page, the office queue or a command
line calls it."""
from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def audit_writes(tree: ast.AST) -> list[int]:
    """Lines that call `audit.record(...)`, or `record(...)` imported from portal.audit."""
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "portal.audit" for alias in node.names if alias.name == "record"}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "record" and isinstance(func.value, ast.Name)
                and func.value.id == "audit") or (isinstance(func, ast.Name) and func.id in imported):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_both_spellings():
    source = ("from portal import audit\nfrom portal.audit import record as write\n"
              "def view():\n    audit.record('x')\n    write('y')\n    other.record('z')\n")
    assert audit_writes(ast.parse(source)) == [4, 5]


def test_no_view_module_writes_an_audit_row():
    found = {}
    for path in sorted(PORTAL.rglob("views*.py")):
        lines = audit_writes(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[str(path.relative_to(PORTAL.parent))] = lines
    assert not found, f"move these audit rows into the services: {found}"
