"""/dev/outbox: what the outbox backends 'sent'. Registered only outside production."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from portal.extensions import db
from portal.gateways.models import DevOutboxEntry

bp = Blueprint("dev", __name__)


def _entries(limit: int = 200) -> list[DevOutboxEntry]:
    if current_app.config["PORTAL_ENV"] not in ("development", "test"):
        abort(404)
    return list(db.session.scalars(select(DevOutboxEntry).order_by(DevOutboxEntry.id.desc()).limit(limit)))


@bp.get("/dev/outbox", endpoint="outbox")
def outbox():
    return render_template("dev/outbox.html", entries=_entries())


@bp.get("/dev/outbox.json", endpoint="outbox_json")
def outbox_json():
    return [
        {"to": e.recipient, "channel": e.channel, "subject": e.subject, "body": e.body,
         "created_at": e.created_at.isoformat()}
        for e in _entries()
    ]


@bp.get("/dev/styleguide", endpoint="styleguide")
def styleguide():
    """Every component of the design system, at the text size chosen in the header."""
    from portal.auth.forms import IdentityForm

    if current_app.config["PORTAL_ENV"] not in ("development", "test"):
        abort(404)
    form = IdentityForm(meta={"csrf": False})
    form.validate()  # shows the error state of each field
    return render_template("dev/styleguide.html", form=form)
