from __future__ import annotations

from flask import Blueprint, render_template

from portal.clock import now_tokyo
from portal.extensions import db
from portal.mypage import services
from portal.users import current_member

bp = Blueprint("mypage", __name__)


def greeting(hour: int) -> str:
    if 4 <= hour < 11:
        return "おはようございます"
    if 11 <= hour < 18:
        return "こんにちは"
    return "こんばんは"


@bp.get("/mypage", endpoint="home")
def home():
    member = current_member()
    now = now_tokyo()
    board = services.dashboard(db.session, member, now.date())
    return render_template("mypage/home.html", member=member, board=board, household=board.household,
                           greeting=greeting(now.hour), quick_links=services.QUICK_LINKS)
