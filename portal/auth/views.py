from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for

from portal import audit
from portal.auth import sessions
from portal.auth.forms import LoginForm
from portal.auth.services import AuthError, authenticate
from portal.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("mypage.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            member = authenticate(db.session, form.login_id.data, form.password.data)
        except AuthError as error:
            form.password.errors.append(error.message)
        else:
            target = _safe_next(session.get("next"))
            sessions.begin(member)
            audit.record("member.login", target_type="member", target_id=member.id)
            db.commit()
            return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    # GET shows a confirmation only; signing out is a POST (no GET changes state).
    from flask import request
    if request.method == "GET":
        return render_template("auth/logout.html")
    sessions.end_current("logout")
    db.commit()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))
