"""Who the member-facing pages are about: the signed-in member, or the member a
staff user is acting for."""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.members.models import Member


def is_acting() -> bool:
    return bool(g.get("acting_member_id"))


def current_member() -> Member:
    if is_acting():
        member = db.session.get(Member, g.acting_member_id)
    elif current_user.is_authenticated and current_user.get_id().startswith("member:"):
        member = current_user
    else:
        member = None
    if member is None:
        abort(401)
    return member


def acting_staff_id() -> int | None:
    return g.get("acting_staff_id")


def refuse_while_acting(what: str):
    """Decorator: this procedure is the member's own (SECURITY.md); staff may not do it for them."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if is_acting():
                flash(f"代理操作中は{what}できません。ご本人の操作が必要です。", "error")
                if request.method == "GET":
                    return redirect(url_for("mypage.home"))
                return redirect(request.referrer or url_for("mypage.home"))
            return view(*args, **kwargs)
        return wrapped
    return decorator
