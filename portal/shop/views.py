"""Health-check kits: catalogue, orders, card payment, the regular course, receipts, webhook."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from portal.extensions import csrf, db
from portal.gateways import GatewayError
from portal.gateways.payments import payments
from portal.idempotency import new_form_token
from portal.members.models import Member
from portal.ops import metrics
from portal.service_errors import commit_or_flash, show_on_form
from portal.shop import catalogue, receipts, services
from portal.shop.forms import ActionForm, OrderForm, PaymentForm, SkipForm
from portal.shop.services import ShopError
from portal.users import acting_staff_id, current_member, is_acting, is_member, refuse_while_acting

bp = Blueprint("shop", __name__)
log = logging.getLogger(__name__)
EXPIRED = "画面の有効期限が切れました。内容をご確認のうえ、もう一度お手続きください。"


def _viewer() -> Member | None:
    """The member looking at a public shop page, if any (staff acting count as that member)."""
    if is_acting() or is_member(current_user):
        return current_member()
    return None


def _offer_or_404(sku: str) -> catalogue.Offer:
    offer = catalogue.get(sku)
    if offer is None:
        abort(404)
    return offer


def _order_or_404(order_no: str):
    order = services.get_order_for(db.session, current_member(), order_no)
    if order is None:
        abort(404)
    return order


def _subscription_or_404(subscription_id: int):
    subscription = services.get_subscription_for(db.session, current_member(), subscription_id)
    if subscription is None:
        abort(404)
    return subscription


def _order_form(member: Member | None, offer: catalogue.Offer) -> OrderForm:
    """Only the people of the household the kit is for are offered (the service checks again)."""
    form = OrderForm()
    people = services.recipients(member, offer) if member else []
    form.person_id.choices = [(0, "選んでください")] + [
        (p.id, f"{p.name}（{p.relation_label}）") for p, reason in people if reason is None]
    if not form.token.data:
        form.token.data = new_form_token()
    return form


def _render_show(offer: catalogue.Offer, form: OrderForm | None, member: Member | None, status: int = 200):
    return render_template("shop/show.html", offer=offer, form=form, member=member,
                           eligible=services.can_buy(member), payments_available=payments().available,
                           people=services.recipients(member, offer) if member else []), status


@bp.get("/shop", endpoint="index")
def index():
    member = _viewer()
    return render_template("shop/index.html", offers=catalogue.OFFERS, member=member,
                           eligible=services.can_buy(member), payments_available=payments().available)


@bp.get("/shop/<sku>", endpoint="show")
def show(sku: str):
    offer = _offer_or_404(sku)
    member = _viewer()
    form = _order_form(member, offer) if services.can_buy(member) else None
    return _render_show(offer, form, member)


@bp.post("/shop/<sku>/order", endpoint="order")
@refuse_while_acting("購入")
def order(sku: str):
    offer = _offer_or_404(sku)
    member = current_member()
    form = _order_form(member, offer)
    if not form.validate_on_submit():
        return _render_show(offer, form, member, 422)
    action = services.subscribe if offer.is_subscription else services.place_order
    try:
        result = action(db.session, member, offer.sku, form.person_id.data, token=form.token.data,
                        staff_id=acting_staff_id())
    except ShopError as error:
        db.session.rollback()
        show_on_form(form, error, default="person_id")
        return _render_show(offer, form, member, 422)
    db.commit()
    if offer.is_subscription:
        return redirect(url_for("shop.subscription", subscription_id=result.id))
    if result.last_error:
        flash(result.last_error, "warning")
    return redirect(url_for("shop.order_detail", order_no=result.order_no))


@bp.get("/shop/orders", endpoint="orders")
def orders():
    member = current_member()
    return render_template("shop/orders.html", orders=services.orders_for(db.session, member),
                           subscriptions=services.subscriptions_for(db.session, member),
                           next_delivery=services.next_delivery_date)


def _render_order(order, gateway, action_secret: str | None):
    return render_template("shop/order.html", order=order, pay_form=PaymentForm(), action_form=ActionForm(),
                           gateway=gateway, action_secret=action_secret, member=current_member(),
                           shipping_fee_yen=catalogue.SHIPPING_FEE_YEN)


@bp.get("/shop/orders/<order_no>", endpoint="order_detail")
def order_detail(order_no: str):
    order = _order_or_404(order_no)
    gateway = payments()
    return _render_order(order, gateway, None)


@bp.post("/shop/orders/<order_no>/card-setup", endpoint="order_card_setup")
@refuse_while_acting("購入")
def order_card_setup(order_no: str):
    order = _order_or_404(order_no)
    try:
        secret = services.card_setup_for_order(db.session, order)
    except ShopError as error:
        return jsonify(error=error.message), 503
    return jsonify(client_secret=secret)


def _charge(charge):
    """`charge(card)` with the card (a PaymentMethod id from Stripe.js) the form sent: its
    result, or None with the reason flashed. A refused card's attempt and reason are kept:
    the order or course stays open for another card."""
    form = PaymentForm()
    if not form.validate_on_submit():
        flash(" ".join(form.payment_method_id.errors) or "カード情報を入力してください。", "error")
        return None
    try:
        result = charge(form.payment_method_id.data)
    except ShopError as error:
        db.commit()
        flash(error.message, "error")
        return None
    db.commit()
    return result


@bp.post("/shop/orders/<order_no>/pay", endpoint="order_pay")
@refuse_while_acting("購入")
def order_pay(order_no: str):
    order = _order_or_404(order_no)
    result = _charge(lambda card: services.pay_order(db.session, order, card))
    if result is None:
        return redirect(url_for("shop.order_detail", order_no=order.order_no))
    if result.action_client_secret:
        return _render_order(order, payments(), result.action_client_secret)
    if order.status == "paid":
        flash("お支払いが完了しました。ご注文ありがとうございます。", "success")
    return redirect(url_for("shop.order_detail", order_no=order.order_no))


@bp.route("/shop/orders/<order_no>/cancel", methods=["GET", "POST"], endpoint="order_cancel")
@refuse_while_acting("注文の取り消しが")
def order_cancel(order_no: str):
    """GET: what is cancelled; POST: cancel the unpaid order."""
    order = _order_or_404(order_no)
    back = redirect(url_for("shop.order_detail", order_no=order.order_no))
    if request.method == "GET":
        try:
            services.ensure_cancellable(order)
        except ShopError as error:
            flash(error.message, "error")
            return back
        return render_template("shop/order_cancel.html", order=order, form=ActionForm())
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "error")
        return back
    try:
        services.cancel_order(db.session, current_member(), order)
    except services.OrderPaidMeanwhile as error:
        db.commit()  # keep the payment that was found
        flash(error.message, "error")
    except ShopError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.commit()
        flash("ご注文を取り消しました。代金のご請求はありません。", "success")
    return back


@bp.post("/shop/orders/<order_no>/refresh", endpoint="order_refresh")
def order_refresh(order_no: str):
    order = _order_or_404(order_no)
    if ActionForm().validate_on_submit():
        try:
            services.refresh_order(db.session, order)
        except ShopError as error:
            flash(error.message, "error")
        db.commit()
        if order.status == "paid":
            flash("お支払いが完了しました。ご注文ありがとうございます。", "success")
    return redirect(url_for("shop.order_detail", order_no=order.order_no))


@bp.get("/shop/orders/<order_no>/receipt", endpoint="receipt")
def receipt(order_no: str):
    order = _order_or_404(order_no)
    if not order.has_receipt:
        abort(404)
    return render_template("shop/receipt.html", order=order, receipt=receipts.receipt_for(order, current_member()))


@bp.get("/shop/orders/<order_no>/receipt.pdf", endpoint="receipt_pdf")
def receipt_pdf(order_no: str):
    order = _order_or_404(order_no)
    if not order.has_receipt:
        abort(404)
    pdf = receipts.receipt_pdf(receipts.receipt_for(order, current_member()))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="receipt-{order.order_no}.pdf"'
    return response


@bp.get("/shop/subscriptions/<int:subscription_id>", endpoint="subscription")
def subscription(subscription_id: int):
    course = _subscription_or_404(subscription_id)
    return render_template("shop/subscription.html", course=course, pay_form=PaymentForm(),
                           action_form=ActionForm(), gateway=payments(),
                           next_delivery=services.next_delivery_date(course))


@bp.post("/shop/subscriptions/<int:subscription_id>/card-setup", endpoint="subscription_card_setup")
@refuse_while_acting("購入")
def subscription_card_setup(subscription_id: int):
    course = _subscription_or_404(subscription_id)
    try:
        secret = services.card_setup_for_subscription(db.session, current_member(), course)
    except ShopError as error:
        db.commit()
        return jsonify(error=error.message), 503
    db.commit()
    return jsonify(client_secret=secret)


@bp.post("/shop/subscriptions/<int:subscription_id>/start", endpoint="subscription_start")
@refuse_while_acting("購入")
def subscription_start(subscription_id: int):
    course = _subscription_or_404(subscription_id)
    if _charge(lambda card: services.start_subscription(db.session, current_member(), course, card)) is not None:
        flash("定期コースのお申し込みが完了しました。", "success")
    return redirect(url_for("shop.subscription", subscription_id=course.id))


def _confirmation(course, make_preview, template: str, make_form):
    """A page showing what a step that cannot be undone will do, or back to the course with the reason."""
    try:
        preview = make_preview()
    except ShopError as error:
        flash(error.message, "error")
        return redirect(url_for("shop.subscription", subscription_id=course.id))
    return render_template(template, course=course, preview=preview, form=make_form(preview))


@bp.route("/shop/subscriptions/<int:subscription_id>/skip", methods=["GET", "POST"], endpoint="subscription_skip")
@refuse_while_acting("定期コースの変更が")
def subscription_skip(subscription_id: int):
    """GET: what the skip changes; POST: skip the delivery that page showed."""
    course = _subscription_or_404(subscription_id)
    if request.method == "GET":
        return _confirmation(course, lambda: services.skip_preview(course), "shop/subscription_skip.html",
                             lambda preview: SkipForm(charge_on=preview.charge_on))
    form = SkipForm()
    if not form.validate_on_submit():
        flash(EXPIRED, "error")
        return redirect(url_for("shop.subscription", subscription_id=subscription_id))
    commit_or_flash(lambda: services.skip_next_delivery(db.session, current_member(), course, form.charge_on.data),
                    "次回のお届けをスキップしました。")
    return redirect(url_for("shop.subscription", subscription_id=subscription_id))


@bp.route("/shop/subscriptions/<int:subscription_id>/cancel", methods=["GET", "POST"],
          endpoint="subscription_cancel")
@refuse_while_acting("定期コースの変更が")
def subscription_cancel(subscription_id: int):
    """GET: what ends and what is still due; POST: cancel at the end of the paid period."""
    course = _subscription_or_404(subscription_id)
    if request.method == "GET":
        return _confirmation(course, lambda: services.cancel_preview(db.session, course),
                             "shop/subscription_cancel.html", lambda _preview: ActionForm())
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "error")
        return redirect(url_for("shop.subscription", subscription_id=subscription_id))
    commit_or_flash(lambda: services.cancel_subscription(db.session, current_member(), course),
                    "解約を受け付けました。お支払い済みの期間が終わると終了します。")
    return redirect(url_for("shop.subscription", subscription_id=subscription_id))


@bp.post("/stripe/webhook", endpoint="webhook")
@csrf.exempt
def webhook():
    """Stripe's events: the raw body is verified by signature (no CSRF, no session)."""
    payload = request.get_data(cache=False)
    try:
        event = payments().verify_webhook(payload, request.headers.get("Stripe-Signature"))
    except GatewayError as error:
        log.warning("stripe webhook refused: %s", error)
        return jsonify(error="invalid signature"), 400
    metrics.webhook_lag("stripe", event.get("created"))
    try:
        outcome = services.handle_event(db.session, event)
        db.commit()
    except GatewayError as error:
        db.session.rollback()
        log.warning("stripe webhook %s not handled, Stripe will retry: %s", event.get("id"), error)
        return jsonify(error="temporarily unavailable"), 503
    return jsonify(received=True, outcome=outcome)
