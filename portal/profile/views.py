"""/profile: address, phone, email, debit account and notice settings."""
from __future__ import annotations

from functools import wraps

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session,
                   url_for)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.auth import sessions
from portal.extensions import db, limiter
from portal.jp import bank as jpbank
from portal.jp.dates import first_debit_date, format_date_jp
from portal.jp.phone import mask_phone
from portal.clock import today
from portal.idempotency import new_form_token
from portal.profile import services
from portal.profile.forms import (STALE_FORM, AddressForm, BankAccountForm, BankConfirmForm, CodeForm,
                                  EmailConfirmForm, EmailForm, NotificationForm, PhoneForm, ReauthForm)
from portal.messaging import preferences
from portal.messaging.models import TOPICS
from portal.service_errors import show_on_form
from portal.users import acting_staff_id, current_member, is_acting, refuse_while_acting

bp = Blueprint("profile", __name__)

PHONE_STATE = "profile_phone_change"
STEP_UP_TARGETS = {"phone": "profile.phone", "bank": "profile.bank_account", "passkeys": "account.security"}


def _apply_errors(form, error: services.ProfileError) -> None:
    """Each message next to its field; anything without a field becomes a flash."""
    if not show_on_form(form, error):
        flash(error.message, "error")


def _idempotency_key(kind: str, form) -> str:
    return f"{kind}:{form.form_token.data}"


def _show_request(receipt_no: str):
    return redirect(url_for("procedures.show", receipt_no=receipt_no))


# ----------------------------------------------------------------- index

@bp.get("/profile", endpoint="index")
def index():
    member = current_member()
    return render_template(
        "profile/index.html", member=member,
        debit=services.current_debit_account(db.session, member),
        preferences=preferences.preferences_for(db.session, member),
        pending=services.pending_changes(db.session, member),
        masked_email=services.mask_email(member.email),
    )


# ----------------------------------------------------------------- address

def _render_address(form, member, properties, status: int = 200, lookup_note: str | None = None):
    return render_template("profile/address.html", form=form, member=member, properties=properties,
                           lookup_note=lookup_note), status


@bp.route("/profile/address", methods=["GET", "POST"], endpoint="address")
def address():
    """One page, four buttons: each `action` has its own helper below."""
    member = current_member()
    properties = services.property_contracts_at_home(db.session, member)
    form = AddressForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
        form.version.data = str(member.version)
        return _render_address(form, member, properties)
    action = ADDRESS_ACTIONS.get(request.form.get("action", "confirm"), _address_confirm)
    return action(form, member, properties)


def _address_lookup(form, member, properties):
    """The no-script path of the postal-code fill."""
    note = None
    try:
        found = services.lookup_home_postal(form.postal_code.data)
    except services.ProfileError as error:
        _apply_errors(form, error)
    else:
        form.postal_code.data = found.formatted_code
        form.prefecture.data, form.city.data = found.prefecture, found.city
        if not form.street.data:
            form.street.data = found.town
        towns = [found.town] + [a.town for a in found.alternatives if a.town]
        note = ("町名を確認し、番地まで入力してください。"
                + (f"この郵便番号の町名：{'、'.join(t for t in towns if t)}" if len(towns) > 1 else ""))
    return _render_address(form, member, properties, lookup_note=note)


def _address_edit(form, member, properties):
    return _render_address(form, member, properties)


def _checked_address(form, member, properties):
    """The address and the property's move from the form, or None with the errors on the form."""
    if not form.validate():
        return None
    try:
        new_address = services.normalize_address(services.AddressInput(
            form.postal_code.data, form.prefecture.data or "", form.city.data or "",
            form.street.data or "", form.building.data or None))
        move = {"yes": True, "no": False}.get(form.property_moved.data or "")
        if properties and move is None:
            raise services.ProfileError("住まいる共済の対象の建物・家財も移るかどうかを選んでください",
                                        field_name="property_moved")
        property_move = (services.check_property_move(form.moved_on.data, form.structure.data)
                         if properties and move else None)
    except services.ProfileError as error:
        _apply_errors(form, error)
        return None
    return new_address, move, property_move


def _address_confirm(form, member, properties):
    checked = _checked_address(form, member, properties)
    if checked is None:
        return _render_address(form, member, properties)
    new_address, move, property_move = checked
    return render_template(
        "profile/address_confirm.html", form=form, member=member, address=new_address,
        properties=properties, move=move, property_move=property_move, today=today(),
        effective=services.address_effective_date(today()),
        contract_count=services.active_contract_count(db.session, member),
    )


def _address_save(form, member, properties):
    checked = _checked_address(form, member, properties)
    if checked is None:
        return _render_address(form, member, properties)
    new_address, move, property_move = checked
    key = _idempotency_key("address", form)
    try:
        version = int(form.version.data or "")
    except ValueError:
        version = None
    try:
        result = services.change_address(
            db.session, member, new_address, expected_version=version, move_property=move,
            property_move=property_move, idempotency_key=key, staff_id=acting_staff_id())
        db.commit()
    except (services.ConcurrentEditError, StaleDataError, IntegrityError):
        db.session.rollback()
        db.session.expire_all()
        member = current_member()
        done = services.replayed_request(db.session, member, key)
        if done is not None:
            return _show_request(done.receipt_no)
        flash(services.MSG_CHANGED_ELSEWHERE, "error")
        form.version.data = str(member.version)
        form.form_token.data = new_form_token()
        return _render_address(form, member, services.property_contracts_at_home(db.session, member), 409)
    except services.ProfileError as error:
        db.session.rollback()
        _apply_errors(form, error)
        return _render_address(form, member, properties)
    if not result.replayed:
        flash(services.address_change_message(result), "success")
    return _show_request(result.request.receipt_no)


ADDRESS_ACTIONS = {"lookup": _address_lookup, "edit": _address_edit, "confirm": _address_confirm,
                   "save": _address_save}


@bp.app_template_global("pending_property_move_of")
def pending_property_move_of(contract):
    """A 住まいる共済 property's move still to come, for the contract page."""
    return services.pending_move_of(db.session, contract)


@bp.get("/profile/postal/<code>.json", endpoint="postal_json")
@limiter.limit("120 per minute")
def postal_json(code: str):
    try:
        return services.postal_suggestion(code)
    except services.ProfileError as error:
        return {"error": error.message}, 404


# ----------------------------------------------------------------- step-up

@bp.route("/profile/reauth", methods=["GET", "POST"], endpoint="reauth")
@limiter.limit("10 per hour", methods=["POST"])
@refuse_while_acting("本人確認")
def reauth():
    member = current_member()
    target = request.args.get("for", "phone")
    if target not in STEP_UP_TARGETS:
        abort(404)
    form = ReauthForm()
    if form.validate_on_submit():
        if services.check_password_again(member, form.password.data):
            sessions.mark_reauthenticated()
            db.commit()
            return redirect(url_for(STEP_UP_TARGETS[target]))
        form.password.errors.append("パスワードが正しくありません")
    from portal.account.passkeys import passkeys_of
    return render_template("profile/reauth.html", form=form, target=target,
                           next_url=url_for(STEP_UP_TARGETS[target]),
                           has_passkeys=bool(passkeys_of(db.session, member)))


def step_up_required(target: str):
    """The view runs only if the member proved themself ≤ 5 minutes ago; otherwise the
    page where they prove it again (passkey, code or password)."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if sessions.is_recently_reauthenticated(5):
                return view(*args, **kwargs)
            if request.method == "POST":
                flash("安全のため、もう一度ご本人の確認をお願いします（確認から5分を過ぎました）。", "info")
            return redirect(url_for("profile.reauth", **{"for": target}))
        return wrapped
    return decorate


# ----------------------------------------------------------------- phone

@bp.route("/profile/phone", methods=["GET", "POST"], endpoint="phone")
@refuse_while_acting("電話番号を変更")
@step_up_required("phone")
def phone():
    member = current_member()
    form = PhoneForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
    elif form.validate():
        try:
            challenge = services.send_phone_change_code(db.session, member, form.phone.data, form.channel.data,
                                                        ip=request.remote_addr)
        except services.ProfileError as error:
            _keep_counted_attempt(error)
            _apply_errors(form, error)
        else:
            db.commit()
            session[PHONE_STATE] = {"challenge_id": challenge.challenge_id, "phone": challenge.phone,
                                    "channel": form.channel.data, "token": form.form_token.data}
            return redirect(url_for("profile.phone_verify"))
    return render_template("profile/phone.html", form=form, member=member)


def _keep_counted_attempt(error: services.ProfileError) -> None:
    """Throttle counters and failed attempts stay written; anything else is undone."""
    if isinstance(error, services.AttemptCounted):
        db.commit()
    else:
        db.session.rollback()


@bp.route("/profile/phone/verify", methods=["GET", "POST"], endpoint="phone_verify")
@refuse_while_acting("電話番号を変更")
def phone_verify():
    member = current_member()
    state = session.get(PHONE_STATE)
    if not state:
        return redirect(url_for("profile.phone"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            request_row = services.confirm_phone_change(
                db.session, member, services.PhoneChallenge(state["challenge_id"], state["phone"]), form.code.data,
                idempotency_key=f"phone:{state['token']}")
        except services.PhoneChallengeMismatch:
            db.session.rollback()
            session.pop(PHONE_STATE, None)
            abort(400)
        except services.ProfileError as error:
            _keep_counted_attempt(error)
            _apply_errors(form, error)
        else:
            sessions.end_others_for_member(member.id, "phone_changed")
            sessions.mark_reauthenticated()
            sessions.rotate()
            session.pop(PHONE_STATE, None)
            db.commit()
            flash("電話番号を変更しました。ほかの端末のログインは終了しました。", "success")
            return _show_request(request_row.receipt_no)
    return render_template("profile/phone_verify.html", form=form, masked=mask_phone(state["phone"]),
                           channel=state["channel"])


# ----------------------------------------------------------------- email

@bp.route("/profile/email", methods=["GET", "POST"], endpoint="email")
@limiter.limit("10 per hour", methods=["POST"])
@refuse_while_acting("メールアドレスを変更")
def email():
    member = current_member()
    form = EmailForm()
    if form.validate_on_submit():
        try:
            sent_to = services.send_email_confirmation(
                member, form.email.data, secret_key=current_app.config["SECRET_KEY"],
                link_for=lambda token: url_for("profile.email_confirm", token=token, _external=True))
        except services.ProfileError as error:
            _apply_errors(form, error)
        else:
            db.commit()
            return render_template("profile/email_sent.html", sent_to=sent_to)
    return render_template("profile/email.html", form=form, member=member,
                           masked_email=services.mask_email(member.email))


@bp.route("/profile/email/confirm/<token>", methods=["GET", "POST"], endpoint="email_confirm")
def email_confirm(token: str):
    """Public: the link may be opened on a device where the member is not signed in."""
    secret = current_app.config["SECRET_KEY"]
    form = EmailConfirmForm()
    try:
        claim = services.read_email_token(db.session, secret, token)
    except services.ProfileError as error:
        return render_template("profile/email_confirm.html", error=error.message), 410
    if request.method == "POST" and form.validate_on_submit():
        try:
            done = services.confirm_email_change(db.session, secret, token)
            # As with phone and password changes, every other session of the member ends.
            sessions.end_others_for_member(done.member_id, "email_change")
            db.commit()
        except (services.ProfileError, StaleDataError) as error:
            db.session.rollback()
            return render_template("profile/email_confirm.html",
                                   error=getattr(error, "message", services.MSG_CHANGED_ELSEWHERE)), 409
        return render_template("profile/email_confirm.html", done=done,
                               new_email=services.mask_email(claim.new_email))
    return render_template("profile/email_confirm.html", form=form,
                           new_email=services.mask_email(claim.new_email))


# ----------------------------------------------------------------- debit account

def _bank_context(form: BankAccountForm) -> dict:
    """Server-side search (the no-script path of the progressive search)."""
    bank_query = (request.args.get("bank_q") or "").strip()
    branch_query = (request.args.get("branch_q") or "").strip()
    bank = None
    try:
        if form.bank_code.data:
            bank = jpbank.find_bank(form.bank_code.data)
    except Exception:
        bank = None
    banks = jpbank.search_banks(bank_query, limit=20) if bank_query else []
    branches = []
    if bank is not None and bank.code != jpbank.YUCHO_BANK_CODE and branch_query:
        branches = jpbank.search_branches(bank.code, branch_query, limit=30)
    branch = None
    if bank is not None and form.branch_code.data:
        try:
            branch = jpbank.find_branch(bank.code, form.branch_code.data)
        except Exception:
            branch = None
    return {
        "bank": bank, "branch": branch, "banks": banks, "branches": branches,
        "bank_query": bank_query, "branch_query": branch_query,
        "bank_label": services.bank_display_name(bank) if bank else None,
        "branch_label": services.branch_display_name(branch) if branch else None,
        "is_yucho": bank is not None and bank.code == jpbank.YUCHO_BANK_CODE,
        "bank_display": services.bank_display_name, "branch_display": services.branch_display_name,
        "first_debit": first_debit_date(today()),
    }


BANK_DRAFT = "profile_bank_change"
BANK_FIELDS = ("bank_code", "branch_code", "account_type", "account_number", "holder_name", "kigo", "bangou")


def _bank_input(draft: dict) -> services.BankAccountInput:
    return services.BankAccountInput(**{name: draft.get(name) for name in BANK_FIELDS})


def _render_bank_form(form, member, status: int = 200):
    return render_template("profile/bank_account.html", form=form, member=member,
                           current=services.current_debit_account(db.session, member), **_bank_context(form)), status


@bp.route("/profile/bank-account", methods=["GET", "POST"], endpoint="bank_account")
@refuse_while_acting("振替口座を変更")
@step_up_required("bank")
def bank_account():
    """The form; a valid one is kept in the session (never in the page) for the confirmation."""
    member = current_member()
    draft = session.get(BANK_DRAFT)
    if request.method == "GET" and draft and not request.args.get("bank"):
        form = BankAccountForm(data=draft)  # back from the confirmation: everything as typed
    else:
        form = BankAccountForm()
    if request.method == "GET":
        if not form.form_token.data:
            form.form_token.data = new_form_token()
            form.bank_code.data = request.args.get("bank", "")
            form.branch_code.data = request.args.get("branch", "")
        if not form.account_type.data:
            form.account_type.data = "1"
        return _render_bank_form(form, member)
    if not form.validate():
        return _render_bank_form(form, member)
    draft = {name: getattr(form, name).data for name in (*BANK_FIELDS, "form_token")}
    try:
        services.check_bank_change(db.session, member, _bank_input(draft))
    except services.ProfileError as error:
        _apply_errors(form, error)
        return _render_bank_form(form, member)
    session[BANK_DRAFT] = draft
    return redirect(url_for("profile.bank_account_confirm"))


@bp.get("/profile/bank-account/confirm", endpoint="bank_account_confirm")
@refuse_while_acting("振替口座を変更")
@step_up_required("bank")
def bank_account_confirm():
    member = current_member()
    draft = session.get(BANK_DRAFT)
    if not draft:
        return redirect(url_for("profile.bank_account"))
    try:
        checked = services.check_bank_change(db.session, member, _bank_input(draft))
    except services.ProfileError as error:
        flash(error.message, "error")
        return redirect(url_for("profile.bank_account"))
    return render_template("profile/bank_account_confirm.html", checked=checked, form=BankConfirmForm(
        form_token=draft["form_token"]), current=services.current_debit_account(db.session, member))


@bp.post("/profile/bank-account/confirm", endpoint="bank_account_submit")
@refuse_while_acting("振替口座を変更")
@step_up_required("bank")
def bank_account_submit():
    member = current_member()
    form = BankConfirmForm()
    if not form.validate():
        flash(STALE_FORM, "error")
        return redirect(url_for("profile.bank_account"))
    key = f"bank:{form.form_token.data}"
    draft = session.get(BANK_DRAFT)
    if not draft or draft.get("form_token") != form.form_token.data:
        done = services.replayed_request(db.session, member, key)  # the second click of a double click
        if done is not None:
            return _show_request(done.receipt_no)
        flash(STALE_FORM, "error")
        return redirect(url_for("profile.bank_account"))
    try:
        request_row = services.request_bank_change(db.session, member, _bank_input(draft), idempotency_key=key)
        db.commit()
    except services.ProfileError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("profile.bank_account"))
    session.pop(BANK_DRAFT, None)
    flash(f"振替口座の変更を受け付けました。{format_date_jp(request_row.effective_date)}の口座振替から新しい口座になる予定です。",
          "success")
    return _show_request(request_row.receipt_no)


@bp.get("/profile/banks.json", endpoint="banks_json")
@limiter.limit("120 per minute")
def banks_json():
    query = request.args.get("q", "")
    return {"banks": [{"code": b.code, "name": services.bank_display_name(b), "kana": b.kana}
                      for b in jpbank.search_banks(query, limit=20)]}


@bp.get("/profile/banks/<code>/branches.json", endpoint="branches_json")
@limiter.limit("120 per minute")
def branches_json(code: str):
    try:
        branches = jpbank.search_branches(code, request.args.get("q", ""), limit=30)
    except Exception:
        return {"error": "金融機関が見つかりません", "branches": []}, 404
    return {"branches": [{"code": b.code, "name": services.branch_display_name(b), "kana": b.kana}
                         for b in branches]}


# ----------------------------------------------------------------- notices

@bp.route("/profile/notifications", methods=["GET", "POST"], endpoint="notifications")
def notifications():
    member = current_member()
    form = NotificationForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
        for topic, choice in preferences.preferences_for(db.session, member).items():
            getattr(form, topic).data = choice
    elif form.validate():
        choices = {topic: getattr(form, topic).data for topic in TOPICS}
        try:
            request_row = services.save_preferences(db.session, member, choices,
                                                    idempotency_key=_idempotency_key("notice", form),
                                                    staff_id=acting_staff_id())
            db.commit()
        except services.ProfileError as error:
            db.session.rollback()
            _apply_errors(form, error)
        else:
            flash("お知らせの受け取り方法を変更しました。", "success")
            return _show_request(request_row.receipt_no)
    return render_template("profile/notifications.html", form=form, member=member,
                           legal_notices=services.LEGAL_NOTICES, is_acting=is_acting())
