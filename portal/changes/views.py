"""Contract changes: 解約, クーリング・オフ, 脱退, 受取人, 指定代理請求人, 氏名変更.

Every one goes form → confirmation page (what happens, and the money) → receipt.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from portal.changes import cover_end, services
from portal.changes.forms import (BeneficiaryForm, CancellationForm, CoolingOffForm, NameChangeForm,
                                  ProxyClaimantForm, SimpleConfirmForm)
from portal.clock import today
from portal.contracts.catalogue import PRODUCTS
from portal.contracts.services import get_contract_or_404
from portal.extensions import db
from portal.idempotency import new_form_token
from portal.service_errors import show_on_form
from portal.users import acting_staff_id, current_member, refuse_while_acting

bp = Blueprint("changes", __name__)
NAME_DOCUMENT = "name_change_document"


def _apply(form, error: services.ChangeError) -> None:
    if not show_on_form(form, error):
        flash(error.message, "error")


def _key(kind: str, form) -> str:
    return f"{kind}:{form.form_token.data}"


def _receipt(request_row, kind_message: str) -> object:
    db.commit()
    flash(f"{kind_message}受付番号は {request_row.receipt_no} です。", "success")
    return redirect(url_for("procedures.show", receipt_no=request_row.receipt_no))


def _step() -> str:
    return request.form.get("action", "confirm") if request.method == "POST" else "edit"


# ----------------------------------------------------------------- 解約

@bp.route("/contracts/<contract_no>/cancel", methods=["GET", "POST"], endpoint="cancel")
def cancel(contract_no: str):
    member = current_member()
    contract = get_contract_or_404(db.session, member, contract_no)
    form = CancellationForm()
    on = today()
    step = _step()
    if step == "edit" and request.method == "GET":
        form.form_token.data = new_form_token()
    page = dict(contract=contract, form=form, on=on, can_cancel=services.can_cancel(contract, on),
                year_end=services.contract_year_end(contract, on) if contract.premium_period == "yearly" else None)
    if step == "edit" or not form.validate():
        return render_template("changes/cancel.html", **page)
    try:
        quote = services.cancellation_quote(contract, on, form.end_date.data)
        if step != "save":
            return render_template("changes/cancel_confirm.html", quote=quote, **page)
        row = services.request_cancellation(db.session, member, contract, on, requested_end=form.end_date.data,
                                            reason=form.reason.data or "", idempotency_key=_key("cancel", form),
                                            staff_id=acting_staff_id())
    except services.ChangeError as error:
        _apply(form, error)
        return render_template("changes/cancel.html", **page)
    return _receipt(row, "解約のお申し出を受け付けました。")


# ----------------------------------------------------------------- クーリング・オフ

@bp.route("/changes/cooling-off", methods=["GET", "POST"], endpoint="cooling_off")
def cooling_off():
    member = current_member()
    on = today()
    form = CoolingOffForm()
    candidates = services.cooling_off_applications(db.session, member, on)
    form.application.choices = [(a.id, a.product_code) for a, _ in candidates]
    step = _step()
    if request.method == "GET":
        form.form_token.data = new_form_token()
    page = dict(form=form, candidates=candidates, on=on, names={p.code: p.name for p in PRODUCTS})
    if step == "edit" or not form.validate():
        return render_template("changes/cooling_off.html", **page)
    try:
        quote = services.cooling_off_quote(db.session, member, form.application.data, on)
        if step != "save":
            return render_template("changes/cooling_off_confirm.html", quote=quote, **page)
        row = services.request_cooling_off(db.session, member, form.application.data, on,
                                           idempotency_key=_key("cooling_off", form), staff_id=acting_staff_id())
    except services.ChangeError as error:
        _apply(form, error)
        return render_template("changes/cooling_off.html", **page)
    return _receipt(row, "クーリング・オフのお申し出を受け付けました。")


# ----------------------------------------------------------------- 脱退

@bp.route("/changes/withdrawal", methods=["GET", "POST"], endpoint="withdrawal")
def withdrawal():
    member = current_member()
    on = today()
    form = SimpleConfirmForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
    try:
        quote = services.withdrawal_quote(db.session, member, on)
    except services.ChangeError as error:
        return render_template("changes/withdrawal.html", form=form, quote=None, refusal=error.message,
                               contracts=services.contracts_in_force(db.session, member, on))
    step = _step()
    if step != "save" or not form.validate():
        template = "changes/withdrawal_confirm.html" if step == "confirm" else "changes/withdrawal.html"
        return render_template(template, form=form, quote=quote, refusal=None, contracts=[])
    try:
        row = services.request_withdrawal(db.session, member, on, idempotency_key=_key("withdrawal", form),
                                          staff_id=acting_staff_id())
    except services.ChangeError as error:
        flash(error.message, "error")
        return render_template("changes/withdrawal.html", form=form, quote=quote, refusal=None, contracts=[])
    return _receipt(row, "脱退のお申し出を受け付けました。")


# ----------------------------------------------------------------- 受取人

@bp.route("/contracts/<contract_no>/beneficiary", methods=["GET", "POST"], endpoint="beneficiary")
def beneficiary(contract_no: str):
    member = current_member()
    contract = get_contract_or_404(db.session, member, contract_no)
    form = BeneficiaryForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
    page = dict(contract=contract, form=form, has_death_benefit=services.has_death_benefit(contract),
                current=services.current_beneficiary(db.session, contract),
                pending=services.pending_beneficiary(db.session, contract),
                default_order=services.DEFAULT_BENEFICIARY_ORDER)
    step = _step()
    if step == "edit" or not form.validate():
        return render_template("changes/beneficiary.html", **page)
    data = services.PersonInput(form.name.data, form.name_kana.data, form.relation.data)
    try:
        person = services.check_beneficiary(db.session, contract, data)
        if step != "save":  # the confirmation is the insured person's own consent step
            return render_template("changes/beneficiary_consent.html", person=person, **page)
        row = services.request_beneficiary_change(
            db.session, member, contract, data, consent_name=form.consent_name.data or "",
            consented=bool(form.consent.data), idempotency_key=_key("beneficiary", form),
            staff_id=acting_staff_id())
    except services.ChangeError as error:
        _apply(form, error)
        if error.field in ("consent", "consent_name"):
            return render_template("changes/beneficiary_consent.html", person=data, **page)
        return render_template("changes/beneficiary.html", **page)
    return _receipt(row, "受取人変更のお申し出を受け付けました。")


# ----------------------------------------------------------------- 指定代理請求人

@bp.route("/changes/proxy-claimant", methods=["GET", "POST"], endpoint="proxy_claimant")
def proxy_claimant():
    member = current_member()
    on = today()
    form = ProxyClaimantForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
    page = dict(form=form, current=services.current_proxy(db.session, member))
    step = _step()
    if step == "edit" or not form.validate():
        return render_template("changes/proxy.html", **page)
    data = services.PersonInput(form.name.data, form.name_kana.data, form.relation.data)
    try:
        if step != "save":
            person = services.clean_person(data, services.PROXY_RELATIONS)
            return render_template("changes/proxy_confirm.html", person=person, **page)
        row = services.request_proxy_claimant(
            db.session, member, data, birth_date=form.birth_date.data, phone=form.phone.data,
            lives_with_member=bool(form.lives_with_member.data), on=on,
            idempotency_key=_key("proxy", form), staff_id=acting_staff_id())
    except services.ChangeError as error:
        _apply(form, error)
        return render_template("changes/proxy.html", **page)
    return _receipt(row, "指定代理請求人の指定を受け付けました。")


# ----------------------------------------------------------------- 氏名変更

@bp.route("/changes/name", methods=["GET", "POST"], endpoint="name")
@refuse_while_acting("本人確認書類を提出")
def name():
    member = current_member()
    form = NameChangeForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
        session.pop(NAME_DOCUMENT, None)
    step = _step()
    if step == "edit" or not form.validate():
        return render_template("changes/name.html", form=form, member=member)
    upload = request.files.get(form.document.name)
    try:
        if step != "save":
            person = services.check_new_name(member, form.new_name.data, form.new_name_kana.data, form.reason.data)
            # Checked and kept privately now; the session remembers which file this form sent.
            key, content_type = services.store_document(upload.read() if upload else b"")
            session[NAME_DOCUMENT] = {"token": form.form_token.data, "key": key, "content_type": content_type}
            return render_template("changes/name_confirm.html", form=form, member=member, person=person,
                                   content_type=content_type)
        kept = session.get(NAME_DOCUMENT) or {}
        if kept.get("token") != form.form_token.data:
            kept = {}
        row = services.request_name_change(
            db.session, member, new_name=form.new_name.data, new_name_kana=form.new_name_kana.data,
            reason=form.reason.data, document_key=kept.get("key"), content_type=kept.get("content_type"),
            idempotency_key=_key("name", form), staff_id=acting_staff_id())
    except services.ChangeError as error:
        _apply(form, error)
        return render_template("changes/name.html", form=form, member=member)
    session.pop(NAME_DOCUMENT, None)
    return _receipt(row, "氏名変更のお申し出を受け付けました。書類を確認してから変更します。")


@bp.app_template_global("cover_end")
def cover_end_global(contract):
    return cover_end.cover_end(contract)


@bp.app_template_global("last_covered_day")
def last_covered_day_global(contract):
    """A contract's end_date is the first day without cover; members are shown the
    last day with cover, as on the cancellation's confirmation page."""
    return contract.end_date - timedelta(days=1) if contract.end_date else None


@bp.app_template_global("beneficiary_of")
def beneficiary_of_global(contract):
    """The named death-benefit beneficiary in effect, for the contract page."""
    return services.current_beneficiary(db.session, contract)


@bp.app_template_global("proxy_claimant_of")
def proxy_claimant_of_global(member_id: int):
    return services.current_proxy_of(db.session, member_id)
