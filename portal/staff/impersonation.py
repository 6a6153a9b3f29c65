"""Request hooks for staff acting as a member.

On every request of a staff session:
- acting, and within the 30-minute cap: flask.g gets acting_member_id,
  acting_staff_id and acting_banner, and the request is written to the audit log
  (committed at once, so even a request that fails later is on record);
- acting for 30 minutes or more (or the member is no longer active): acting ends,
  the session id rotates, and the staff user is sent back to the member's page in
  the console with a message;
- not acting, on a member-only page: sent to the staff console.

The hook must run after security.enforce_session (which ends expired sessions;
a staff session keeps its own 15-minute idle rule while acting, and acting never
moves created_at, so the staff session is not extended) and before
security.require_login (which lets a staff user onto member pages only when
g.acting_member_id is set). portal/security.py registers it in that place.
"""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for

from portal import audit
from portal.auth import sessions
from portal.clock import to_tokyo, utcnow
from portal.endpoints import is_public, is_staff_endpoint
from portal.extensions import db

ENDED_MESSAGE = "代理操作の上限時間（30分）を過ぎたため、代理操作を終了しました。"
INACTIVE_MESSAGE = "組合員の状態が変わったため、代理操作を終了しました。"


def load_acting():
    if request.endpoint == "static":
        return None
    row = sessions.current()
    if row is None or row.ended_at is not None or row.staff_id is None:
        return None
    from portal.users import current_staff

    staff = current_staff()
    if staff is None or staff.id != row.staff_id:
        return None
    if row.acting_member_id is None:
        if is_public(request.endpoint) or is_staff_endpoint(request.endpoint):
            return None
        # A staff user is never a member: member pages only while acting.
        return redirect(url_for("staff.home"))

    from portal.members.models import Member
    from portal.staff import acting

    now = utcnow()
    member = db.session.get(Member, row.acting_member_id)
    left = acting.acting_time_left(row, now)
    if left.total_seconds() <= 0 or member is None or member.status != "active":
        member_id = row.acting_member_id
        reason = "expired" if left.total_seconds() <= 0 else "member_inactive"
        acting.end_acting(db.session, row, reason)
        sessions.rotate()
        db.commit()
        flash(ENDED_MESSAGE if reason == "expired" else INACTIVE_MESSAGE, "warning")
        return redirect(url_for("staff.member_detail", member_id=member_id))

    g.acting_member_id = member.id
    g.acting_staff_id = staff.id
    expires_at = row.acting_started_at + acting.ACTING_LIMIT
    g.acting_banner = {
        "staff_name": staff.name,
        "member_name": member.name,
        "member_no": member.member_no,
        "minutes_left": max(1, -(-int(left.total_seconds()) // 60)),
        "expires_at": expires_at.isoformat(),
        "expires_at_tokyo": to_tokyo(expires_at).strftime("%H:%M"),
        "end_url": url_for("staff.act_end"),
    }
    audit.record("impersonation.request", target_type="route",
                 target_id=(request.url_rule.rule if request.url_rule else request.path)[:60],
                 member_id=member.id,
                 detail={"route": request.url_rule.rule if request.url_rule else None, "path": request.path,
                         "method": request.method, "endpoint": request.endpoint})
    db.commit()
    return None

