"""共済契約証書: printed, shipped with a tracking number, and what the member sees.

A new certificate (a contract made, a reissue) is a procedure of kind
`contract_certificate`: 受付済 → 発送準備中 (printed) → 発送済 (shipped, with the
date, the expected arrival and the tracking number). The contract row keeps the
latest certificate's state for the contract pages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import today
from portal.contracts.models import Contract
from portal.jp.dates import add_business_days, format_date_jp
from portal.jp.text import normalize
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.service_errors import ServiceError

ARRIVAL_BUSINESS_DAYS = 2
TRACKING_RE = re.compile(r"^[0-9A-Z][0-9A-Z-]{5,29}$")


class ContractProcedureError(ServiceError):
    """A certificate or re-rating step that cannot be done (a Japanese message, and its field)."""


def expected_arrival(shipped_on: date) -> date:
    return add_business_days(shipped_on, ARRIVAL_BUSINESS_DAYS)


def clean_tracking_no(raw: str | None) -> str:
    text = normalize(raw).upper().replace(" ", "").replace("ー", "-").replace("－", "-")
    if not text:
        raise ContractProcedureError("お問い合わせ番号を入力してください。", field="tracking_no")
    if not TRACKING_RE.match(text):
        raise ContractProcedureError("お問い合わせ番号は英数字とハイフンで6〜30文字です。", field="tracking_no")
    return text


def check_shipped_on(shipped_on: date | None, request: ProcedureRequest) -> date:
    from portal.clock import to_tokyo

    if shipped_on is None:
        raise ContractProcedureError("発送日を入力してください。", field="shipped_on")
    if shipped_on > today():
        raise ContractProcedureError("発送日に未来の日付は入力できません。", field="shipped_on")
    if shipped_on < to_tokyo(request.created_at).date():
        raise ContractProcedureError("発送日が受付日より前になっています。", field="shipped_on")
    return shipped_on


def open_certificate_request(session: Session, contract: Contract) -> ProcedureRequest | None:
    rows = session.scalars(select(ProcedureRequest).where(
        ProcedureRequest.member_id == contract.member_id, ProcedureRequest.kind == "contract_certificate",
        ProcedureRequest.is_open).order_by(ProcedureRequest.id))
    return next((r for r in rows if procedures.detail_of(r).get("contract_no") == contract.contract_no), None)


def start_certificate(session: Session, contract: Contract, *, reason: str = "ご契約の成立") -> ProcedureRequest:
    """A certificate to print and send (one open per contract); the contract shows 発送準備中."""
    existing = open_certificate_request(session, contract)
    if existing is not None:
        return existing
    contract.certificate_status = "preparing"
    contract.certificate_shipped_on = None
    contract.certificate_tracking_no = None
    return procedures.start(
        session, contract.member, "contract_certificate",
        f"共済契約証書（証書番号 {contract.masked_no}）を作成し、ご登録の住所へ郵送します（{reason}）。",
        detail={"contract_no": contract.contract_no, "reason": reason}, notify=False)


def contract_of(session: Session, request: ProcedureRequest) -> Contract:
    """The member's contract a certificate or re-rating procedure is about."""
    number = procedures.detail_of(request).get("contract_no")
    contract = session.scalar(select(Contract).where(Contract.contract_no == str(number),
                                                     Contract.member_id == request.member_id))
    if contract is None:
        raise ContractProcedureError("この手続きの契約が見つかりません。")
    return contract


def mark_printed(session: Session, request: ProcedureRequest) -> ProcedureRequest:
    if request.status != "received":
        raise ContractProcedureError(f"この手続きはすでに「{request.status_label}」です。")
    contract_of(session, request)
    return procedures.change_status(session, request, "preparing_shipment",
                                    "証書を印刷しました。発送の準備をしています。", notify=False)


@dataclass(frozen=True)
class Shipment:
    shipped_on: date
    tracking_no: str

    @property
    def arrival(self) -> date:
        return expected_arrival(self.shipped_on)


def mark_shipped(session: Session, request: ProcedureRequest, shipped_on: date | None,
                 tracking_no: str | None) -> Shipment:
    """Shipped: the contract shows 発送済み with the arrival and tracking number; the member is told."""
    if request.status not in ("received", "preparing_shipment"):
        raise ContractProcedureError(f"この手続きはすでに「{request.status_label}」です。")
    shipment = Shipment(check_shipped_on(shipped_on, request), clean_tracking_no(tracking_no))
    contract = contract_of(session, request)
    contract.certificate_status = "shipped"
    contract.certificate_shipped_on = shipment.shipped_on
    contract.certificate_tracking_no = shipment.tracking_no
    session.flush()
    procedures.change_status(
        session, request, "shipped",
        f"{format_date_jp(shipment.shipped_on)}に発送しました。お届け予定は{format_date_jp(shipment.arrival)}です"
        f"（日本郵便 お問い合わせ番号 {shipment.tracking_no}）。")
    return shipment
