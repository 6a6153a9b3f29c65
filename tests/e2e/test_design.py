"""The phone experience, measured in Chromium: every member page at 390 px in both
text sizes (screenshots + axe), numbers never split across lines, phrase-broken
headings without a forbidden line start, the first screen of My Page, focus rings
of at least 3:1, 44-px tap targets, the menu, Enter in the address form, no 404s.
"""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import VIEWPORTS, Visit

# Every member page (paths that need an id are found by following a link).
MEMBER_PAGES = ["/mypage", "/contracts", "/contracts/100000000101", "/coverage", "/requests", "/profile",
                "/profile/address", "/profile/phone", "/profile/email", "/profile/bank-account",
                "/profile/notifications", "/certificates", "/enroll", "/shop", "/shop/orders", "/tips",
                "/voices/new", "/voices", "/account/security", "/documents", "/help", "/claims", "/claims/new",
                "/contracts/100000000101/cancel", "/contracts/100000000101/beneficiary", "/changes/name",
                "/changes/proxy-claimant", "/changes/withdrawal"]
LINKED_PAGES = {"/requests": "a[href^='/requests/']", "/tips": "a[href^='/tips/']:not([href*='category'])",
                "/shop": "a[href^='/shop/KC']"}

# Characters that may not start a line (the same set as portal/jp/typeset.py).
from portal.jp.typeset import NO_LINE_START  # noqa: E402

SPLIT_NUMBERS_JS = r"""
() => {
  const re = /(?<![A-Za-z0-9])(?=[A-Za-z0-9-]*\d)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+(?![A-Za-z0-9])|(?:〒|¥|￥)?\d+(?:[,.:\/\-]\d+)*(?:万円|円|年|か月|月|日|時|分|件|歳|桁|文字)?(?:\d+(?:[,.:\/\-]\d+)*(?:年|月|日|時|分))*/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const bad = [];
  let checked = 0;
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest("script,style,textarea,option,select,.visually-hidden,.default-button,[hidden]")) continue;
    if (!el.getClientRects().length) continue;
    re.lastIndex = 0;
    let m;
    while ((m = re.exec(node.data))) {
      if (m[0].length < 2) continue;
      const range = document.createRange();
      range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0.5 && r.height > 0.5);
      if (!rects.length) continue;
      checked++;
      const tops = rects.map(r => r.top);
      if (Math.max(...tops) - Math.min(...tops) > rects[0].height / 2) bad.push(m[0] + " ← " + node.data.trim().slice(0, 40));
    }
  }
  return {bad, checked};
}
"""

LINE_STARTS_JS = r"""
() => {
  const starts = [];
  let wrapped = 0;
  for (const h of document.querySelectorAll("main h1, main h2, main h3, .tab, main label, main legend, main .btn")) {
    if (!h.getClientRects().length) continue;
    const walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
    let prevTop = null, lines = 0;
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.parentElement.closest(".visually-hidden")) continue;
      for (let i = 0; i < node.data.length; i++) {
        if (!node.data[i].trim()) continue;
        const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
        const r = range.getBoundingClientRect();
        if (!r.height) continue;
        if (prevTop !== null && r.top > prevTop + r.height / 2) { starts.push([node.data[i], h.textContent.trim().slice(0, 40)]); lines++; }
        prevTop = r.top;
      }
    }
    if (lines) wrapped++;
  }
  return {starts, wrapped};
}
"""


def _relative_luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    la, lb = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _rgb(css: str) -> tuple[float, float, float]:
    numbers = [float(x) for x in re.findall(r"[\d.]+", css)[:3]]
    return numbers[0], numbers[1], numbers[2]


@pytest.fixture(scope="module")
def phone_pages(browser, live_server):
    """Signed-in phone contexts at both text sizes, and the member pages this app has."""
    contexts = {}
    for size in ("normal", "large"):
        context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP", timezone_id="Asia/Tokyo")
        if size == "large":
            context.add_cookies([{"name": "textsize", "value": "large", "url": live_server}])
        page = context.new_page()
        page.set_default_timeout(15_000)
        visit = Visit(page, live_server, f"member-pages-{size}")
        visit.login()
        contexts[size] = visit
    visit = contexts["normal"]
    paths = []
    for path in MEMBER_PAGES:
        response = visit.page.goto(live_server + path)
        if response.status == 404:
            continue  # a feature this app does not have (yet)
        assert response.status == 200, path
        paths.append(path)
        if path in LINKED_PAGES:
            link = visit.page.locator(LINKED_PAGES[path]).first
            if link.count():
                paths.append(link.get_attribute("href"))
    yield contexts, paths
    for visit in contexts.values():
        visit.page.context.close()


@pytest.mark.parametrize("size", ["normal", "large"])
def test_every_member_page_at_390_px(phone_pages, size):
    """Screenshot, axe, no horizontal scroll, no split number, 禁則 at phrase breaks."""
    contexts, paths = phone_pages
    visit = contexts[size]
    page = visit.page
    assert len(paths) >= 15, paths
    problems = []
    for path in paths:
        visit.goto(path)  # screenshot + axe (serious/critical fail)
        assert page.evaluate("document.documentElement.scrollWidth") <= 391, f"{path}: horizontal scroll"
        split = page.evaluate(SPLIT_NUMBERS_JS)
        assert split["checked"] > 0, f"{path}: no numbers measured"
        problems += [f"{path}: {b}" for b in split["bad"]]
        starts = page.evaluate(LINE_STARTS_JS)
        problems += [f"{path}: line starts with {ch!r} in {text!r}" for ch, text in starts["starts"] if ch in NO_LINE_START]
        if size == "large":
            assert page.locator("html.text-large").count() == 1
    assert not problems, "\n".join(problems)


def test_the_walk_sees_a_split_number(browser, live_server):
    """The measurement itself: a phone number forced to break is reported."""
    context = browser.new_context(viewport={"width": 120, "height": 600}, locale="ja-JP")
    page = context.new_page()
    page.set_content('<html lang="ja"><body style="font-size:16px;word-break:break-all">'
                     '<p>電話0120-00-0000まで</p><p><span style="white-space:nowrap">0120-00-0000</span></p>'
                     '</body></html>')
    result = page.evaluate(SPLIT_NUMBERS_JS)
    assert result["bad"] and result["bad"][0].startswith("0120-00-0000") and result["checked"] == 2
    context.close()


@pytest.mark.parametrize("size", ["normal", "large"])
def test_first_screen_of_mypage_has_the_name_and_the_first_block(browser, live_server, size):
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP", timezone_id="Asia/Tokyo")
    if size == "large":
        context.add_cookies([{"name": "textsize", "value": "large", "url": live_server}])
    page = context.new_page()
    visit = Visit(page, live_server, f"first-screen-{size}")
    visit.login()
    assert page.url.endswith("/mypage")
    page.screenshot(path=str(visit.screenshot("first-screen").with_name(f"first-screen-{size}-viewport.png")))
    screen = VIEWPORTS["phone"]["height"]
    name = page.locator("main h1")
    assert "山田" in name.inner_text()
    assert name.bounding_box()["y"] + name.bounding_box()["height"] <= screen
    block = page.locator("main > section").first
    heading = block.locator("h2").first
    box = heading.bounding_box()
    assert box["y"] + box["height"] <= screen, f"the first block's heading ends at {box['y'] + box['height']}"
    first_item = block.locator("li, article, .card").first
    assert first_item.bounding_box()["y"] + 44 <= screen, "the first item of the first block starts below the fold"
    context.close()


FOCUS_PAGES = ["/mypage", "/coverage", "/certificates", "/profile/address", "/dev/styleguide"]


@pytest.mark.parametrize("size", ["normal", "large"])
def test_focus_ring_contrast_is_at_least_3_to_1(phone_pages, size):
    contexts, _ = phone_pages
    visit = contexts[size]
    page = visit.page
    measured = 0
    for path in FOCUS_PAGES:
        page.goto(visit.base + path)
        page.locator("body").focus()
        seen = set()
        for _ in range(60):
            page.keyboard.press("Tab")
            info = page.evaluate("""() => {
              const el = document.activeElement;
              if (!el || el === document.body) return null;
              const s = getComputedStyle(el);
              let bg = null, node = el.parentElement;
              while (node) {
                const c = getComputedStyle(node).backgroundColor;
                if (c && !c.endsWith(", 0)") && c !== "transparent") { bg = c; break; }
                node = node.parentElement;
              }
              return {key: el.outerHTML.slice(0, 80), style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                      color: s.outlineColor, bg: bg || "rgb(255, 255, 255)"};
            }""")
            if not info or info["key"] in seen:
                continue
            seen.add(info["key"])
            assert info["style"] != "none" and info["width"] >= 2, f"{path}: no focus ring on {info['key']}"
            ratio = contrast(_rgb(info["color"]), _rgb(info["bg"]))
            assert ratio >= 3, f"{path}: focus ring {info['color']} on {info['bg']} is {ratio:.2f}:1 ({info['key']})"
            measured += 1
    assert measured >= 20


def test_primary_actions_and_list_links_are_44_px(phone_pages):
    contexts, _ = phone_pages
    page = contexts["normal"].page
    small = []
    for path in ("/mypage", "/certificates", "/profile", "/profile/address", "/coverage"):
        page.goto(contexts["normal"].base + path)
        for el in page.locator(".btn-primary:visible, .tab:visible, .quick-links a:visible, .card-links a:visible, "
                               ".site-menu a:visible, .cover-contracts a:visible, .text-size button").all():
            box = el.bounding_box()
            if box and box["height"] < 44 - 0.5:
                small.append(f"{path}: {el.inner_text()[:20]!r} {box['height']:.0f}px")
    assert not small, small


def test_menu_tab_opens_the_full_menu_and_desktop_shows_it(browser, live_server):
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP")
    page = context.new_page()
    visit = Visit(page, live_server, "menu-phone")
    visit.login()
    menu = page.locator("#site-menu")
    assert not menu.is_visible()
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 844 * 0.15, f"header takes {header['height']}px"
    current = page.locator(".tabbar [aria-current=page]")
    assert current.inner_text().strip() == "ホーム"
    page.get_by_role("button", name="メニュー").click()
    assert menu.is_visible()
    visit.check("menu-open")
    page.locator("#site-menu a", has_text="保障内容").click()
    page.wait_for_url(re.compile(r".*/coverage$"))
    assert page.locator(".tabbar [aria-current=page]").inner_text().strip() == "ご契約・保障"
    context.close()
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="ja-JP")
    page = context.new_page()
    visit = Visit(page, live_server, "menu-desktop")
    visit.login()
    assert page.locator("#site-menu").is_visible() and not page.locator(".tabbar").is_visible()
    assert page.locator("#site-menu a[aria-current=page]").inner_text() == "ホーム"
    context.close()


def test_enter_in_the_address_form_goes_on_to_confirm(phone_pages):
    contexts, _ = phone_pages
    visit = contexts["normal"]
    page = visit.page
    page.goto(visit.base + "/profile/address")
    page.get_by_label("郵便番号").fill("5300001")
    page.get_by_label("市区町村").fill("大阪市北区")
    page.get_by_label("町名・番地").fill("梅田1-1-1")
    if page.locator("input[name=property_moved]").count():
        page.locator("input[name=property_moved][value=no]").check()
    with page.expect_navigation():
        page.get_by_label("町名・番地").press("Enter")  # not 住所を検索, the first button of the form
    assert page.locator("main h1").inner_text() == "住所の変更（確認）"


def test_no_404_for_icons_or_files(browser, live_server):
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP")
    page = context.new_page()
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    visit = Visit(page, live_server, "no-404")
    visit.login()
    for path in ("/mypage", "/coverage", "/dev/styleguide"):
        page.goto(live_server + path)
        page.wait_for_load_state("load")
    assert not missing, missing
    context.close()


def test_styleguide_at_both_text_sizes(phone_pages):
    contexts, _ = phone_pages
    for size, visit in contexts.items():
        visit.goto("/dev/styleguide")
        visit.page.screenshot(path=str(visit.screenshot(f"styleguide-{size}")), full_page=True)
