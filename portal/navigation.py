"""The member navigation: five tabs a thumb reaches, and which one the page belongs to;
the staff menu: each role's destinations.

A tab or a staff link is shown only when its page exists in this app (a feature
can be switched off or not yet installed). The member's full menu is
MEMBER_MENU.
"""
from __future__ import annotations

from collections.abc import Iterable
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


@dataclass(frozen=True)
class MenuLink:
    label: str
    path: str
    own_account_only: bool = False  # not shown to staff acting as the member


# The member's full menu (the メニュー tab opens it), in this order.
MEMBER_MENU: tuple[MenuLink, ...] = (
    MenuLink("ホーム", "/mypage"),
    MenuLink("ご契約", "/contracts"),
    MenuLink("保障内容", "/coverage"),
    MenuLink("共済金のご請求", "/claims"),
    MenuLink("手続き状況", "/requests"),
    MenuLink("登録情報の変更", "/profile"),
    MenuLink("ログインとセキュリティ", "/account/security", own_account_only=True),
    MenuLink("掛金証明書", "/certificates"),
    MenuLink("健康チェック", "/shop"),
    MenuLink("お役立ち情報", "/tips"),
    MenuLink("ご意見・ご要望", "/voices/new"),
    MenuLink("お届けした書類", "/documents"),
    MenuLink("よくある質問・お問い合わせ", "/help"),
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


@dataclass(frozen=True)
class StaffLink:
    label: str
    path: str
    endpoint: str
    exact: bool = False  # the console is current on itself only, not on every page below /staff


# The first page of each desk. Who may open
# one is what its view's staff_required says (the `staff_roles` it records).
STAFF_LINKS: tuple[StaffLink, ...] = (
    StaffLink("コンソール", "/staff", "staff.home", exact=True),
    StaffLink("作業一覧", "/staff/work", "staff_backoffice.queue"),
    StaffLink("共済金", "/staff/claims", "staff_claims.queue"),
    StaffLink("組合員検索", "/staff/members", "staff.members"),
    StaffLink("お客さまの声", "/staff/voices", "staff_voices.inbox"),
    StaffLink("お問い合わせ", "/staff/help/inquiries", "staff_help.inquiries"),
    StaffLink("お役立ち情報", "/staff/tips", "staff_tips.index"),
    StaffLink("監査ログ", "/staff/audit", "staff.audit"),
    StaffLink("スタッフ管理", "/staff/users", "staff.users"),
    StaffLink("パスキー", "/staff/passkeys", "staff_account.passkeys"),
)


def staff_links_for(app: Flask, role_names: Iterable[str]) -> tuple[StaffLink, ...]:
    """The staff menu of a user with these roles: the pages that exist and that they may open."""
    roles = set(role_names)
    links = []
    for link in STAFF_LINKS:
        view = app.view_functions.get(link.endpoint)
        if view is None:
            continue
        needed = getattr(view, "staff_roles", ())
        if not needed or roles & set(needed):
            links.append(link)
    return tuple(links)


def current_staff_link(path: str, links: Iterable[StaffLink]) -> str | None:
    """The path of the menu link a staff page belongs to: the longest link the path is or lies below."""
    matches = [link.path for link in links if path == link.path or (not link.exact and is_current(path, link.path))]
    return max(matches, key=len) if matches else None
