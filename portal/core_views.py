"""Endpoints that belong to no feature: the front page, health, readiness,
metrics, text size."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db
from portal.users import current_member, is_member

bp = Blueprint("core", __name__)


@bp.get("/", endpoint="index")
def index():
    if is_member(current_user):
        return redirect(url_for("mypage.home"))
    return render_template("index.html")


log = logging.getLogger(__name__)


@bp.get("/healthz", endpoint="healthz")
def healthz():
    """Alive: the process answers and reaches its database. A signed-in browser's
    session and member are loaded as on every page (the capacity benchmark's
    yardstick); no template."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


def _check(name: str, probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as error:  # the answer is the point: report it, never raise
        log.warning("readiness: %s unreachable: %s", name, type(error).__name__)
        return "unreachable"


@bp.get("/readyz", endpoint="readyz")
def readyz():
    """Ready for traffic: the database, Redis (when configured) and file storage
    all answer. The load balancer takes a server out while this is 503."""
    from portal.gateways.storage import storage

    checks = {"database": _check("database", lambda: db.session.execute(text("SELECT 1")))}
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        def ping_redis() -> None:
            import redis

            client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
            try:
                client.ping()
            finally:
                client.close()
        checks["redis"] = _check("redis", ping_redis)
    checks["storage"] = _check("storage", lambda: storage().ping())
    ready = all(v == "ok" for v in checks.values())
    return {"status": "ok" if ready else "error", **checks}, 200 if ready else 503


@bp.get("/metrics", endpoint="metrics")
def metrics():
    """Prometheus exposition; only for allowed addresses or the bearer token."""
    from portal.ops import metrics as ops_metrics

    if not ops_metrics.allowed():
        abort(404)  # the same answer as a path that does not exist
    body = ops_metrics.render(db.session)
    db.session.rollback()  # read-only
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


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

    from portal.members.models import Member

    if current_app.config["PORTAL_ENV"] == "production":
        abort(404)
    member = db.session.get(Member, current_member().id)
    return render_template("base.html", member=member)


@bp.get("/favicon.ico", endpoint="favicon")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; answer instead of a 404."""
    from flask import current_app, send_from_directory

    response = send_from_directory(current_app.static_folder, "img/favicon.ico", mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 7 * 24 * 3600
    return response
