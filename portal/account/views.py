"""/account/security: passkeys, password change, sessions and devices, sign-in history;
passkey sign-in on /login and the passkey / code step-up.

The passkey endpoints speak JSON to static/js/passkeys.js; every other action is
a plain form POST that works without script.
"""
from __future__ import annotations

from datetime import timedelta

from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request, session,
                   url_for)

from portal.account import passkeys, services
from portal.account.forms import (ActionForm, PasskeyNameForm, PasswordChangeForm, StaffPasskeyDeleteForm,
                                  StepUpCodeForm, StepUpSendForm)
from portal.auth import codes, devices, sessions
from portal.auth.history import signed_in
from portal.auth.codes import CodeError
from portal.auth.services import reauthenticated, sign_in_channel
from portal.extensions import db, limiter
from portal.jp.phone import mask_phone, parse_phone
from portal.members.models import Member
from portal.service_errors import commit_or_flash, show_on_form
from portal.users import current_member, current_staff, refuse_while_acting, staff_required

bp = Blueprint("account", __name__)

CEREMONY_KEY = "webauthn"
STEP_UP_KEY = "account_step_up"
STEP_UP_MINUTES = 5


def _rp() -> passkeys.RelyingParty:
    return passkeys.relying_party(current_app.config)


def _safe_local(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _keep_challenge(purpose: str, ceremony: passkeys.Ceremony) -> None:
    state = dict(session.get(CEREMONY_KEY) or {})
    state[purpose] = ceremony.challenge
    session[CEREMONY_KEY] = state


def _take_challenge(purpose: str) -> str | None:
    state = dict(session.get(CEREMONY_KEY) or {})
    challenge = state.pop(purpose, None)
    session[CEREMONY_KEY] = state
    return challenge


def _json_error(message: str, status: int = 400):
    return jsonify({"error": message}), status


def _start(purpose: str, make):
    """Options for the browser; the challenge stays in this browser's session too."""
    try:
        ceremony = make()
    except passkeys.PasskeyError as error:
        db.session.rollback()
        return _json_error(error.message)
    _keep_challenge(purpose, ceremony)
    db.commit()
    return current_app.response_class(ceremony.options_json, mimetype="application/json")


def _finish(purpose: str, verify):
    """(passkey row, request body, None) or (None, body, error response). The challenge is
    spent either way: a failed attempt commits its use."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None, {}, _json_error(passkeys.MSG_FAILED)
    try:
        row = verify(body.get("credential"), _take_challenge(purpose))
    except passkeys.PasskeyError as error:
        db.commit()
        return None, body, _json_error(error.message)
    return row, body, None


# --- the page ---------------------------------------------------------------------------
def _render(member: Member, *, password_form=None, name_form=None, status: int = 200):
    config = current_app.config
    current = sessions.current()
    return render_template(
        "account/security.html", member=member,
        passkeys=passkeys.passkeys_of(db.session, member),
        sessions_list=services.active_sessions(
            db.session, member.id, current_id=current.id if current else None,
            idle=timedelta(minutes=config["MEMBER_IDLE_MINUTES"]),
            absolute=timedelta(hours=config["MEMBER_ABSOLUTE_HOURS"])),
        devices_list=services.remembered_devices(db.session, member.id, devices.token_from_request()),
        history=services.history(db.session, member.id),
        password_form=password_form or PasswordChangeForm(formdata=None),
        name_form=name_form or PasskeyNameForm(formdata=None),
        action_form=ActionForm(formdata=None),
        when=services.when_text, device_label=services.device_label, method_labels=services.METHOD_LABELS,
        can_remove=sessions.is_recently_reauthenticated(STEP_UP_MINUTES),
    ), status


@bp.get("/account/security", endpoint="security")
@refuse_while_acting("セキュリティ設定を表示")
def security():
    return _render(current_member())


# --- password -----------------------------------------------------------------------------
@bp.post("/account/password", endpoint="password")
@limiter.limit("10 per hour")
@refuse_while_acting("パスワードを変更")
def password():
    member = current_member()
    form = PasswordChangeForm()
    if not form.validate():
        return _render(member, password_form=form, status=400)
    try:
        services.change_password(db.session, member, form.current_password.data, form.new_password.data,
                                 form.confirm.data)
    except services.AccountError as error:
        db.session.rollback()
        show_on_form(form, error, default="new_password")
        return _render(member, password_form=form, status=400)
    sessions.end_others_for_member(member.id, "password_change")
    sessions.mark_reauthenticated()
    sessions.rotate()
    db.commit()
    flash("パスワードを変更しました。ほかの端末のログインはすべて終了しました。", "success")
    return redirect(url_for("account.security"))


# --- sessions and devices ----------------------------------------------------------------
def _current_id() -> int | None:
    row = sessions.current()
    return row.id if row else None


@bp.post("/account/sessions/<int:session_id>/end", endpoint="end_session")
@refuse_while_acting("ログインを終了")
def end_session(session_id: int):
    member = current_member()
    if ActionForm().validate():
        commit_or_flash(lambda: services.end_session(db.session, member.id, session_id, current_id=_current_id()),
                        "その端末のログインを終了しました。")
    return redirect(url_for("account.security") + "#sessions")


@bp.post("/account/sessions/end-others", endpoint="end_others")
@refuse_while_acting("ログインを終了")
def end_others():
    member = current_member()
    if ActionForm().validate():
        count = services.end_other_sessions(db.session, member.id, current_id=_current_id())
        db.commit()
        flash(f"ほかの端末のログインを終了しました（{count}件）。" if count else "ほかにログイン中の端末はありません。",
              "success")
    return redirect(url_for("account.security") + "#sessions")


@bp.post("/account/devices/<int:device_id>/forget", endpoint="forget_device")
@refuse_while_acting("端末の登録を解除")
def forget_device(device_id: int):
    member = current_member()
    if ActionForm().validate():
        commit_or_flash(lambda: services.forget_device(db.session, member.id, device_id),
                        "端末の登録を解除しました。次にその端末でログインするときは認証コードが必要です。")
    return redirect(url_for("account.security") + "#devices")


# --- passkeys: register and remove -------------------------------------------------------
@bp.post("/account/passkeys/options", endpoint="passkey_options")
@limiter.limit("30 per hour")
@refuse_while_acting("パスキーを登録")
def passkey_options():
    member = current_member()
    return _start("register", lambda: passkeys.registration_options(
        db.session, _rp(), member, user_name=member.login_id or member.member_no, display_name=member.name))


def _register(owner, message: str, redirect_to: str):
    row, body, error = _finish("register", lambda credential, challenge: passkeys.finish_registration(
        db.session, _rp(), owner, credential_json=credential, challenge=challenge,
        name=str(request.get_json(silent=True).get("name") or "")[:200], user_agent=request.user_agent.string))
    if error is not None:
        return error
    db.commit()
    flash(message.format(name=row.name), "success")
    return jsonify({"redirect": redirect_to})


@bp.post("/account/passkeys", endpoint="passkey_register")
@limiter.limit("30 per hour")
@refuse_while_acting("パスキーを登録")
def passkey_register():
    return _register(current_member(), "パスキー「{name}」を登録しました。次回からこの端末の指紋・顔認証などでログインできます。",
                     url_for("account.security"))


def _remove(owner, passkey_id: int, message: str) -> None:
    """Remove the owner's passkey and say so (or why not) on the next page."""
    try:
        row = passkeys.remove(db.session, owner, passkey_id)
    except passkeys.PasskeyError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.commit()
        flash(message.format(name=row.name), "success")


@bp.post("/account/passkeys/<int:passkey_id>/delete", endpoint="passkey_delete")
@refuse_while_acting("パスキーを削除")
def passkey_delete(passkey_id: int):
    member = current_member()
    if not ActionForm().validate():
        return redirect(url_for("account.security"))
    if not sessions.is_recently_reauthenticated(STEP_UP_MINUTES):
        flash("パスキーを削除するには、先に本人確認をしてください（5分以内の確認が必要です）。", "info")
        return redirect(url_for("profile.reauth", **{"for": "passkeys"}))
    _remove(member, passkey_id, "パスキー「{name}」を削除しました。このパスキーではログインできなくなりました。")
    return redirect(url_for("account.security") + "#passkeys")


# --- passkey sign-in (public) ------------------------------------------------------------
@bp.post("/login/passkey/options", endpoint="login_options")
@limiter.limit("120 per hour")
def login_options():
    return _start("login", lambda: passkeys.authentication_options(db.session, _rp(), "login"))


def _active_member(row: passkeys.Passkey) -> Member:
    member = db.session.get(Member, row.member_id) if row.member_id else None
    if member is None or not member.is_active_member:
        raise passkeys.PasskeyError(passkeys.MSG_FAILED)
    return member


@bp.post("/login/passkey", endpoint="login_passkey")
@limiter.limit("30 per hour")
def login_passkey():
    row, _, error = _finish("login", lambda credential, challenge: passkeys.finish_authentication(
        db.session, _rp(), credential_json=credential, challenge=challenge, purpose="login",
        ip=request.remote_addr, user_agent=request.user_agent.string))
    if error is not None:
        return error
    try:
        member = _active_member(row)
    except passkeys.PasskeyError as refused:
        db.commit()
        return _json_error(refused.message)
    target = _safe_local(session.get("next"), url_for("mypage.home"))
    sessions.begin(member)
    signed_in(db.session, member, "passkey", ip=request.remote_addr, user_agent=request.user_agent.string,
              detail={"passkey_id": row.id})
    # A passkey with user verification proves this device: later password sign-ins here skip the code.
    token = devices.remember(db.session, member.id, devices.token_from_request(), request.user_agent.string)
    db.commit()
    return devices.set_cookie(jsonify({"redirect": target}), token)


# --- step-up: passkey or a fresh code (the password form is on /profile/reauth) ----------
@bp.post("/account/reauth/passkey/options", endpoint="reauth_options")
@limiter.limit("30 per hour")
@refuse_while_acting("本人確認")
def reauth_options():
    member = current_member()
    return _start("step_up", lambda: passkeys.authentication_options(db.session, _rp(), "step_up", owner=member))


@bp.post("/account/reauth/passkey", endpoint="reauth_passkey")
@limiter.limit("30 per hour")
@refuse_while_acting("本人確認")
def reauth_passkey():
    member = current_member()
    row, body, error = _finish("step_up", lambda credential, challenge: passkeys.finish_authentication(
        db.session, _rp(), credential_json=credential, challenge=challenge, purpose="step_up", owner=member))
    if error is not None:
        return error
    reauthenticated(member, "passkey", passkey_id=row.id)
    db.commit()
    return jsonify({"redirect": _safe_local(body.get("next"), url_for("account.security"))})


@bp.post("/account/reauth/code/send", endpoint="reauth_send")
@limiter.limit("10 per hour")
@refuse_while_acting("本人確認")
def reauth_send():
    member = current_member()
    form = StepUpSendForm()
    target = _safe_local(request.form.get("next"), url_for("account.security"))
    channel = form.channel.data if form.validate() else sign_in_channel(member)
    if channel == "sms" and not parse_phone(member.phone).can_receive_sms:
        channel = "voice"
    try:
        challenge = (codes.just_sent(db.session, purpose="reauth", phone=member.phone, channel=channel,
                                     member_id=member.id)
                     or codes.send_code(db.session, purpose="reauth", phone=member.phone, channel=channel,
                                        member_id=member.id, ip=request.remote_addr))
    except CodeError as error:
        db.commit()  # keep the throttle counters
        flash(error.message, "error")
        return redirect(request.referrer or target)
    session[STEP_UP_KEY] = {"cid": challenge.id, "next": target}
    db.commit()
    return redirect(url_for("account.reauth_code"))


@bp.route("/account/reauth/code", methods=["GET", "POST"], endpoint="reauth_code")
@limiter.limit("20 per hour", methods=["POST"])
@refuse_while_acting("本人確認")
def reauth_code():
    member = current_member()
    state = session.get(STEP_UP_KEY) or {}
    challenge = codes.active_challenge(db.session, state.get("cid"), "reauth")
    if challenge is None or challenge.member_id != member.id:
        session.pop(STEP_UP_KEY, None)
        flash("お手数ですが、もう一度認証コードを送信してください。", "info")
        return redirect(url_for("profile.reauth", **{"for": "passkeys"}))
    form = StepUpCodeForm()
    if form.validate_on_submit():
        try:
            codes.verify_code(db.session, challenge.id, form.code.data, purpose="reauth")
        except CodeError as error:
            db.commit()  # the wrong entry counts
            form.code.errors.append(error.message)
        else:
            reauthenticated(member, "code", channel=challenge.channel)
            session.pop(STEP_UP_KEY, None)
            db.commit()
            return redirect(_safe_local(state.get("next"), url_for("account.security")))
    phone = parse_phone(challenge.phone)
    return render_template("account/reauth_code.html", form=form, masked=mask_phone(challenge.phone),
                           channel=challenge.channel, can_voice=phone.can_receive_voice, can_sms=phone.can_receive_sms,
                           next_url=_safe_local(state.get("next"), url_for("account.security")))


# --- staff: passkeys as the second factor instead of TOTP --------------------------------
staff_bp = Blueprint("staff_account", __name__)


def _staff():
    return current_staff()


def _delete_form(passkey_id: int, formdata=None) -> StaffPasskeyDeleteForm:
    # One form per passkey on the page, each with its own field ids.
    kwargs = {} if formdata else {"formdata": None}
    return StaffPasskeyDeleteForm(prefix=f"key{passkey_id}", **kwargs)


def _staff_page(errored: tuple[int, StaffPasskeyDeleteForm] | None = None, status: int = 200):
    staff = _staff()
    keys = passkeys.passkeys_of(db.session, staff)
    forms = {key.id: _delete_form(key.id) for key in keys}
    if errored is not None:
        forms[errored[0]] = errored[1]
    return render_template("account/staff_passkeys.html", staff=staff, passkeys=keys, delete_forms=forms,
                           when=services.when_text, name_form=PasskeyNameForm(formdata=None)), status


@staff_bp.get("/staff/passkeys", endpoint="passkeys")
@staff_required()
def staff_passkeys():
    return _staff_page()


@staff_bp.post("/staff/passkeys/options", endpoint="passkey_options")
@limiter.limit("30 per hour")
@staff_required()
def staff_passkey_options():
    staff = _staff()
    return _start("register", lambda: passkeys.registration_options(db.session, _rp(), staff, user_name=staff.email,
                                                                     display_name=staff.name))


@staff_bp.post("/staff/passkeys", endpoint="passkey_register")
@limiter.limit("30 per hour")
@staff_required()
def staff_passkey_register():
    return _register(_staff(), "パスキー「{name}」を登録しました。次回から確認コードの代わりに使えます。",
                     url_for("staff_account.passkeys"))


@staff_bp.post("/staff/passkeys/<int:passkey_id>/delete", endpoint="passkey_delete")
@limiter.limit("20 per hour")
@staff_required()
def staff_passkey_delete(passkey_id: int):
    from portal.auth.passwords import verify_password

    staff = _staff()
    form = _delete_form(passkey_id, formdata=True)
    if not form.validate():
        return _staff_page((passkey_id, form), 400)
    if not verify_password(staff.password_hash, form.password.data):
        form.password.errors.append("パスワードが正しくありません")
        return _staff_page((passkey_id, form), 400)
    _remove(staff, passkey_id, "パスキー「{name}」を削除しました。")
    return redirect(url_for("staff_account.passkeys"))
