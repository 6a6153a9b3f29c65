"""Every audit action the code records has a Japanese label, and the staff and
member pages show the label rather than the code."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import portal
from portal.audit.labels import ACTION_LABELS, action_label

ROOT = Path(portal.__file__).resolve().parent
# Codes built at run time from a procedure kind; their labels are checked one by one below.
FAMILIES = {"f'backoffice.{request.kind}.{action.name}'", "f'{request.kind}.completed'"}


def _is_record(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr == "record" and isinstance(func.value, ast.Name) and func.value.id == "audit"
    return isinstance(func, ast.Name) and func.id == "record"


class _Module:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.functions = [n for n in ast.walk(self.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]

    def owner(self, node: ast.AST) -> ast.FunctionDef | None:
        """The innermost function that holds the node."""
        return min((f for f in self.functions if f.lineno <= node.lineno <= f.end_lineno),
                   key=lambda f: f.end_lineno - f.lineno, default=None)


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _strings(node: ast.AST, module: _Module, modules: list[_Module], unresolved: list[str],
             depth: int = 0) -> set[str]:
    """The action codes an argument can take: a literal, either side of `a if c else b`,
    a local assigned from those, or a parameter filled with those by its callers
    (anywhere in the package, through any number of calls)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return (_strings(node.body, module, modules, unresolved, depth)
                | _strings(node.orelse, module, modules, unresolved, depth))
    function = module.owner(node)
    if isinstance(node, ast.Name) and function is not None and depth < 5:
        found: set[str] = set()
        for inner in ast.walk(function):
            if isinstance(inner, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id
                                                     for t in inner.targets):
                found |= _strings(inner.value, module, modules, unresolved, depth)
        positional = [a.arg for a in function.args.args]
        keyword_only = [a.arg for a in function.args.kwonlyargs]
        if node.id in positional or node.id in keyword_only:
            for caller in modules:
                for call in ast.walk(caller.tree):
                    if not isinstance(call, ast.Call) or _called_name(call) != function.name:
                        continue
                    keywords = {k.arg: k.value for k in call.keywords}
                    value = keywords.get(node.id)
                    if value is None and node.id in positional:
                        position = positional.index(node.id)
                        value = call.args[position] if position < len(call.args) else None
                    if value is not None:
                        found |= _strings(value, caller, modules, unresolved, depth + 1)
        if found:
            return found
    unresolved.append(ast.unparse(node))
    return set()


def recorded_actions(root: Path = ROOT) -> tuple[dict[str, str], list[str]]:
    """({action code: "file:line"}, [arguments that are not plain codes])."""
    codes: dict[str, str] = {}
    unresolved: list[str] = []
    modules = [_Module(path) for path in sorted(root.rglob("*.py"))]
    for module in modules:
        for node in ast.walk(module.tree):
            if _is_record(node):
                for code in _strings(node.args[0], module, modules, unresolved):
                    codes.setdefault(code, f"{module.path.relative_to(ROOT.parent)}:{node.lineno}")
    return codes, unresolved


def test_the_collector_finds_codes_passed_through_variables_and_parameters():
    codes, _ = recorded_actions()
    for code in ("staff.login", "staff.user_enable", "staff.user_disable",  # literal, both sides of `if`
                 "tip.reopen", "tip.unschedule",                          # a local variable
                 "contract.cancellation_requested", "claims.staff_file_view"):  # a parameter
        assert code in codes, code
    assert len(codes) > 90


def test_every_recorded_action_has_a_japanese_label():
    codes, unresolved = recorded_actions()
    assert set(unresolved) <= FAMILIES, f"action codes the test cannot read: {set(unresolved) - FAMILIES}"
    missing = {code: where for code, where in codes.items() if action_label(code) == code}
    assert not missing, f"add a label in portal/audit/labels.py for {missing}"
    assert not set(ACTION_LABELS) - set(codes), "labels for codes nothing records any more"


def test_every_office_action_and_contract_completion_has_a_label():
    from portal.changes.completion import COMPLETIONS
    from portal.workqueue import kinds

    kinds.load()
    built = [f"backoffice.{kind.kind}.{action.name}" for kind in kinds._REGISTRY.values() for action in kind.actions]
    built += [f"{kind}.completed" for kind in COMPLETIONS]
    assert len(built) > 15
    for code in built:
        label = action_label(code)
        assert label != code and not any(c.isascii() and c.isalpha() for c in label), (code, label)
    assert action_label("backoffice.bank_account_change.accept") == "事務処理：振替口座変更（承認）"
    assert action_label("cancellation.completed") == "解約の完了"
    assert action_label("no.such.code") == "no.such.code"


def test_staff_audit_search_csv_and_member_history_show_labels(app, client, db_session, demo, make_staff):
    from portal.audit import reports
    from portal.audit.models import AuditLog
    from tests.conftest import sign_in_staff_directly

    admin = make_staff("admin")
    db_session.add_all([
        AuditLog(actor_type="member", actor_member_id=demo["taro"].id, acting_as_member_id=demo["taro"].id,
                 action="profile.address_change"),
        AuditLog(actor_type="staff", actor_staff_id=admin.id, acting_as_member_id=demo["taro"].id,
                 action="impersonation.start", detail=json.dumps({"reason": "お問い合わせ"})),
        AuditLog(actor_type="staff", actor_staff_id=admin.id, action="backoffice.address_change.accept"),
    ])
    db_session.flush()
    history = reports.access_history(db_session, demo["taro"].id)
    assert [(h.kind, h.kind_label) for h in history] == [("act", "代理操作の開始")]
    csv = reports.audit_csv(db_session, reports.AuditFilter())
    assert "住所変更" in csv and "事務処理：住所変更（承認）" in csv
    sign_in_staff_directly(client, db_session, admin)
    html = client.get("/staff/audit").text
    assert "<td>住所変更</td>" in html and "<td>事務処理：住所変更（承認）</td>" in html
    assert '<option value="impersonation.start">代理操作の開始</option>' in html
