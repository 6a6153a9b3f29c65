"""/enroll: one page per step, answers kept in the session, a back link on each.

Steps: plan → declaration (告知) → important matters → payment → confirm.
"""
from __future__ import annotations


from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask import request as flask_request

from portal.enrollment import services
from portal.enrollment.forms import ConfirmForm, DeclarationForm, MattersForm, PaymentForm, PlanForm
from portal.extensions import db
from portal.idempotency import new_form_token
from portal.procedures.models import ProcedureRequest
from portal.users import current_member, refuse_while_acting

bp = Blueprint("enrollment", __name__)
# Staff decide applications in the office work queue (portal/enrollment/office.py).

STEPS = ("プラン", "告知", "重要事項", "お支払い", "確認")
WIZARD = "enroll"


def _state() -> dict:
    return session.setdefault(WIZARD, {})


def _save(**values) -> None:
    state = dict(_state())
    state.update(values)
    session[WIZARD] = state


def _option_or_restart(member):
    try:
        return services.find_option(db.session, member, _state().get("plan"))
    except services.EnrollmentError as error:
        flash(error.message, "error")
        return None


def _step_reached(*done: str):
    """(member, the chosen plan) when the steps `done` are behind; the plan is None when
    they are not (or the plan is no longer open), and the wizard starts again."""
    member = current_member()
    option = _option_or_restart(member)
    if option is None or not all(_state().get(step) for step in done):
        return member, None
    return member, option


@bp.route("/enroll", methods=["GET", "POST"], endpoint="index")
def plan():
    member = current_member()
    options = services.plan_options(db.session, member)
    form = PlanForm(plan=_state().get("plan"))
    form.plan.choices = [(o.key, o.key) for o in options if o.available]
    if form.validate_on_submit():
        _save(plan=form.plan.data, declared=False, confirmed=False, paid=False)
        return redirect(url_for("enrollment.declaration"))
    return render_template("enrollment/plan.html", form=form, options=options, step=1, steps=STEPS)


@bp.route("/enroll/declaration", methods=["GET", "POST"])
def declaration():
    member, option = _step_reached()
    if option is None:
        return redirect(url_for("enrollment.index"))
    answers = _state().get("answers", {})
    form = DeclarationForm(data=answers)
    asked = services.declaration_questions_for(option.insured)
    for name in [n for n in form._fields if n.startswith("q") and int(n[1:]) not in asked]:
        delattr(form, name)  # e.g. no pregnancy question about a man or a boy
    if form.validate_on_submit():
        given = {name: field.data for name, field in form._fields.items() if name.startswith("q")}
        if "yes" in given.values():
            # Nothing of the answers is kept: only that the online route was declined.
            services.record_declined_online(db.session, member, option.product_code)
            session.pop(WIZARD, None)
            db.commit()
            return redirect(url_for("enrollment.stopped"))
        _save(declared=True, answers=given)
        return redirect(url_for("enrollment.matters"))
    return render_template("enrollment/declaration.html", form=form, option=option, step=2, steps=STEPS)


@bp.get("/enroll/stopped")
def stopped():
    return render_template("enrollment/stopped.html")


@bp.route("/enroll/matters", methods=["GET", "POST"])
def matters():
    _, option = _step_reached("declared")
    if option is None:
        return redirect(url_for("enrollment.index"))
    form = MattersForm(confirmed=_state().get("confirmed", False))
    if form.validate_on_submit():
        _save(confirmed=True)
        return redirect(url_for("enrollment.payment"))
    return render_template("enrollment/matters.html", form=form, option=option, step=3, steps=STEPS)


@bp.route("/enroll/payment", methods=["GET", "POST"])
def payment():
    member, option = _step_reached("confirmed")
    if option is None:
        return redirect(url_for("enrollment.index"))
    form = PaymentForm(method=_state().get("method"))
    form.method.choices = services.payment_choices(db.session, member)
    if form.validate_on_submit():
        _save(paid=True, method=form.method.data)
        return redirect(url_for("enrollment.confirm"))
    return render_template("enrollment/payment.html", form=form, option=option, step=4, steps=STEPS,
                           account=services.current_debit_account(db.session, member),
                           pending_account=services.pending_debit_account(db.session, member))


@bp.route("/enroll/confirm", methods=["GET", "POST"])
@refuse_while_acting("加入を申し込み")
def confirm():
    member = current_member()
    # The wizard's state ends with the first submission: a resent form finds its application by the token.
    resent = ConfirmForm() if flask_request.method == "POST" else None
    if resent is not None and resent.validate():
        sent = services.submitted(db.session, member, resent.idempotency_key.data)
        if sent is not None:
            return redirect(url_for("enrollment.done", receipt_no=sent.receipt_no))
    _, option = _step_reached("declared", "confirmed", "paid")
    state = _state()
    if option is None:
        return redirect(url_for("enrollment.index"))
    if "token" not in state:
        _save(token=new_form_token())
    form = ConfirmForm(idempotency_key=_state()["token"])
    if form.validate_on_submit():
        try:
            request = services.submit(db.session, member, option.key, idempotency_key=form.idempotency_key.data,
                                      payment_method=state.get("method", "debit"), answers=state.get("answers"))
        except services.EnrollmentError as error:
            flash(error.message, "error")
            return redirect(url_for("enrollment.index"))
        session.pop(WIZARD, None)
        db.commit()
        return redirect(url_for("enrollment.done", receipt_no=request.receipt_no))
    method = state.get("method", "debit")
    account = services.debit_account_for(db.session, member) if method == "debit" else None
    return render_template("enrollment/confirm.html", form=form, option=option, account=account, step=5,
                           steps=STEPS, method=method)


@bp.get("/enroll/done/<receipt_no>")
def done(receipt_no: str):
    member = current_member()
    request = db.session.query(ProcedureRequest).filter_by(receipt_no=receipt_no, kind="enrollment",
                                                           member_id=member.id).one_or_none()
    if request is None:
        abort(404)
    return render_template("enrollment/done.html", procedure=request)
