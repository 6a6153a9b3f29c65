"""The office's side of online enrolment: the application in full (health
declaration included, each viewing audited), review, approve or decline."""
from __future__ import annotations

from portal.workqueue.forms import ReasonForm
from portal.workqueue.kinds import Action, ActionContext, OfficeKind, register
from portal.enrollment import services


def _review(ctx: ActionContext) -> str:
    services.start_review(ctx.session, ctx.request, ctx.staff.id)
    return "審査中にしました。組合員にお知らせします。"


def _approve(ctx: ActionContext) -> str:
    contract = services.approve(ctx.session, ctx.request, ctx.staff.id)
    return (f"成立しました（証書番号 {contract.contract_no}）。共済契約証書の発送が作業一覧に加わりました。")


def _decline(ctx: ActionContext) -> str:
    services.decline(ctx.session, ctx.request, ctx.data.get("reason") or "", ctx.staff.id)
    return "不成立としました。理由を組合員にお知らせします。"


register(OfficeKind(
    "enrollment", due_business_days=5, template="enrollment/office_application.html",
    context=services.application_for_office,
    actions=(
        Action("review", "審査を始める", _review, statuses=("received",), style="plain"),
        Action("approve", "成立にする", _approve, statuses=("received", "under_review"),
               hint="保障開始日は承認日の翌月1日です。契約と証書の発送手続きを作ります。"),
        Action("decline", "不成立にする", _decline, form=ReasonForm, statuses=("received", "under_review"),
               style="danger"),
    ),
))
