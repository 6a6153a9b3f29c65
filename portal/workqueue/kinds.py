"""What the office does with each procedure kind: its service level and its actions.

A feature plugs its procedure kind into the office work queue (/staff/work) by
registering an `OfficeKind` from a module named `portal/<feature>/office.py`;
the queue imports every such module the first time it needs the registry, so no
view or list here has to be edited:

    # portal/<feature>/office.py
    from portal.workqueue.kinds import Action, ActionContext, OfficeKind, register
    from portal.<feature> import services

    def _accept(ctx: ActionContext) -> str:
        services.accept(ctx.session, ctx.request, staff_id=ctx.staff.id)
        return "承認しました。"            # the message the staff user sees

    register(OfficeKind(
        kind="bank_account_change",         # a kind of portal.procedures.models.PROCEDURE_KINDS
        due_business_days=5,                # service level, counted from the day of receipt
        template="profile/office_bank.html",  # optional partial on the detail page
        context=lambda session, request: {"account": ...},  # optional values for that partial
        actions=(
            Action("accept", "承認する", _accept, statuses=("received", "reviewing")),
            Action("return", "差し戻す", _return, form=ReasonForm, statuses=("received",), style="danger"),
        ),
    ))

How an action runs (portal.backoffice.services.act):
- the staff user must hold the procedure (claim it first); the procedure's row is
  locked (SELECT … FOR UPDATE) and re-read, and the action is offered only while
  the status is one of `statuses`, so a double submission or a second person
  changes nothing twice;
- `run(ctx)` changes state through the feature's services with flush() only,
  moves the procedure with `portal.procedures.services.change_status` (which
  writes the member-visible event with its date and queues the notice through
  the member's preferences) and returns a message; to refuse it raises an
  exception with a Japanese `.message` (and optionally `.field`), and nothing of
  it is kept;
- the queue writes the audit line `backoffice.<kind>.<action>`, releases the
  procedure once it is no longer open, and commits once.
- `form` is a Flask-WTF form class with the inputs the action needs (a reason, a
  tracking number); `ctx.data` holds its cleaned data; `initial(session, request)`
  may give the values it shows first (the structure on file, today's date).

Kinds on the claims desk (`desk="claims"`) appear in the queue only as counts.
Kinds nobody registered are still listed (with the default service level) so
that nothing a member started is invisible to the office.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from portal.procedures.models import ProcedureRequest

DEFAULT_DUE_BUSINESS_DAYS = 5
# Statuses in which a procedure waits for the office (not for the member or a payment).
DEFAULT_WORK_STATUSES = ("received", "reviewing", "under_review", "checking_documents", "preparing_shipment")


@dataclass
class ActionContext:
    session: Session
    request: ProcedureRequest
    staff: Any  # the StaffUser acting
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    name: str                               # URL segment: /staff/work/<receipt_no>/act/<name>
    label: str                              # button text
    run: Callable[[ActionContext], str]     # returns the message shown to the staff user
    statuses: tuple[str, ...] = DEFAULT_WORK_STATUSES
    form: type | None = None                # Flask-WTF form class with the action's inputs
    style: str = "primary"                  # primary | danger | plain
    hint: str = ""                          # one line shown next to the button
    initial: Callable[[Session, ProcedureRequest], dict[str, Any]] | None = None  # the form's first values


@dataclass(frozen=True)
class OfficeKind:
    kind: str
    due_business_days: int = DEFAULT_DUE_BUSINESS_DAYS
    actions: tuple[Action, ...] = ()
    template: str | None = None
    context: Callable[[Session, ProcedureRequest], dict[str, Any]] | None = None
    desk: str = "office"                    # office | claims
    work_statuses: tuple[str, ...] = DEFAULT_WORK_STATUSES
    phone_intake: bool = False              # support staff may register it taken by phone

    def action(self, name: str) -> Action | None:
        return next((a for a in self.actions if a.name == name), None)

    def actions_for(self, status: str) -> list[Action]:
        return [a for a in self.actions if status in a.statuses]


_REGISTRY: dict[str, OfficeKind] = {}
_loaded = False


def register(kind: OfficeKind, *, default: bool = False) -> OfficeKind:
    """Add a kind, replacing what was there (a module imported twice registers the
    same thing again). `default=True` only fills a gap: the generic handling the
    office gives a kind until its own feature registers it."""
    from portal.procedures.models import PROCEDURE_KINDS

    if kind.kind not in PROCEDURE_KINDS:
        raise ValueError(f"unknown procedure kind {kind.kind!r}")
    names = [a.name for a in kind.actions]
    if len(names) != len(set(names)):
        raise ValueError(f"duplicate action names for {kind.kind}: {names}")
    if default and kind.kind in _REGISTRY:
        return _REGISTRY[kind.kind]
    _REGISTRY[kind.kind] = kind
    return kind


def load() -> None:
    """Import every `portal/<feature>/office.py` once."""
    global _loaded
    if _loaded:
        return
    import portal

    for module in sorted(pkgutil.iter_modules(portal.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        try:
            importlib.import_module(f"portal.{module.name}.office")
        except ModuleNotFoundError as error:
            if error.name != f"portal.{module.name}.office":
                raise
    _loaded = True


def get(kind: str) -> OfficeKind:
    """The registered kind, or a default one (listed, no actions)."""
    load()
    return _REGISTRY.get(kind) or OfficeKind(kind=kind)


def registered() -> dict[str, OfficeKind]:
    load()
    return dict(_REGISTRY)


def office_kinds() -> list[str]:
    """Every procedure kind the office desk works on: registered ones, then unregistered."""
    from portal.procedures.models import PROCEDURE_KINDS

    load()
    return [k for k in PROCEDURE_KINDS if get(k).desk == "office" and k not in NOT_OFFICE_WORK]


def claims_kinds() -> list[str]:
    load()
    return sorted(CLAIMS_DESK | {k for k, spec in _REGISTRY.items() if spec.desk == "claims"})


CLAIMS_DESK = frozenset({"claim", "damage_report"})
# Procedures that finish by themselves (the member's own change, a PDF, a card
# payment, a subscription): never office work, whatever their status.
NOT_OFFICE_WORK = frozenset({"phone_change", "email_change", "certificate_pdf", "subscription",
                             "notification_settings", "claim", "damage_report"})
