"""Endpoints that belong to no feature: the front page, health, text size."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/", endpoint="index")
def index():
    if current_user.is_authenticated and current_user.get_id().startswith("member:"):
        return redirect(url_for("mypage.home"))
    return render_template("index.html")


@bp.get("/healthz", endpoint="healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


@bp.post("/text-size", endpoint="text_size")
def text_size():
    size = "large" if request.form.get("size") == "large" else "normal"
    target = request.form.get("next") or "/"
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    response = redirect(target)
    # Secure wherever the session cookie is (production): behind a TLS-terminating balancer
    # without PORTAL_PROXY_COUNT, request.is_secure would say plain http.
    response.set_cookie("textsize", size, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=request.is_secure or bool(current_app.config["SESSION_COOKIE_SECURE"]))
    return response


@bp.get("/bench/bare", endpoint="bare")
def bare():
    """The load benchmark's yardstick: base.html after one primary-key lookup.

    Not served in production (the benchmark compares /mypage against it).
    """
    from flask import abort, current_app

    from portal.auth.current import current_member
    from portal.members.models import Member

    if current_app.config["PORTAL_ENV"] == "production":
        abort(404)
    member = db.session.get(Member, current_member().id)
    return render_template("base.html", member=member)
