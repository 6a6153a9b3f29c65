"""住まいる共済 re-rating after a move: the property's structure decides the premium.

The new yearly premium applies from the day of the move; the difference for the
whole months left in the current contract year is refunded or charged once
(yearly premium / 12 × months, rounded down in the member's favour), and the
premium history gets a line with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from portal.contracts.catalogue import sumairu_premiums
from portal.contracts.models import STRUCTURE_LABELS, STRUCTURES, Contract, PremiumAdjustment, PremiumChange
from portal.contracts.shipping import ContractProcedureError, contract_of
from portal.jp.dates import format_date_jp
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest

REASON = "住所変更に伴う掛金改定"
DISASTER_PLANS = ("basic", "economy", "none")
DISASTER_LABELS = {"basic": "自然災害共済 ベーシック", "economy": "自然災害共済 エコノミー", "none": "自然災害共済なし"}



def start_rerating(session: Session, contract: Contract, moved_on: date) -> ProcedureRequest:
    """Queue the re-rating of a property that moved with the member (its own procedure)."""
    return procedures.start(
        session, contract.member, "property_rerating",
        f"住まいる共済（証書番号 {contract.masked_no}）の所在地変更に伴い、建物の構造を確認して掛金を再計算します。",
        effective_date=moved_on, notify=False,
        detail={"contract_no": contract.contract_no, "moved_on": moved_on.isoformat(),
                "structure_before": contract.property_structure})


def current_plan(contract: Contract, rated_structure: str | None = None) -> str:
    """Which 自然災害共済 plan the present premium was rated with (the contract does not store it).

    `rated_structure`: the structure the premium was rated with, when the property has
    since moved to a building of another structure (the re-rating's `structure_before`)."""
    structure = rated_structure or contract.property_structure or "wooden"
    for plan in DISASTER_PLANS:
        if sumairu_premiums(structure, contract.units, plan)[0] == contract.premium_yen:
            return plan
    return "basic"


def months_left(contract: Contract, on: date) -> int:
    """Whole months from `on` to the end of the contract year (its anniversary)."""
    start = contract.start_date
    end = date(on.year, start.month, 1)
    end = end.replace(day=min(start.day, 28))
    if end <= on:
        end = end.replace(year=end.year + 1)
    months = (end.year - on.year) * 12 + end.month - on.month - (1 if end.day < on.day else 0)
    return max(0, min(12, months))


@dataclass(frozen=True)
class Rerating:
    contract_no: str
    structure: str
    plan: str
    old_premium_yen: int
    new_premium_yen: int
    months_left: int
    adjustment_yen: int          # + charged, − refunded, 0 nothing
    effective_from: date

    @property
    def member_note(self) -> str:
        text = (f"建物の構造（{STRUCTURE_LABELS[self.structure]}）を確認しました。"
                f"{format_date_jp(self.effective_from)}からの年間掛金は{self.new_premium_yen:,}円です"
                f"（変更前 {self.old_premium_yen:,}円）。")
        if self.adjustment_yen > 0:
            text += f"今年度の残り{self.months_left}か月分の差額{self.adjustment_yen:,}円を次回の振替で追加でお支払いいただきます。"
        elif self.adjustment_yen < 0:
            text += f"今年度の残り{self.months_left}か月分の差額{-self.adjustment_yen:,}円をご登録の口座へ返金します。"
        else:
            text += "差額の精算はありません。"
        return text


def quote(contract: Contract, structure: str, plan: str, effective_from: date) -> Rerating:
    if structure not in STRUCTURES:
        raise ContractProcedureError("建物の構造を選んでください。", field="structure")
    if plan not in DISASTER_PLANS:
        raise ContractProcedureError("自然災害共済のタイプを選んでください。", field="plan")
    new_total, _earthquake = sumairu_premiums(structure, contract.units, plan)
    months = months_left(contract, effective_from)
    difference = new_total - contract.premium_yen
    # Rounded down in the member's favour both ways: less to pay, never less refunded than due.
    adjustment = difference * months // 12 if difference > 0 else -((-difference) * months // 12)
    return Rerating(contract.contract_no, structure, plan, contract.premium_yen, new_total, months, adjustment,
                    effective_from)


def rerate(session: Session, request: ProcedureRequest, structure: str, plan: str) -> Rerating:
    """Apply the new premium, the history line and the one-off adjustment; complete the procedure."""
    if request.kind != "property_rerating" or request.status not in ("received", "reviewing"):
        raise ContractProcedureError(f"この手続きはすでに「{request.status_label}」です。")
    contract = contract_of(session, request)
    moved_on = date.fromisoformat(procedures.detail_of(request).get("moved_on") or request.created_at.date().isoformat())
    result = quote(contract, structure, plan, moved_on)
    new_total, earthquake = sumairu_premiums(structure, contract.units, plan)
    contract.property_structure = structure
    contract.needs_rerating = False
    if new_total != contract.premium_yen:
        contract.premium_yen = new_total
        contract.deductible_premium_yen = earthquake
        contract.premium_changes.append(PremiumChange(effective_from=moved_on, premium_yen=new_total, reason=REASON))
    if result.adjustment_yen:
        session.add(PremiumAdjustment(contract_id=contract.id, procedure_request_id=request.id,
                                      amount_yen=result.adjustment_yen, reason=REASON))
    session.flush()
    procedures.change_status(session, request, "completed", result.member_note)
    return result
