"""The office's side of contract changes: each kind is finished by its completion
service, which settles exactly the figures the member confirmed (shown here)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.workqueue.forms import ReasonForm
from portal.workqueue.kinds import Action, ActionContext, OfficeKind, register
from portal.changes import completion
from portal.changes.models import BeneficiaryDesignation, ProxyClaimant
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest

WORK = ("received", "reviewing", "checking_documents")
LABELS = {
    "cancellation": ("解約を完了する", "保障の最終日と金額は、組合員が確認した内容のとおりです。"),
    "cooling_off": ("クーリング・オフを完了する（契約を取り消す）", "お支払い済みの掛金を全額返金します。"),
    "withdrawal": ("脱退を完了する", "出資金は表示の予定日に振り込みます。"),
    "beneficiary_change": ("受取人を変更する", "被共済者の同意（氏名の入力）を確認してください。"),
    "proxy_claimant": ("指定代理請求人を登録する", "続柄の条件を確認してください。"),
    "name_change": ("氏名を変更する", "書類の氏名と入力された氏名が一致していることを確認してください。"),
}


def _complete(ctx: ActionContext) -> str:
    completion.COMPLETIONS[ctx.request.kind](ctx.session, ctx.request)
    return "完了にしました。組合員にお知らせします。"


def _return(ctx: ActionContext) -> str:
    procedures.change_status(ctx.session, ctx.request, "returned", f"理由：{ctx.data['reason'].strip()}")
    for model in (BeneficiaryDesignation, ProxyClaimant):
        for row in ctx.session.scalars(select(model).where(model.procedure_request_id == ctx.request.id)):
            row.status = "withdrawn"
    return "差し戻しました。理由を組合員にお知らせします。"


def facts(session: Session, request: ProcedureRequest) -> dict[str, Any]:
    detail = procedures.detail_of(request)
    person = None
    for model in (BeneficiaryDesignation, ProxyClaimant):
        person = person or session.scalar(select(model).where(model.procedure_request_id == request.id))
    return {"money": completion.money_of(request), "detail": detail, "person": person}


for kind, (label, hint) in LABELS.items():
    register(OfficeKind(
        kind, due_business_days=5, template="changes/office_detail.html", context=facts, work_statuses=WORK,
        actions=(Action("complete", label, _complete, statuses=WORK, hint=hint),
                 Action("return", "差し戻す", _return, form=ReasonForm, statuses=WORK, style="danger",
                        hint="お手続きできない理由を、組合員にわかる言葉で書いてください。")),
    ))
