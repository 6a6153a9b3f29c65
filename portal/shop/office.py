"""The office's side of kit orders: paid orders go to the fulfilment partner (CSV)
and are marked shipped with the tracking number."""
from __future__ import annotations

from portal.workqueue.forms import TrackingForm
from portal.workqueue.kinds import Action, ActionContext, OfficeKind, register
from portal.contracts.shipping import clean_tracking_no
from portal.shop import services


def _order(session, request):
    order = services.order_for_procedure(session, request)
    if order is None:
        raise services.ShopError("この手続きの注文が見つかりません。")
    return order


def _shipped(ctx: ActionContext) -> str:
    tracking = clean_tracking_no(ctx.data.get("tracking_no"))
    order = services.mark_shipped(ctx.session, _order(ctx.session, ctx.request), tracking)
    return f"注文 {order.order_no} を発送済みにしました。組合員にお知らせします。"


def _facts(session, request):
    from portal.members.models import Member

    return {"order": services.order_for_procedure(session, request),
            "member": session.get(Member, request.member_id)}


register(OfficeKind(
    "shop_order", due_business_days=3, template="shop/office_order.html", context=_facts,
    work_statuses=("paid",),
    actions=(Action("shipped", "発送済みにする", _shipped, form=TrackingForm, statuses=("paid",),
                    hint="発送依頼は作業一覧の「キット発送依頼CSV」で、お支払い済みの注文をまとめて出力できます。"),),
))
