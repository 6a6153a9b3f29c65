from __future__ import annotations

from flask import Blueprint, render_template

from portal.auth.current import current_member

bp = Blueprint("mypage", __name__)


@bp.get("/mypage", endpoint="home")
def home():
    member = current_member()
    return render_template("mypage/home.html", member=member)
