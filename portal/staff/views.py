"""The staff console: sign-in with TOTP, member search, acting as a member,
the audit log and staff accounts. Every view here is `staff.*`, so anonymous
visitors and members are sent to /staff/login by portal.security; roles are
checked with @staff_required."""
from __future__ import annotations


from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   session, url_for)

from portal.audit import reports
from portal.audit.labels import action_label
from portal.auth import sessions, throttle
from portal.auth.throttle import SignInDelayed
from portal.clock import utcnow
from portal.extensions import db, limiter
from portal.jp.errors import JpValueError
from portal.jp.text import digits_only
from portal.service_errors import show_on_form
from portal.staff import accounts, acting, search
from portal.staff.forms import (
    ActForm,
    AuditFilterForm,
    EndActForm,
    MemberSearchForm,
    StaffCreateForm,
    StaffLoginForm,
    TotpForm,
)
from portal.staff.models import StaffUser
from portal.users import current_staff, staff_required

bp = Blueprint("staff", __name__)

PENDING_KEY = "staff_pending"
PENDING_MINUTES = 5
MAX_TOTP_FAILURES = 5


def _safe_staff_next(target: str | None) -> str:
    if target and target.startswith("/staff") and "\\" not in target:
        return target
    return url_for("staff.home")


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


# --- sign-in -------------------------------------------------------------------
@bp.route("/staff/login", methods=["GET", "POST"], endpoint="login")
@limiter.limit("30 per hour", methods=["POST"])
def login():
    form = StaffLoginForm()
    if form.validate_on_submit():
        try:
            staff = accounts.check_password(db.session, form.email.data, form.password.data)
        except SignInDelayed as error:
            show_on_form(form, error)
            return (render_template("staff/login.html", form=form), 429,
                    {"Retry-After": str(error.retry_after_seconds)})
        except accounts.StaffError as error:
            db.commit()  # the failure counts (portal.auth.throttle) and is in the audit log
            form.password.errors.append(error.message)
        else:
            next_url = request.args.get("next") or session.get(PENDING_KEY, {}).get("next")
            session[PENDING_KEY] = {"id": staff.id, "at": utcnow().timestamp(), "next": _safe_staff_next(next_url)}
            return redirect(url_for("staff.login_totp"))
    return render_template("staff/login.html", form=form)


@bp.route("/staff/login/totp", methods=["GET", "POST"], endpoint="login_totp")
@limiter.limit("30 per hour", methods=["POST"])
def login_totp():
    pending = session.get(PENDING_KEY)
    staff = db.session.get(StaffUser, pending["id"]) if pending else None
    if staff is None or utcnow().timestamp() - pending["at"] > PENDING_MINUTES * 60:
        session.pop(PENDING_KEY, None)
        flash("もう一度メールアドレスとパスワードを入力してください。", "info")
        return redirect(url_for("staff.login"))
    form = TotpForm()
    if form.validate_on_submit():
        try:
            accounts.verify_totp(db.session, staff, form.code.data)
        except SignInDelayed as error:
            session.pop(PENDING_KEY, None)
            flash(error.message, "error")
            return redirect(url_for("staff.login"))
        except accounts.StaffError as error:
            db.commit()
            # Every MAX_TOTP_FAILURES wrong codes, the password is asked again; the count
            # is the server's (portal.auth.throttle), not the cookie's.
            if throttle.failures(db.session, accounts.totp_key(staff)) % MAX_TOTP_FAILURES == 0:
                session.pop(PENDING_KEY, None)
                flash(error.message, "error")
                return redirect(url_for("staff.login"))
            form.code.errors.append(error.message)
        else:
            target = pending.get("next") or url_for("staff.home")
            accounts.signed_in(staff)
            db.commit()
            return redirect(_safe_staff_next(target))
    from portal.account.passkeys import passkeys_of
    return render_template("staff/login_totp.html", form=form, has_passkeys=bool(passkeys_of(db.session, staff)))


def _pending_staff() -> StaffUser | None:
    pending = session.get(PENDING_KEY)
    staff = db.session.get(StaffUser, pending["id"]) if pending else None
    if staff is None or not staff.is_enabled or utcnow().timestamp() - pending["at"] > PENDING_MINUTES * 60:
        return None
    return staff


# A passkey instead of the TOTP code (portal.account.passkeys checks the ceremony).
@bp.post("/staff/login/passkey/options", endpoint="login_passkey_options")
@limiter.limit("30 per hour")
def login_passkey_options():
    from portal.account import passkeys

    staff = _pending_staff()
    if staff is None:
        return jsonify({"error": "もう一度メールアドレスとパスワードを入力してください。"}), 400
    try:
        ceremony = passkeys.authentication_options(db.session, passkeys.relying_party(current_app.config),
                                                   "staff_login", owner=staff)
    except passkeys.PasskeyError as error:
        db.session.rollback()
        return jsonify({"error": error.message}), 400
    session[PENDING_KEY] = {**session[PENDING_KEY], "challenge": ceremony.challenge}
    db.commit()
    return current_app.response_class(ceremony.options_json, mimetype="application/json")


@bp.post("/staff/login/passkey", endpoint="login_passkey")
@limiter.limit("30 per hour")
def login_passkey():
    from portal.account import passkeys

    staff = _pending_staff()
    body = request.get_json(silent=True)
    if staff is None or not isinstance(body, dict):
        return jsonify({"error": "もう一度メールアドレスとパスワードを入力してください。"}), 400
    pending = dict(session[PENDING_KEY])
    challenge = pending.pop("challenge", None)
    session[PENDING_KEY] = pending
    try:
        row = passkeys.finish_authentication(db.session, passkeys.relying_party(current_app.config),
                                             credential_json=body.get("credential"), challenge=challenge,
                                             purpose="staff_login", owner=staff)
    except passkeys.PasskeyError as error:
        accounts.record_failed_sign_in(db.session, staff.id, "passkey")
        db.commit()
        return jsonify({"error": error.message}), 400
    target = pending.get("next") or url_for("staff.home")
    accounts.signed_in(staff, second_factor="passkey", passkey_id=row.id)
    db.commit()
    return jsonify({"redirect": _safe_staff_next(target)})


@bp.route("/staff/logout", methods=["GET", "POST"], endpoint="logout")
@staff_required()
def logout():
    if request.method == "GET":
        return render_template("staff/logout.html", form=EndActForm())
    accounts.sign_out(db.session, current_staff())
    db.commit()
    flash("ログアウトしました。", "info")
    return redirect(url_for("staff.login"))


# --- console home -----------------------------------------------------------------
@bp.get("/staff", endpoint="home")
@staff_required()
def home():
    staff = current_staff()
    return render_template("staff/home.html", staff=staff, roles=accounts.role_labels(staff))


# --- members (support) ---------------------------------------------------------------
@bp.get("/staff/members", endpoint="members")
@staff_required("support")
def members():
    form = MemberSearchForm(request.args)
    result = None
    if form.q.data and form.validate():
        try:
            result = search.find_members(db.session, form.q.data, page=_page_arg())
        except accounts.StaffError as error:
            form.q.errors.append(error.message)
        else:
            db.commit()
    return render_template("staff/members.html", form=form, result=result)


def _or_404(found):
    if found is None:
        abort(404)
    return found


def _render_member(overview, form: ActForm, status: int = 200, error: str | None = None):
    return render_template("staff/member_detail.html", o=overview, member=overview.member, form=form,
                           act_error=error, reasons=acting.ACT_REASONS), status


@bp.get("/staff/members/<int:member_id>", endpoint="member_detail")
@staff_required("support")
def member_detail(member_id: int):
    overview = _or_404(search.open_member(db.session, member_id))
    db.commit()
    return _render_member(overview, ActForm())


@bp.post("/staff/members/<int:member_id>/act", endpoint="act_start")
@staff_required("support")
def act_start(member_id: int):
    overview = _or_404(search.member_overview(db.session, member_id))
    form = ActForm()
    row = sessions.current()
    if not form.validate_on_submit():
        return _render_member(overview, form, 400)
    try:
        member = acting.start_acting(db.session, row, current_staff(), member_id,
                                       form.reason_code.data, form.reason_text.data)
    except accounts.StaffError as error:
        db.session.rollback()
        if show_on_form(form, error):
            return _render_member(overview, form, 400)
        return _render_member(overview, form, 409, error.message)
    sessions.rotate()
    db.commit()
    flash(f"{member.name}さまとして代理操作を開始しました（最長30分）。", "info")
    return redirect(url_for("mypage.home"))


@bp.post("/staff/act/end", endpoint="act_end")
@staff_required("support")
def act_end():
    form = EndActForm()
    if not form.validate_on_submit():
        abort(400)
    row = sessions.current()
    if row is None or row.acting_member_id is None:
        flash("代理操作は行われていません。", "info")
        return redirect(url_for("staff.members"))
    member_id = acting.end_acting(db.session, row, "ended")
    sessions.rotate()
    db.commit()
    flash("代理操作を終了しました。", "info")
    return redirect(url_for("staff.member_detail", member_id=member_id))


# --- audit log (admin) ---------------------------------------------------------------
def _audit_filters() -> tuple[AuditFilterForm, reports.AuditFilter]:
    form = AuditFilterForm(request.args)
    form.staff_id.choices = [("", "すべて")] + [(str(s.id), f"{s.name}（{s.email}）")
                                               for s in accounts.list_staff(db.session)]
    form.action.choices = [("", "すべて")] + [(a, action_label(a))
                                             for a in reports.audit_actions(db.session)]
    filters = reports.AuditFilter()
    if form.validate():
        filters.staff_id = int(form.staff_id.data) if form.staff_id.data else None
        filters.action = form.action.data or None
        filters.date_from = form.date_from.data
        filters.date_to = form.date_to.data
        if form.member_no.data:
            try:
                filters.member_no = digits_only(form.member_no.data) or None
            except JpValueError as error:
                form.member_no.errors = [error.message]
    return form, filters


@bp.get("/staff/audit", endpoint="audit")
@staff_required("admin")
def audit_log():
    form, filters = _audit_filters()
    page = reports.search_audit(db.session, filters, page=_page_arg())
    return render_template("staff/audit.html", form=form, page=page, query=request.args.to_dict())


@bp.get("/staff/audit.csv", endpoint="audit_csv")
@staff_required("admin")
def audit_csv():
    form, filters = _audit_filters()
    body = reports.export_csv(db.session, filters)
    db.commit()
    stamp = utcnow().strftime("%Y%m%d%H%M%S")
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})


@bp.get("/staff/audit/access", endpoint="audit_access")
@staff_required("admin")
def audit_access():
    form, filters = _audit_filters()
    report = None
    if filters.staff_id:
        report = reports.staff_access_report(db.session, filters.staff_id, date_from=filters.date_from,
                                              date_to=filters.date_to)
    return render_template("staff/audit_access.html", form=form, report=report)


# --- staff accounts (admin) -------------------------------------------------------------
@bp.get("/staff/users", endpoint="users")
@staff_required("admin")
def users():
    return render_template("staff/users.html", users=accounts.list_staff(db.session), form=EndActForm(),
                           me=current_staff())


@bp.route("/staff/users/new", methods=["GET", "POST"], endpoint="user_new")
@staff_required("admin")
def user_new():
    form = StaffCreateForm()
    if form.validate_on_submit():
        try:
            staff, password = accounts.create_staff_account(db.session, form.email.data, form.name.data,
                                                            form.selected_roles())
        except accounts.StaffError as error:
            db.session.rollback()
            show_on_form(form, error, default="email", rename={"roles": "role_support"})
        else:
            db.commit()
            # Shown once, in this response only: never stored in the session or a log.
            return render_template("staff/user_secret.html", staff=staff, password=password,
                                   secret=staff.totp_secret, uri=accounts.provisioning_uri(staff), created=True)
    return render_template("staff/user_new.html", form=form)


def _toggle(staff_id: int, enabled: bool):
    form = EndActForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        staff = accounts.set_staff_enabled(db.session, staff_id, enabled, by_staff_id=current_staff().id)
    except accounts.StaffError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("staff.users"))
    db.commit()
    flash(f"{staff.name}さんを{'有効' if enabled else '無効'}にしました。", "success")
    return redirect(url_for("staff.users"))


@bp.post("/staff/users/<int:staff_id>/disable", endpoint="user_disable")
@staff_required("admin")
def user_disable(staff_id: int):
    return _toggle(staff_id, False)


@bp.post("/staff/users/<int:staff_id>/enable", endpoint="user_enable")
@staff_required("admin")
def user_enable(staff_id: int):
    return _toggle(staff_id, True)


@bp.post("/staff/users/<int:staff_id>/reset-totp", endpoint="user_reset_totp")
@staff_required("admin")
def user_reset_totp(staff_id: int):
    form = EndActForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        staff = accounts.reset_totp(db.session, staff_id)
    except accounts.StaffError:
        abort(404)
    db.commit()
    return render_template("staff/user_secret.html", staff=staff, password=None, secret=staff.totp_secret,
                           uri=accounts.provisioning_uri(staff), created=False)


