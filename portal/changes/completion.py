"""Finishing a contract change: one entry per procedure kind, for the back
office's work queue and the CLI alike."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import audit
from portal.changes import services
from portal.clock import today
from portal.procedures.models import ProcedureRequest


def _cancellation(session: Session, request: ProcedureRequest) -> str:
    quote = services.complete_cancellation(session, request)
    return f"cancelled: cover to {quote.cover_ends_on}, refund {quote.refund_yen} yen"


def _cooling_off(session: Session, request: ProcedureRequest) -> str:
    return f"cooling-off: refund {services.complete_cooling_off(session, request)} yen"


def _withdrawal(session: Session, request: ProcedureRequest) -> str:
    return f"withdrawn: shares refund {services.complete_withdrawal(session, request, today())} yen"


def _beneficiary(session: Session, request: ProcedureRequest) -> str:
    return f"beneficiary: {services.complete_beneficiary_change(session, request).relation}"


def _proxy(session: Session, request: ProcedureRequest) -> str:
    return f"proxy claimant: {services.complete_proxy_claimant(session, request).relation}"


def _name(session: Session, request: ProcedureRequest) -> str:
    services.complete_name_change(session, request)
    return "name changed"


COMPLETIONS: dict[str, Callable[[Session, ProcedureRequest], str]] = {
    "cancellation": _cancellation, "cooling_off": _cooling_off, "withdrawal": _withdrawal,
    "beneficiary_change": _beneficiary, "proxy_claimant": _proxy, "name_change": _name,
}


def money_of(request: ProcedureRequest) -> dict[str, Any]:
    """The amounts the office settles, as the member confirmed them."""
    detail = services.procedures.detail_of(request)
    return {k: detail[k] for k in ("refund_yen", "last_debit_yen", "cover_ends_on", "last_debit_on", "refund_on")
            if k in detail}


def complete(session: Session, receipt_no: str) -> str:
    request = session.scalar(select(ProcedureRequest).where(ProcedureRequest.receipt_no == receipt_no)
                             .with_for_update())
    if request is None or request.kind not in COMPLETIONS:
        raise services.ChangeError("この受付番号の契約変更は見つかりません。")
    return COMPLETIONS[request.kind](session, request)


def audit_completion(receipt_no: str, request: ProcedureRequest, staff_id: int | None) -> None:
    audit.record(f"{request.kind}.completed", target_type="procedure", target_id=receipt_no,
                 detail=money_of(request), member_id=request.member_id, staff_id=staff_id)
