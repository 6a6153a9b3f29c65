"""Who is signed in, and whom the member pages are about.

Flask-Login ids are "member:<id>" or "staff:<id>"; this is the one place that
reads them, so sign-in, the request rules and the audit log cannot disagree
about who the current user is. A member page is about the signed-in member, or
the member a staff user is acting for (set on flask.g by the staff console).
"""
from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user

from portal.extensions import db
from portal.members.models import Member

USER_KINDS = ("member", "staff")


def parse_user_id(user_id: str | None) -> tuple[str, int] | None:
    """'member:12' → ('member', 12); anything else → None."""
    kind, sep, raw_id = (user_id or "").partition(":")
    if not sep or kind not in USER_KINDS or not (raw_id.isascii() and raw_id.isdigit()):
        return None
    return kind, int(raw_id)


def user_kind(user: Any) -> str | None:
    """'member' or 'staff' for a signed-in user, None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    parsed = parse_user_id(user.get_id())
    return parsed[0] if parsed else None


def is_staff(user: Any) -> bool:
    return user_kind(user) == "staff"


def is_member(user: Any) -> bool:
    return user_kind(user) == "member"


def is_acting() -> bool:
    return bool(g.get("acting_member_id"))


def current_member() -> Member:
    if is_acting():
        member = db.session.get(Member, g.acting_member_id)
    elif is_member(current_user):
        member = current_user
    else:
        member = None
    if member is None:
        abort(401)
    return member


def acting_staff_id() -> int | None:
    return g.get("acting_staff_id")


def refuse_while_acting(what: str):
    """Decorator: this procedure is the member's own; staff may not do it for them."""
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


def current_staff() -> Any:
    """The signed-in staff user (a StaffUser), or None."""
    return current_user if is_staff(current_user) else None


def staff_required(*roles: str):
    """Staff pages: any of `roles` (admin is not implicitly every role); 401 for
    anyone else, 403 for staff without the role. Staff endpoints are named
    `staff.` or `staff_<feature>.` (portal.endpoints), so the sign-in rule sends
    visitors and members to the staff login before this runs."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                abort(401)
            if roles and not staff.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        wrapped.staff_roles = roles  # read by the staff menu (portal/navigation.py): one place says who may open it
        return wrapped
    return decorator
