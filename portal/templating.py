"""Template filters and globals: yen, dates in Tokyo, masks, the current member."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g, request
from flask_login import current_user

from portal.clock import to_tokyo, today


def yen(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}円"


def man_yen(amount: int | None) -> str:
    """1,200万円 for whole 万 amounts of 10,000 or more, as Japanese documents write them."""
    if amount is None:
        return ""
    if amount >= 10_000 and amount % 10_000 == 0:
        return f"{amount // 10_000:,}万円"
    return yen(amount)


def jdate(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_tokyo(value)
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    return f"{value.year}年{value.month}月{value.day}日"


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return f"{phone[:3]}-****-{phone[-4:]}"


def register(app: Flask) -> None:
    app.add_template_filter(yen)
    app.add_template_filter(man_yen)
    app.add_template_filter(jdate)
    app.add_template_filter(mask_phone)

    @app.context_processor
    def inject():
        from portal.auth.current import is_acting

        kind = current_user.get_id().split(":")[0] if current_user.is_authenticated else None
        return {
            "today": today(),
            "is_member": kind == "member" or is_acting(),
            "is_staff": kind == "staff",
            "is_acting": is_acting(),
            "large_text": request.cookies.get("textsize") == "large",
            "portal_env": app.config["PORTAL_ENV"],
            "acting_banner": g.get("acting_banner"),
        }
