"""The office's side of contracts: 共済契約証書 printed and shipped, and the
住まいる共済 re-rating after a move."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired

from portal.workqueue.forms import ShipmentForm
from portal.workqueue.kinds import Action, ActionContext, OfficeKind, register
from portal.clock import today
from portal.contracts import rerating, shipping
from portal.contracts.models import STRUCTURE_LABELS, STRUCTURES
from portal.jp.dates import format_date_jp
from portal.procedures import services as procedures


class RerateForm(FlaskForm):
    structure = RadioField("建物の構造（確認した内容）", choices=[(s, STRUCTURE_LABELS[s]) for s in STRUCTURES],
                           validators=[InputRequired("建物の構造を選んでください。")])
    plan = RadioField("自然災害共済", choices=[(p, rerating.DISASTER_LABELS[p]) for p in rerating.DISASTER_PLANS],
                      validators=[InputRequired("自然災害共済のタイプを選んでください。")])


def _printed(ctx: ActionContext) -> str:
    shipping.mark_printed(ctx.session, ctx.request)
    return "印刷済み（発送準備中）にしました。"


def _shipped(ctx: ActionContext) -> str:
    shipment = shipping.mark_shipped(ctx.session, ctx.request, ctx.data.get("shipped_on"), ctx.data.get("tracking_no"))
    return f"発送済みにしました（お届け予定 {format_date_jp(shipment.arrival)}）。組合員にお知らせします。"


def _certificate_facts(session, request):
    contract = shipping.contract_of(session, request)
    return {"contract": contract, "member": contract.member}


def _rerate(ctx: ActionContext) -> str:
    result = rerating.rerate(ctx.session, ctx.request, ctx.data.get("structure") or "", ctx.data.get("plan") or "")
    return "掛金を改定しました。" + result.member_note


def _rerating_facts(session, request):
    contract = rerating.contract_of(session, request)
    moved_on = request.effective_date or today()
    quotes = [rerating.quote(contract, s, p, moved_on) for s in STRUCTURES for p in rerating.DISASTER_PLANS]
    return {"contract": contract, "quotes": quotes, "plan": _rated_plan(contract, request),
            "structure_labels": STRUCTURE_LABELS, "plan_labels": rerating.DISASTER_LABELS}


def _rated_plan(contract, request) -> str:
    return rerating.current_plan(contract, procedures.detail_of(request).get("structure_before"))


def _rerate_initial(session, request):
    """The structure on file (after a move, the one the member gave) and the plan the premium has."""
    contract = rerating.contract_of(session, request)
    return {"structure": contract.property_structure or "wooden", "plan": _rated_plan(contract, request)}


register(OfficeKind(
    "contract_certificate", due_business_days=5, template="contracts/office_certificate.html",
    context=_certificate_facts,
    work_statuses=("received", "preparing_shipment"),
    actions=(
        Action("printed", "印刷済みにする", _printed, statuses=("received",), style="plain"),
        Action("shipped", "発送済みにする", _shipped, form=ShipmentForm, statuses=("received", "preparing_shipment"),
               initial=lambda session, request: {"shipped_on": today()},
               hint="まとめて登録するときは、作業一覧の「証書の発送CSV」から印刷会社のCSVを取り込めます。"),
    ),
))

register(OfficeKind(
    "property_rerating", due_business_days=5, template="contracts/office_rerating.html",
    context=_rerating_facts,
    actions=(Action("rerate", "この内容で掛金を改定する", _rerate, form=RerateForm, initial=_rerate_initial,
                    hint="新しい掛金は転居日から適用し、今年度の残り月数分の差額を返金または請求します。"),),
))

