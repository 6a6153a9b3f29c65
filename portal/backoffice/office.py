"""Generic office handling for kinds that need no feature data: requests taken by
phone, paper forms, inquiries. Registered as defaults: a feature that registers
the same kind with its own actions takes over."""
from __future__ import annotations

from portal.backoffice.forms import NoteForm
from portal.workqueue.forms import ReasonForm
from portal.workqueue.kinds import Action, ActionContext, OfficeKind, register
from portal.procedures import services as procedures


def _note(ctx: ActionContext) -> str | None:
    return (ctx.data.get("note") or "").strip() or None


def complete(ctx: ActionContext) -> str:
    procedures.change_status(ctx.session, ctx.request, "completed", _note(ctx) or "お手続きが完了しました。")
    return "完了にしました。組合員にお知らせします。"


def send_forms(ctx: ActionContext) -> str:
    note = "ご請求の書類を発送しました。2営業日ほどでお届けします。"
    if _note(ctx):
        note += " " + _note(ctx)
    procedures.change_status(ctx.session, ctx.request, "shipped", note)
    return "発送済みにしました。組合員にお知らせします。"


def send_back(ctx: ActionContext) -> str:
    procedures.change_status(ctx.session, ctx.request, "returned", f"理由：{ctx.data['reason'].strip()}")
    return "差し戻しました。理由を組合員にお知らせします。"


COMPLETE = Action("complete", "完了にする", complete, form=NoteForm)
RETURN = Action("return", "差し戻す", send_back, form=ReasonForm, style="danger",
                hint="お手続きできない理由を、組合員にわかる言葉で書いてください。")

register(OfficeKind("paper_forms", due_business_days=2, phone_intake=True,
                    actions=(Action("send", "発送済みにする", send_forms, form=NoteForm), RETURN)), default=True)
register(OfficeKind("inquiry", due_business_days=2, phone_intake=True, actions=(COMPLETE,)), default=True)
register(OfficeKind("other", due_business_days=5, phone_intake=True, actions=(COMPLETE, RETURN)), default=True)
register(OfficeKind("contract_change", due_business_days=5, phone_intake=True, actions=(COMPLETE, RETURN)),
         default=True)
