"""Template filters and globals: yen, dates in Tokyo, masks, the current member."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g, request
from flask_login import current_user
from markupsafe import Markup

from portal.clock import to_tokyo, today
from portal.jp.dates import format_date_jp, format_month_day_jp, jdate
from portal.jp.phone import mask_phone
from portal.users import is_acting, user_kind


def yen(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}円"


def man_yen(amount: int | None) -> str:
    """1,200万円 for whole 万 amounts of 10,000 or more, as Japanese documents write them."""
    if amount is None:
        return ""
    if amount >= 10_000 and amount % 10_000 == 0:
        return f"{amount // 10_000:,}万円"
    return yen(amount)


def iso_instant(value: datetime | date | None) -> str:
    """A valid <time datetime> value: seconds at most, with the Tokyo offset."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_tokyo(value).replace(microsecond=0).isoformat()
    return value.isoformat()


def _staff_menu(app: Flask, staff) -> dict:
    """The staff header's links for this staff user's roles, and the one this page belongs to."""
    from portal import navigation

    if staff is None:
        return {"staff_nav": (), "staff_nav_current": None}
    links = navigation.staff_links_for(app, staff.role_names)
    return {"staff_nav": links, "staff_nav_current": navigation.current_staff_link(request.path, links)}


def register(app: Flask) -> None:
    from portal import navigation
    from portal.jp import text, typeset

    enabled = app.config.get("TYPESET_HTML", True)

    def phrases(value):
        return typeset.phrases(value) if enabled else value

    def typeset_page(value):
        return Markup(typeset.typeset_html(str(value))) if enabled else value

    def nowrap(value):
        return typeset.nowrap(value) if enabled else value

    def honorific(name):
        """A person's name as the pages address them (portal.jp.text.honorific), never split."""
        if name is None or name == "":
            return ""
        return typeset.nowrap(text.honorific(name)) if enabled else text.honorific(name)

    app.add_template_filter(honorific)
    app.add_template_filter(phrases)
    app.add_template_filter(nowrap)
    app.add_template_filter(typeset_page, "typeset")
    app.add_template_filter(iso_instant)
    app.add_template_filter(yen)
    app.add_template_filter(man_yen)
    # Japanese dates: written by portal.jp.dates only.
    app.add_template_filter(jdate)
    app.add_template_filter(format_date_jp, "jdate_only")
    app.add_template_filter(format_month_day_jp, "jmonth_day")
    app.add_template_filter(mask_phone)

    @app.context_processor
    def inject():
        kind = user_kind(current_user)
        return {
            "today": today(),
            "is_member": kind == "member" or is_acting(),
            "is_staff": kind == "staff",
            "is_acting": is_acting(),
            "large_text": request.cookies.get("textsize") == "large",
            "portal_env": app.config["PORTAL_ENV"],
            "acting_banner": g.get("acting_banner"),
            "nav_tabs": navigation.tabs_for(app),
            "nav_menu": navigation.MEMBER_MENU,
            "nav_section": navigation.section_of(request.path),
            "nav_is_current": navigation.is_current,
            **_staff_menu(app, current_user if kind == "staff" else None),
        }
