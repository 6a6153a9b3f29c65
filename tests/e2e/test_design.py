"""The phone experience, measured in Chromium: every member page at 390 px in both
text sizes (screenshots + axe), numbers never split across lines, phrase-broken
headings without a forbidden line start, the first screen of My Page, focus rings
of at least 3:1, 44-px tap targets, the menu, Enter in the address form, no 404s.
"""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import VIEWPORTS, Visit

# Every member page: these paths, and one page of each kind found by following a link.
MEMBER_PAGES = ["/mypage", "/contracts", "/contracts/100000000101", "/coverage", "/requests", "/profile",
                "/profile/address", "/profile/phone", "/profile/email", "/profile/bank-account",
                "/profile/notifications", "/certificates", "/enroll", "/shop", "/shop/orders", "/tips",
                "/voices/new", "/voices", "/account/security", "/documents", "/help", "/help/inquiries/new",
                "/claims", "/claims/new", "/claims/damage/new", "/claims/paper-forms",
                "/contracts/100000000101/cancel", "/contracts/100000000101/beneficiary", "/changes/name",
                "/changes/proxy-claimant", "/changes/withdrawal", "/changes/cooling-off"]
LINKED_PAGES = {"/requests": "main a[href^='/requests/']", "/tips": "a[href^='/tips/']:not([href*='category'])",
                "/shop": "a[href^='/shop/KC']", "/claims": "main li a[href^='/claims/']",
                "/documents": "a[href^='/documents/letters/']", "/help": "a[href^='/help/inquiries/']:not([href$='/new'])",
                "/shop/orders": "main a[href^='/shop/orders/']:not([href$='.pdf'])"}
# What is not a page (files, data for scripts, probes). Every page a member can open
# is walked here or reached by a flow in test_design_flows.py (FLOW_STEPS).
NOT_PAGES = {
    "certificates.download", "claims.file", "claims.certificate_form", "documents.product_pdf", "profile.banks_json",
    "profile.branches_json", "profile.postal_json", "shop.receipt_pdf", "tips.image", "core.favicon", "core.healthz",
    "core.readyz", "core.metrics", "core.bare",
}

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

# The box of each visible character of an element, in reading order (spaces and text
# meant for screen readers only left out): the measure of the checks below.
CHAR_BOXES = r"""
  const charBoxes = el => {
    const boxes = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.parentElement.closest(".visually-hidden")) continue;
      for (let i = 0; i < node.data.length; i++) {
        if (!node.data[i].trim()) continue;
        const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
        const r = range.getBoundingClientRect();
        if (r.height) boxes.push({node, i, r});
      }
    }
    return boxes;
  };
"""

LINE_STARTS_JS = "() => {" + CHAR_BOXES + r"""
  const starts = [];
  let wrapped = 0;
  for (const h of document.querySelectorAll("main h1, main h2, main h3, .tab, main label, main legend, main .btn, .steps li")) {
    if (!h.getClientRects().length) continue;
    let prevTop = null, lines = 0;
    for (const {node, i, r} of charBoxes(h)) {
      if (prevTop !== null && r.top > prevTop + r.height / 2) { starts.push([node.data[i], h.textContent.trim().slice(0, 40)]); lines++; }
      prevTop = r.top;
    }
    if (lines) wrapped++;
  }
  return {starts, wrapped};
}
"""

# Enter in a field presses the form's first submit button: in a form with a main
# action (.btn-primary, or .btn-danger for a cancellation) and other buttons, that
# first button must be the main one or the unseen copy of it (.default-button).
DEFAULT_BUTTON_JS = r"""
() => {
  const bad = [];
  for (const form of document.querySelectorAll("main form")) {
    const submits = [...form.elements].filter(e => e.type === "submit" && (e.tagName === "BUTTON" || e.tagName === "INPUT"));
    if (submits.length < 2 || !submits.some(b => b.matches(".btn-primary, .btn-danger"))) continue;
    if (!submits[0].matches(".btn-primary, .btn-danger, .default-button"))
      bad.push(`Enter presses ${submits[0].textContent.trim() || submits[0].value} (${form.getAttribute("action") || "this page"})`);
  }
  return bad;
}
"""

# Text is read line after line: in a link, heading, label or button a later character
# never sits above an earlier line (as when a flex box sets a sentence's pieces side by side).
TEXT_GOES_BACK_UP_JS = "() => {" + CHAR_BOXES + r"""
  const bad = [];
  for (const el of document.querySelectorAll("main a, main h1, main h2, main h3, main label, main .btn")) {
    if (!el.getClientRects().length) continue;
    let lowest = null;
    for (const {r} of charBoxes(el)) {
      if (lowest !== null && r.bottom < lowest - r.height / 2) {
        bad.push(`text set side by side in columns: ${el.textContent.replace(/\s+/g, " ").trim().slice(0, 40)}`);
        break;
      }
      lowest = lowest === null ? r.top : Math.max(lowest, r.top);
    }
  }
  return bad;
}
"""

# On a phone the buttons of a form stack: the main one comes first, where the eye and
# the thumb are, and 戻る below it.
PRIMARY_FIRST_JS = r"""
() => [...document.querySelectorAll("main .actions")]
  .filter(group => {
    const buttons = [...group.querySelectorAll(".btn")].filter(b => b.getClientRects().length);
    const main = buttons.findIndex(b => b.matches(".btn-primary"));
    return main > 0;
  })
  .map(group => `the main button is not first: ${group.textContent.replace(/\s+/g, " ").trim().slice(0, 40)}`)
"""

# A card is one thing with one link to it: two links in a card that go to the same
# place (a title and a "see details" below it) make a reader wonder which to take.
ONE_LINK_PER_CARD_JS = r"""
() => {
  const bad = [];
  for (const card of document.querySelectorAll("main .card")) {
    const seen = new Set();
    for (const a of card.querySelectorAll("a[href]")) {
      if (a.parentElement.closest(".card") !== card) continue;
      const href = a.getAttribute("href").split(/[?#]/)[0];
      if (seen.has(href)) bad.push(`two links to ${href} in one card (${card.textContent.trim().slice(0, 30)})`);
      seen.add(href);
    }
  }
  return bad;
}
"""

# The facts a page gives outside tools: its description, title, and machine-readable times.
PAGE_FACTS_JS = r"""
() => ({
  description: (document.querySelector('meta[name="description"]') || {}).content || "",
  title: document.title,
  times: [...document.querySelectorAll("time[datetime]")].map(t => t.getAttribute("datetime")),
})
"""
# The forms of a valid datetime attribute the portal writes: a month, a date, or a
# moment to the second with its offset (no fractions of a second).
VALID_DATETIME = re.compile(r"\d{4}-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2}))?)?")

# Step names and tab labels break only between phrases (at a <wbr>, which ends a
# text node, or after punctuation such as ・), never inside one: お支払/い方法 is reported.
PHRASE_BREAKS_JS = "() => {" + CHAR_BOXES + r"""
  const bad = [];
  for (const el of document.querySelectorAll(".steps .step-name, .tab")) {
    if (!el.getClientRects().length) continue;
    let prevTop = null;
    for (const {node, i, r} of charBoxes(el)) {
      if (prevTop !== null && r.top > prevTop + r.height / 2 && i > 0 && !"・、。，）」』 　/".includes(node.data[i - 1]))
        bad.push(node.data.slice(0, i) + "/" + node.data.slice(i));
      prevTop = r.top;
    }
  }
  return bad;
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


def phone_visit(browser, base: str, size: str, name: str) -> Visit:
    """A 390-px browser at this text size; visit.errors collects console errors and uncaught
    script errors, with the page they came from."""
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP", timezone_id="Asia/Tokyo")
    if size == "large":
        context.add_cookies([{"name": "textsize", "value": "large", "url": base}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    visit = Visit(page, base, name)
    visit.errors = []
    page.on("console", lambda m: visit.errors.append(f"{m.text} ({m.location.get('url')})") if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(f"uncaught: {e}"))
    return visit


@pytest.fixture(scope="module")
def phone_pages(browser, live_server):
    """Signed-in phone contexts at both text sizes, and the member pages this app has."""
    contexts = {}
    for size in ("normal", "large"):
        visit = phone_visit(browser, live_server, size, f"member-pages-{size}")
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
                paths.append(link.get_attribute("href").split("#")[0])
    yield contexts, paths
    for visit in contexts.values():
        visit.page.context.close()


def test_the_walk_covers_every_member_page(phone_pages):
    """A page added to the app is walked, reached by a flow (FLOW_STEPS), or listed in NOT_PAGES."""
    from portal import create_app

    _, paths = phone_pages
    app = create_app({"PORTAL_ENV": "test", "PORTAL_DATABASE_URL": "sqlite://"})
    adapter = app.url_map.bind("localhost")
    walked = {adapter.match(path.split("?")[0], method="GET")[0] for path in paths}
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.rule.startswith(("/staff", "/static", "/dev"))}
    from tests.e2e.test_design_flows import FLOW_STEPS

    assert pages - walked - set(FLOW_STEPS) - NOT_PAGES == set(), "member pages neither walked nor reached by a flow"
    assert NOT_PAGES | set(FLOW_STEPS) <= pages, f"names of endpoints that no longer exist: {(NOT_PAGES | set(FLOW_STEPS)) - pages}"


def page_problems(page, path: str, descriptions: dict[str, set[str]]) -> list[str]:
    """The walk's checks on the page shown (after Visit.check's screenshot and axe): what a
    member would notice, as lines to report; `descriptions` collects each page's description."""
    problems = []
    facts = page.evaluate(PAGE_FACTS_JS)
    if len(facts["description"]) < 20:
        problems.append(f"{path}: meta description {facts['description']!r}")
    descriptions.setdefault(facts["description"], set()).add(facts["title"])
    problems += [f"{path}: <time datetime={v!r}>" for v in facts["times"] if not VALID_DATETIME.fullmatch(v)]
    problems += [f"{path}: {b}" for b in page.evaluate(DEFAULT_BUTTON_JS)]
    problems += [f"{path}: {b}" for b in page.evaluate(ONE_LINK_PER_CARD_JS)]
    problems += [f"{path}: {b}" for b in page.evaluate(PRIMARY_FIRST_JS)]
    problems += [f"{path}: {b}" for b in page.evaluate(TEXT_GOES_BACK_UP_JS)]
    problems += [f"{path}: broken inside a phrase: {b}" for b in page.evaluate(PHRASE_BREAKS_JS)]
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 391:
        problems.append(f"{path}: horizontal scroll ({width}px wide)")
    split = page.evaluate(SPLIT_NUMBERS_JS)
    if not split["checked"]:
        problems.append(f"{path}: no numbers measured")
    problems += [f"{path}: {b}" for b in split["bad"]]
    starts = page.evaluate(LINE_STARTS_JS)
    problems += [f"{path}: line starts with {ch!r} in {text!r}" for ch, text in starts["starts"] if ch in NO_LINE_START]
    return problems


def shared_descriptions(descriptions: dict[str, set[str]]) -> dict[str, set[str]]:
    return {d: titles for d, titles in descriptions.items() if len(titles) > 1}


@pytest.mark.parametrize("size", ["normal", "large"])
def test_every_member_page_at_390_px(phone_pages, size):
    """Screenshot, axe, no horizontal scroll, no split number, 禁則 at phrase breaks."""
    contexts, paths = phone_pages
    visit = contexts[size]
    page = visit.page
    assert len(paths) >= 15, paths
    problems, descriptions = [], {}
    for path in paths + ["/dev/styleguide"]:
        visit.errors.clear()
        visit.goto(path)  # screenshot + axe (serious/critical fail)
        problems += [f"{path}: console: {e}" for e in visit.errors]
        problems += page_problems(page, path, descriptions)
    if size == "large":
        assert page.locator("html.text-large").count() == 1
    shared = shared_descriptions(descriptions)
    assert not shared, f"pages with different titles share one description: {shared}"
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


def test_the_walk_sees_a_wrong_default_button_and_a_bad_datetime(browser):
    """The page checks themselves: a search button ahead of the main one, microseconds in a time."""
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP")
    page = context.new_page()
    page.set_content('<html lang="ja"><head><meta name="description" content="見本のページです。">'
                     '<title>見本</title></head><body><main>'
                     '<form action="/a"><input name="q"><button class="btn">住所を検索</button>'
                     '<button class="btn btn-primary">確認画面へ進む</button></form>'
                     '<form action="/b"><button class="default-button" tabindex="-1">次へ</button><input name="q">'
                     '<button class="btn">住所を検索</button><button class="btn btn-primary">確認画面へ進む</button></form>'
                     '<time datetime="2026-11-30T10:02:03.456789+09:00">11月30日</time>'
                     '<time datetime="2026-11-30">11月30日</time></main></body></html>')
    assert page.evaluate(DEFAULT_BUTTON_JS) == ["Enter presses 住所を検索 (/a)"]
    facts = page.evaluate(PAGE_FACTS_JS)
    assert facts["description"] == "見本のページです。" and facts["title"] == "見本"
    assert [bool(VALID_DATETIME.fullmatch(v)) for v in facts["times"]] == [False, True]
    page.set_content('<main><ul><li class="card"><h3><a href="/c/1">共済</a></h3><p><a href="/c/1#x">詳細を見る</a></p></li>'
                     '<li class="card"><h3><a href="/c/2">共済</a></h3><a href="/c/2/certificate">証書</a></li></ul></main>')
    assert page.evaluate(ONE_LINK_PER_CARD_JS) == ["two links to /c/1 in one card (共済詳細を見る)"]
    page.set_content('<main><div class="actions"><a class="btn" href="/a">戻る</a><button class="btn btn-primary">次へ</button></div>'
                     '<div class="actions"><button class="btn btn-primary">申し込む</button><a class="btn" href="/b">戻る</a></div></main>')
    assert page.evaluate(PRIMARY_FIRST_JS) == ["the main button is not first: 戻る次へ"]
    page.set_content('<main style="width:300px"><ul><li><a href="/n" style="display:inline-flex">お知らせの長い本文（受付番号'
                     '<span style="white-space:nowrap">R2612-ABCDEFGH</span>）は「受付済み」です。</a></li>'
                     '<li><a href="/m" style="display:inline-block">お知らせの長い本文（受付番号'
                     '<span style="white-space:nowrap">R2612-ABCDEFGH</span>）は「受付済み」です。</a></li></ul></main>')
    columns = page.evaluate(TEXT_GOES_BACK_UP_JS)  # the flex link only
    assert len(columns) == 1 and columns[0].startswith("text set side by side in columns: お知らせの長い本文"), columns
    context.close()


def test_the_walk_sees_a_break_inside_a_phrase(browser):
    context = browser.new_context(viewport={"width": 200, "height": 400}, locale="ja-JP")
    page = context.new_page()
    page.set_content('<html lang="ja"><body style="font-size:16px"><ol class="steps">'
                     '<li style="width:50px"><span class="step-name">お支払い方法</span></li>'
                     '<li style="width:70px;word-break:keep-all"><span class="step-name">お支払い<wbr>方法</span></li>'
                     '</ol></body></html>')
    bad = page.evaluate(PHRASE_BREAKS_JS)
    assert len(bad) == 1 and bad[0].startswith("お支払") and "/" in bad[0], bad
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

# Focus every control of the page in turn (after a Tab, so :focus-visible applies as
# for a keyboard user) and report its ring and the colour the ring is drawn on: the
# nearest opaque background outside the control, or the control's own with a
# negative offset.
FOCUS_RINGS_JS = r"""
() => {
  const out = [];
  const opaque = c => c && c !== "transparent" && !/rgba\([^)]*,\s*0\)$/.test(c);
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])')) {
    if (el.disabled || el.closest("[hidden], [inert]") || !el.getClientRects().length) continue;
    if (getComputedStyle(el).visibility === "hidden") continue;
    el.focus();
    if (document.activeElement !== el) continue;
    const s = getComputedStyle(el);
    let node = parseFloat(s.outlineOffset) < 0 ? el : el.parentElement, bg = "rgb(255, 255, 255)";
    for (; node; node = node.parentElement) {
      const c = getComputedStyle(node).backgroundColor;
      if (opaque(c)) { bg = c; break; }
    }
    out.push({key: el.outerHTML.slice(0, 80), visible: el.matches(":focus-visible"), style: s.outlineStyle,
              width: parseFloat(s.outlineWidth), color: s.outlineColor, bg});
  }
  return out;
}
"""


def _ring_problems(rings: list[dict], path: str) -> list[str]:
    problems = []
    for ring in rings:
        if not ring["visible"] or ring["style"] == "none" or ring["width"] < 2:
            problems.append(f"{path}: no focus ring on {ring['key']}")
            continue
        ratio = contrast(_rgb(ring["color"]), _rgb(ring["bg"]))
        if ratio < 3:
            problems.append(f"{path}: focus ring {ring['color']} on {ring['bg']} is {ratio:.2f}:1 ({ring['key']})")
    return problems


@pytest.mark.parametrize("size", ["normal", "large"])
def test_focus_ring_contrast_is_at_least_3_to_1(phone_pages, size):
    """Every focusable control of every member page (both text sizes on the main ones)."""
    contexts, paths = phone_pages
    visit = contexts[size]
    page = visit.page
    problems, backgrounds, measured = [], set(), 0
    for path in (paths + ["/dev/styleguide"] if size == "normal" else FOCUS_PAGES):
        page.goto(visit.base + path)
        page.locator("body").focus()
        page.keyboard.press("Tab")  # from here on focus is shown as for a keyboard user
        rings = page.evaluate(FOCUS_RINGS_JS)
        problems += _ring_problems(rings, path)
        backgrounds |= {ring["bg"] for ring in rings}
        measured += len(rings)
    print(f"focus rings: {measured} controls on {len(backgrounds)} backgrounds: {sorted(backgrounds)}")
    assert measured >= 100 and len(backgrounds) >= 3, (measured, backgrounds)
    assert "rgb(122, 16, 16)" in backgrounds, "the acting banner's dark red (in the style guide) was not measured"
    assert not problems, "\n".join(problems)


def test_focus_ring_walk_sees_a_faint_ring(browser):
    """The measurement itself: a pale ring on white, and a control without one, are reported."""
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="ja-JP")
    page = context.new_page()
    page.set_content('<html lang="ja"><body style="background:#fff"><a href="#a" style="outline:2px solid #9ec5ee">a</a>'
                     '<div style="background:#0b5cad"><button style="outline:3px solid #111827">b</button></div>'
                     '<a href="#c" style="outline:none">c</a><a href="#d" style="outline:3px solid #111827">d</a></body></html>')
    page.locator("body").focus()
    page.keyboard.press("Tab")
    problems = _ring_problems(page.evaluate(FOCUS_RINGS_JS), "sample")
    assert len(problems) == 3, problems
    assert "is 1.80:1" in problems[0] and "rgb(11, 92, 173)" in problems[1] and "no focus ring" in problems[2]
    context.close()


# Primary actions, navigation, and links that are a whole list item (the item is
# the link, as in a list of contracts or letters): at least 44 px high.
TAP_TARGETS_JS = r"""
() => {
  const small = [];
  const targets = [...document.querySelectorAll(".btn-primary, .tab, .quick-links a, .card-links a, .site-menu a, " +
                                                 ".cover-contracts a, .text-size button, main li > a")]
    .filter(el => !el.matches("main li > a") || el.parentElement.textContent.trim() === el.textContent.trim());
  for (const el of targets) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    const box = el.getBoundingClientRect();
    if (box.height < 43.5) small.push(`${el.textContent.trim().slice(0, 20)} ${Math.round(box.height)}px`);
  }
  return {small, checked: targets.length};
}
"""


def test_primary_actions_and_list_links_are_44_px(phone_pages):
    contexts, paths = phone_pages
    page = contexts["normal"].page
    small, checked = [], 0
    for path in paths:
        page.goto(contexts["normal"].base + path)
        found = page.evaluate(TAP_TARGETS_JS)
        small += [f"{path}: {item}" for item in found["small"]]
        checked += found["checked"]
    assert checked > 100
    assert not small, "\n".join(small)


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
