"""Staff-only views: `@staff_required("cs")` and `current_staff()`.

Staff endpoints live in blueprints whose endpoint names start with `staff.` or
`staff_` so the sign-in rule in portal/security.py sends anonymous visitors and
members to the staff login; this decorator then checks the role (403 otherwise).
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from portal.staff.models import StaffUser


def current_staff() -> StaffUser | None:
    if current_user.is_authenticated and current_user.get_id().startswith("staff:"):
        return current_user  # type: ignore[return-value]
    return None


def staff_required(*roles: str):
    """Allow staff holding any of `roles` (admin is not implicitly every role)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                abort(401)
            if roles and not staff.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
