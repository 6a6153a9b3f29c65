"""The member navigation: five tabs a thumb reaches, and which one the page belongs to.

A tab is shown only when its page exists in this app (a feature can be switched
off or not yet installed); the full menu lives in templates/base.html.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    path: str
    endpoint: str | None  # None: always shown
    prefixes: tuple[str, ...]  # request paths that belong to this tab


MEMBER_TABS: tuple[Tab, ...] = (
    Tab("home", "ホーム", "/mypage", "mypage.home", ("/mypage",)),
    Tab("contracts", "ご契約・保障", "/contracts", "contracts.index", ("/contracts", "/coverage", "/certificates")),
    Tab("requests", "手続き", "/requests", "procedures.index",
        ("/requests", "/profile", "/enroll", "/changes", "/account")),
    Tab("claims", "請求", "/claims", "claims.index", ("/claims",)),
    Tab("menu", "メニュー", "#site-menu", None, ("/menu", "/shop", "/tips", "/voices", "/help", "/documents")),
)


def tabs_for(app: Flask) -> tuple[Tab, ...]:
    return tuple(t for t in MEMBER_TABS if t.endpoint is None or t.endpoint in app.view_functions)


def section_of(path: str) -> str | None:
    """The tab a request path belongs to (longest matching prefix), or None."""
    best: tuple[int, str] | None = None
    for tab in MEMBER_TABS:
        for prefix in tab.prefixes:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), tab.key)
    return best[1] if best else None


def is_current(path: str, href: str) -> bool:
    """A menu link is the current page when the path is the link or below it."""
    return path == href or path.startswith(href.rstrip("/") + "/")
