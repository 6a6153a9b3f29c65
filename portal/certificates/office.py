"""The office's side of certificate mailing: print and post it, then mark it sent."""
from __future__ import annotations

from portal.workqueue.kinds import Action, ActionContext, OfficeKind, register
from portal.certificates import services
from portal.procedures.services import detail_of


def _mailed(ctx: ActionContext) -> str:
    services.mark_mailed(ctx.session, ctx.request)
    return "郵送済みにしました。組合員にお知らせします。"


register(OfficeKind(
    "certificate_mail", due_business_days=3, template="certificates/office_mail.html",
    context=lambda session, request: {"detail": detail_of(request)},
    actions=(Action("mailed", "郵送済みにする", _mailed, statuses=("received", "reviewing"),
                    hint="証明書を印刷し、下の住所へ郵送してから押してください。"),),
))
