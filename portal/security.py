"""Cross-cutting request rules: sign-in required by default, session expiry,
security headers, request ids, the client address behind load balancers, and
the one filter for odd input (portal.input_filter).

Every endpoint needs a signed-in member unless it is public, or a staff user
if it is a staff endpoint (the staff pages check roles themselves); both lists
live in portal.endpoints.
"""
from __future__ import annotations

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.auth import sessions
from portal.clock import utcnow
from portal.endpoints import is_public, is_staff_endpoint
from portal.extensions import db, login_manager
from portal.users import is_member, is_staff, parse_user_id

def trust_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT load balancers, take the client's address (and scheme) from the
    X-Forwarded-* entries they added, so that rate limits and the audit log see the client
    rather than the balancer. Entries beyond that count are the client's own and ignored."""
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count and not isinstance(app.wsgi_app, ProxyFix):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)  # type: ignore[method-assign]


# Session end reasons written by another device's action (not a logout on this one).
ENDED_ELSEWHERE = frozenset({"password_change", "password_reset", "phone_changed", "email_change",
                             "ended_by_member"})


def init_app(app: Flask) -> None:
    from portal import input_filter

    trust_proxies(app)
    input_filter.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        row = sessions.current()
        if row is None:
            return None
        parsed = parse_user_id(user_id)
        if parsed is None:
            return None
        kind, raw_id = parsed
        if kind == "member" and row.member_id == raw_id:
            from portal.members.models import Member
            return db.session.get(Member, row.member_id)
        if kind == "staff" and row.staff_id == raw_id:
            from portal.staff.models import StaffUser
            return db.session.get(StaffUser, row.staff_id)
        return None

    @app.before_request
    def enforce_session() -> None:
        row = sessions.current()
        if row is None:
            return
        now = utcnow()
        reason = sessions.expiry_reason(row, now)
        if reason is not None:
            ended_elsewhere = reason == "ended" and row.ended_reason in ENDED_ELSEWHERE
            sessions.end_current(reason if reason != "ended" else "replayed")
            db.commit()
            if reason in ("idle", "absolute"):
                flash("一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。", "info")
            elif ended_elsewhere:  # tell the member why, not only that they must sign in again
                flash("別の端末でパスワード・電話番号・メールアドレスの変更やログインの終了が行われたため、"
                      "この端末はログアウトしました。もう一度ログインしてください。", "info")
            return
        sessions.touch(row, now)
        if db.session.dirty:
            db.commit()

    # Staff acting as a member: runs after session expiry and before the sign-in rule,
    # which lets a staff user onto member pages only once this has set g.acting_member_id.
    from portal.staff.impersonation import load_acting
    app.before_request(load_acting)

    @app.before_request
    def require_login():
        endpoint = request.endpoint
        if is_public(endpoint):
            return None
        if is_staff_endpoint(endpoint):
            if is_staff(current_user):
                return None
            return redirect(url_for("staff.login", next=request.full_path if request.method == "GET" else None))
        if is_member(current_user):
            return None
        if current_user.is_authenticated and getattr(g, "acting_member_id", None):
            return None  # staff acting as a member (staff feature sets this)
        if request.method == "GET":
            session["next"] = request.full_path.rstrip("?")
        return redirect(url_for("auth.login"))

    @app.after_request
    def security_headers(response):
        headers = response.headers
        # Built from PORTAL_CSP_* at start-up (portal.config), where production refuses dev hosts.
        headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["PORTAL_ENV"] != "development":
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        # Static files hold nothing personal; portal.static_files sets their caching.
        if request.endpoint != "static" and (not is_public(request.endpoint) or current_user.is_authenticated):
            headers["Cache-Control"] = "no-store"
        return response
