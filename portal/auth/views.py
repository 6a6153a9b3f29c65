"""Sign-in, signup (3 steps), codes for new devices, password reset, logout.

Each flow keeps only the id of its current code challenge in the (signed) Flask
session under `flow_<name>`; whether a member matched stays on the server, so the
cookie tells nothing either.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)

from portal.auth import codes, devices, history, sessions
from portal.auth.codes import CodeError
from portal.auth.forms import CodeForm, CredentialsForm, IdentityForm, LoginForm, PasswordForm
from portal.auth.models import CodeChallenge
from portal.auth.history import signed_in
from portal.auth.services import (AuthError, authenticate, complete_signup, finish_login_code, new_device_notice,
                                  reset_password, resend, start_code_flow, start_login_code, verified_member)
from portal.auth.throttle import SignInDelayed
from portal.extensions import db, limiter
from portal.jp.phone import mask_phone
from portal.service_errors import show_on_form

bp = Blueprint("auth", __name__)


@dataclass(frozen=True)
class Flow:
    name: str
    purpose: str
    start: str
    code: str
    title: str


FLOWS = {
    "signup": Flow("signup", "signup", "auth.signup", "auth.signup_code", "新規登録"),
    "login": Flow("login", "login", "auth.login", "auth.login_code", "ログイン"),
    "reset": Flow("reset", "reset", "auth.password_reset", "auth.password_reset_code", "パスワードの再設定"),
}


def _safe_next(target: str | None) -> str:
    # "/\\host" is "//host" to a browser: an open redirect, refused like "//host".
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("mypage.home")


def _ip() -> str | None:
    return request.remote_addr


def _state(flow: Flow) -> dict:
    return dict(session.get(f"flow_{flow.name}") or {})


def _save_state(flow: Flow, **values) -> None:
    session[f"flow_{flow.name}"] = values


def _with_status(body: str, error: CodeError | None = None):
    """429 with Retry-After for throttles and lockout, so the page says when to retry."""
    if error is not None and error.kind in ("throttled", "locked"):
        response = make_response(body, 429)
        response.headers["Retry-After"] = str(error.retry_after_seconds or 60)
        return response
    return body


def _code_page(flow: Flow, challenge: CodeChallenge, form: CodeForm, error: CodeError | None = None):
    body = render_template(
        "auth/code.html", flow=flow, form=form, masked=mask_phone(challenge.phone), channel=challenge.channel,
        wait=codes.seconds_until_resend(challenge), error=error.message if error else None,
        action=url_for(flow.code))
    return _with_status(body, error)


def _handle_code_page(flow: Flow):
    """GET shows the code page; POST verifies. Returns (response, accepted challenge or None)."""
    state = _state(flow)
    challenge = codes.active_challenge(db.session, state.get("cid"), flow.purpose)
    if challenge is None or state.get("verified"):
        flash("お手数ですが、最初からやり直してください。", "info")
        return redirect(url_for(flow.start)), None
    form = CodeForm()
    if form.validate_on_submit():
        try:
            if flow.name == "login":
                accepted = finish_login_code(db.session, challenge.id, form.code.data)
            else:
                accepted = codes.verify_code(db.session, challenge.id, form.code.data, purpose=flow.purpose)
        except CodeError as error:
            if flow.name == "login" and challenge.member_id:
                history.record_sign_in(db.session, challenge.member_id, "code", success=False, new_device=True,
                                       ip=_ip(), user_agent=request.user_agent.string)
            db.commit()  # the wrong entry counts, even though the answer is an error
            form.code.errors.append(error.message)
            return _code_page(flow, challenge, form, error if error.kind == "locked" else None), None
        return None, accepted
    return _code_page(flow, challenge, form), None


def _identity_step(flow: Flow, template: str):
    form = IdentityForm()
    if form.validate_on_submit():
        try:
            challenge = start_code_flow(db.session, purpose=flow.purpose, identifier=form.identifier.data,
                                        birth_date=form.birth_date.data, phone=form.phone.data,
                                        channel=form.channel.data, ip=_ip())
        except CodeError as error:
            db.session.rollback()
            if error.kind in ("gateway", "channel"):
                form.channel.errors.append(error.message)
            return _with_status(render_template(template, form=form, error=error.message), error)
        _save_state(flow, cid=challenge.id)
        db.commit()
        return redirect(url_for(flow.code))
    return render_template(template, form=form, error=None)


# --- signup ----------------------------------------------------------------------
# Step 1 needs no Flask-Limiter rule of its own: every answer, real or neutral, passes the
# send limits kept in the database (codes.check_send_allowed), which hold across workers.
@bp.route("/signup", methods=["GET", "POST"], endpoint="signup")
def signup():
    return _identity_step(FLOWS["signup"], "auth/signup.html")


def _code_step(flow: Flow, next_endpoint: str):
    """A flow's code page: once the code is right, the flow is verified and goes on."""
    response, accepted = _handle_code_page(flow)
    if response is not None:
        return response
    _save_state(flow, cid=accepted.id, verified=True)
    db.commit()
    return redirect(url_for(next_endpoint))


def _after_the_code(name: str):
    """The view runs once its flow's code was right, as view(state, member); before that,
    or when the member can no longer go on, the flow starts again."""
    flow = FLOWS[name]

    def decorate(view):
        @wraps(view)
        def wrapped():
            state = _state(flow)
            if not state.get("verified"):
                return redirect(url_for(flow.start))
            try:
                member = verified_member(db.session, state.get("cid"), flow.purpose)
            except AuthError as error:
                session.pop(f"flow_{flow.name}", None)
                flash(error.message, "error")
                return redirect(url_for(flow.start))
            return view(state, member)
        return wrapped
    return decorate


@bp.route("/signup/code", methods=["GET", "POST"], endpoint="signup_code")
def signup_code():
    return _code_step(FLOWS["signup"], "auth.signup_credentials")


@bp.route("/signup/credentials", methods=["GET", "POST"], endpoint="signup_credentials")
@_after_the_code("signup")
def signup_credentials(state: dict, member):
    if member.is_registered:
        session.pop("flow_signup", None)
        flash("すでにマイページに登録されています。ログインしてください。", "info")
        return redirect(url_for("auth.login"))
    form = CredentialsForm()
    if form.validate_on_submit():
        try:
            member = complete_signup(db.session, state.get("cid"), login_id=form.login_id.data or None,
                                     password=form.password.data)
        except AuthError as error:
            show_on_form(form, error, default="password")
        else:
            sessions.begin(member)
            token = devices.remember(db.session, member.id, devices.token_from_request(), request.user_agent.string)
            db.commit()
            how = f"ログインIDは「{member.login_id}」です。" if member.login_id else "次回から組合員番号でログインできます。"
            flash(f"ようこそ、{member.name}さま。マイページのご登録が完了しました。{how}", "success")
            return devices.set_cookie(redirect(url_for("mypage.home")), token)
    return render_template("auth/credentials.html", form=form, member=member)


# --- sign-in ---------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            member = authenticate(db.session, form.login_id.data, form.password.data,
                                  device_token=devices.token_from_request())
        except SignInDelayed as error:
            show_on_form(form, error)
            response = make_response(render_template("auth/login.html", form=form), 429)
            response.headers["Retry-After"] = str(error.retry_after_seconds)
            return response
        except AuthError as error:
            form.password.errors.append(error.message)
            history.record_failed_password(db.session, form.login_id.data, ip=_ip(),
                                           user_agent=request.user_agent.string)
            db.commit()  # the failure counts towards the account's delay too (portal.auth.throttle)
        else:
            target = _safe_next(session.get("next"))
            known = devices.is_known(db.session, member.id, devices.token_from_request())
            if known or current_app.config.get("TRUST_NEW_DEVICES", False):
                sessions.begin(member)
                signed_in(db.session, member, "password", ip=_ip(), user_agent=request.user_agent.string)
                db.commit()
                return redirect(target)
            try:
                challenge = start_login_code(db.session, member, _ip())
            except CodeError as error:
                db.session.rollback()
                form.password.errors.append(error.message)
                return _with_status(render_template("auth/login.html", form=form), error)
            _save_state(FLOWS["login"], cid=challenge.id, next=target)
            db.commit()
            return redirect(url_for("auth.login_code"))
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"], endpoint="login_code")
def login_code():
    flow = FLOWS["login"]
    target = _safe_next(_state(flow).get("next"))
    response, member = _handle_code_page(flow)
    if response is not None:
        return response
    sessions.begin(member)
    token = devices.remember(db.session, member.id, devices.token_from_request(), request.user_agent.string)
    signed_in(db.session, member, "code", new_device=True, ip=_ip(), user_agent=request.user_agent.string)
    new_device_notice(db.session, member, url_for("account.security", _external=True, _anchor="history"))
    db.commit()
    return devices.set_cookie(redirect(target), token)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    # GET shows a confirmation only; signing out is a POST (no GET changes state).
    if request.method == "GET":
        return render_template("auth/logout.html")
    sessions.end_current("logout")
    db.commit()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))


# --- password reset --------------------------------------------------------------
@bp.route("/password/reset", methods=["GET", "POST"], endpoint="password_reset")
def password_reset():
    return _identity_step(FLOWS["reset"], "auth/reset.html")


@bp.route("/password/reset/code", methods=["GET", "POST"], endpoint="password_reset_code")
def password_reset_code():
    return _code_step(FLOWS["reset"], "auth.password_reset_new")


@bp.route("/password/reset/new", methods=["GET", "POST"], endpoint="password_reset_new")
@_after_the_code("reset")
def password_reset_new(state: dict, _member):
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            member = reset_password(db.session, state.get("cid"), form.password.data)
        except AuthError as error:
            form.password.errors.append(error.message)
        else:
            sessions.begin(member)
            sessions.end_others_for_member(member.id, "password_reset")
            token = devices.remember(db.session, member.id, devices.token_from_request(), request.user_agent.string)
            db.commit()
            flash("パスワードを再設定しました。ほかの端末のログインはすべて終了しました。", "success")
            return devices.set_cookie(redirect(url_for("mypage.home")), token)
    return render_template("auth/reset_new.html", form=form)


# --- resend and switch channel (every code page) -----------------------------------
def _resend(channel: str | None):
    flow = FLOWS.get(request.form.get("flow", ""))
    if flow is None:
        abort(400)
    state = _state(flow)
    previous = codes.active_challenge(db.session, state.get("cid"), flow.purpose)
    if previous is None or state.get("verified"):
        return redirect(url_for(flow.start))
    try:
        challenge = resend(db.session, previous.id, purpose=flow.purpose, channel=channel, ip=_ip())
    except CodeError as error:
        db.session.rollback()
        if error.kind in ("throttled", "locked"):
            return _code_page(flow, previous, CodeForm(formdata=None), error)
        flash(error.message, "error")
        return redirect(url_for(flow.code))
    state["cid"] = challenge.id
    _save_state(flow, **state)
    db.commit()
    if challenge.channel == "voice":
        flash("自動音声の電話でお知らせします。認証コードを2回読み上げますので、お手元にメモをご用意ください。", "info")
    else:
        flash("認証コードをSMSで送信しました。最後に届いたコードを入力してください。", "info")
    return redirect(url_for(flow.code))


@bp.post("/code/resend", endpoint="resend_code")
def resend_code():
    return _resend(None)


@bp.post("/code/switch", endpoint="switch_channel")
def switch_channel():
    channel = request.form.get("channel")
    if channel not in ("sms", "voice"):
        abort(400)
    return _resend(channel)
