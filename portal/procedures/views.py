from __future__ import annotations

from flask import Blueprint, render_template

from portal.auth.current import current_member
from portal.extensions import db
from portal.procedures import services

bp = Blueprint("procedures", __name__)


@bp.get("/requests", endpoint="index")
def index():
    member = current_member()
    return render_template("procedures/index.html", requests=services.for_member(db.session, member.id))
