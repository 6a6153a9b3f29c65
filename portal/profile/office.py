"""The office's side of a debit-account change: accept it or send it back."""
from __future__ import annotations

from portal.workqueue.forms import ReasonForm
from portal.workqueue.kinds import Action, ActionContext, OfficeKind, register
from portal.jp.dates import format_date_jp
from portal.profile import services


def _accept(ctx: ActionContext) -> str:
    request = services.complete_bank_change(ctx.session, ctx.request)
    return f"承認しました。{format_date_jp(request.effective_date)}の口座振替から新しい口座です。"


def _return(ctx: ActionContext) -> str:
    services.return_bank_change(ctx.session, ctx.request, ctx.data.get("reason") or "")
    return "差し戻しました。理由を組合員にお知らせします。"


register(OfficeKind(
    "bank_account_change", due_business_days=5,
    template="profile/office_bank_change.html",
    context=lambda session, request: services.bank_change_facts(session, request),
    actions=(
        Action("accept", "承認する（新しい口座に切り替える）", _accept, statuses=("received", "reviewing"),
               hint="口座振替依頼書の内容と金融機関の確認結果が一致していることを確かめてください。"),
        Action("return", "差し戻す", _return, form=ReasonForm, statuses=("received", "reviewing"), style="danger",
               hint="例：金融機関で口座を確認できませんでした。口座名義をお確かめのうえ、もう一度お申し込みください。"),
    ),
))
