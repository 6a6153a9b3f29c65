"""The audit log: every member change and every staff action.

This module writes rows (`record`); `portal.audit.models` holds the append-only
table and `portal.audit.reports` the read side (a member's access history, the
staff console's search, CSV export and access report).

Callers pass already-masked details; `mask_detail` is a last line of defence
for the keys that must never reach a log in full.
"""
from __future__ import annotations

import json
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.audit.models import AuditLog
from portal.jp.masking import mask_digits
from portal.users import user_kind

_SECRET_KEYS = {"password", "code", "otp", "totp", "token", "secret"}


def mask_detail(detail: dict[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = {}
    for key, value in detail.items():
        lowered = key.lower()
        if any(s in lowered for s in _SECRET_KEYS):
            masked[key] = "***"
        elif ("account_number" in lowered or "phone" in lowered) and isinstance(value, str) and len(value) > 4:
            masked[key] = mask_digits(value)
        elif isinstance(value, dict):
            masked[key] = mask_detail(value)
        else:
            masked[key] = value
    return masked


def record(action: str, *, target_type: str | None = None, target_id: Any = None,
           detail: dict[str, Any] | None = None, member_id: int | None = None,
           staff_id: int | None = None, session: Session | None = None) -> AuditLog:
    """Write one audit row for the current actor (taken from the request), in the
    service's own session when it passes one (else the request's)."""
    actor_type = "anonymous"
    actor_member_id = None
    actor_staff_id = staff_id
    acting_as = member_id
    kind = user_kind(current_user) if has_request_context() else None
    if kind is not None:
        if kind == "staff":
            actor_type, actor_staff_id = "staff", current_user.id
            acting_as = acting_as or getattr(g, "acting_member_id", None)
        else:
            actor_type, actor_member_id = "member", current_user.id
            acting_as = acting_as or current_user.id
            if getattr(g, "acting_staff_id", None):
                actor_type, actor_staff_id = "staff", g.acting_staff_id
    elif staff_id is not None:
        actor_type = "staff"
    elif not has_request_context():
        actor_type = "system"
    row = AuditLog(
        actor_type=actor_type,
        actor_member_id=actor_member_id,
        actor_staff_id=actor_staff_id,
        acting_as_member_id=acting_as,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=json.dumps(mask_detail(detail), ensure_ascii=False, default=str) if detail else None,
        ip=request.remote_addr if has_request_context() else None,
        request_id=getattr(g, "request_id", None) if has_request_context() else None,
    )
    (session if session is not None else db.session).add(row)
    return row
