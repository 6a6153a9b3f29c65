"""/requests: every procedure of the member, pending changes first."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from portal.clock import today
from portal.extensions import db
from portal.procedures import services, wording
from portal.procedures.models import ProcedureRequest
from portal.users import current_member

bp = Blueprint("procedures", __name__)


def get_request_or_404(receipt_no: str) -> ProcedureRequest:
    """The member's own request; another member's receipt number is a 404, never a 403."""
    member = current_member()
    row = db.session.scalar(select(ProcedureRequest).where(ProcedureRequest.receipt_no == receipt_no,
                                                           ProcedureRequest.member_id == member.id))
    if row is None:
        abort(404)
    return row


def _is_pending(row: ProcedureRequest, day) -> bool:
    """Still in progress, or done but not in effect yet (the seed: papers showed the old address)."""
    return row.is_open or (row.effective_date is not None and row.effective_date > day)


@bp.get("/requests", endpoint="index")
def index():
    member = current_member()
    rows = services.for_member(db.session, member.id)
    day = today()
    pending = [r for r in rows if _is_pending(r, day)]
    return render_template("procedures/index.html", requests=rows, pending=pending, today_=day)


@bp.get("/requests/<receipt_no>", endpoint="show")
def show(receipt_no: str):
    row = get_request_or_404(receipt_no)
    return render_template("procedures/show.html", r=row, pending=_is_pending(row, today()),
                           detail=services.detail_of(row),
                           next_step=wording.sentences(row.kind, row.status)[1] if row.is_open else "")
