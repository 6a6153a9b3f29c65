"""Every hostile payload (in input and in output) comes out inert."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from portal.tips.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown, sanitize_html


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collector()
    parser.feed(html)
    return parser.elements


def assert_inert(html: str) -> None:
    """Only allowed tags and attributes; no handler, no style; URLs http(s)/mailto or relative."""
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, html)
            assert name != "style", html
            allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
            assert name in allowed, (tag, name, html)
            if name in ("href", "src"):
                squeezed = "".join(ch for ch in (value or "") if ch > " ").lower()
                scheme = urlsplit(squeezed).scheme
                assert scheme in ("", "http", "https", "mailto"), (value, html)
                assert "script" not in squeezed and not squeezed.startswith("data"), (value, html)
    lowered = html.lower()
    for tag in ("<script", "<iframe", "<svg", "<object", "<embed", "<style", "<math"):
        assert tag not in lowered, (tag, html)  # escaped text (&lt;script&gt;) is fine, a real tag is not


MARKDOWN_PAYLOADS = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](   javascript:alert(1))",
    "[click]( \tjavascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](javascript%3Aalert(1))",
    "<javascript:alert(1)>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "[ref]\n\n[ref]: data:text/html,<script>alert(1)</script>",
    "![img](javascript:alert(1))",
    "![img](data:image/png;base64,iVBORw0KGgo=)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x](https://example.jp/a.png "title\\" onerror=\\"alert(1)")',
    '[x](https://example.jp "t\\" onmouseover=\\"alert(1)")',
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<script>alert(1)</script>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<p style=\"position:fixed;top:0\">overlay</p>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<div onclick=alert(1)>x</div>",
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    "<style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "```\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
]


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_markdown_payloads_render_inert(payload):
    html = str(render_markdown(payload))
    assert_inert(html)


def test_dangerous_links_lose_their_target():
    for payload in ("[click](JaVaScRiPt:alert(1))", "[click](java&#x09;script:alert(1))",
                    "[click](&#106;avascript:alert(1))", "[click](   javascript:alert(1))"):
        html = str(render_markdown(payload))
        assert "href" not in html, html


def test_data_image_is_dropped():
    html = str(render_markdown("![img](data:image/png;base64,iVBORw0KGgo=)"))
    assert "src" not in html and "data:" not in html


def test_raw_html_is_shown_as_text_not_run():
    html = str(render_markdown("<img src=x onerror=alert(1)>"))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


HTML_PAYLOADS = [
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="java%09script:alert(1)">x</a>',
    '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>',
    '<img src="data:image/png;base64,AAAA">',
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<script>alert(1)</script>",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="color:red" class="x" id="y">s</p>',
]


@pytest.mark.parametrize("payload", HTML_PAYLOADS)
def test_sanitizer_alone_neutralises_raw_html(payload):
    """Defence in depth: even if Markdown let raw HTML through, nh3 would make it inert."""
    html = sanitize_html(payload)
    assert_inert(html)


def test_good_markdown_survives_with_safe_links():
    html = str(render_markdown(
        "# 見出し\n\n**太字** と *斜体*\n\n- 箇条書き\n\n1. 番号\n\n> 引用\n\n"
        "[厚労省](https://www.mhlw.go.jp/) [メール](mailto:info@example.jp) [内部](/tips/other)\n\n"
        "![写真](/tips/images/abc.png)"))
    assert "<h2>見出し</h2>" in html  # the page title is the only h1
    assert "<strong>太字</strong>" in html and "<em>斜体</em>" in html
    assert "<blockquote>" in html and "<li>箇条書き</li>" in html
    assert '<a href="https://www.mhlw.go.jp/" rel="noopener noreferrer">厚労省</a>' in html
    assert 'href="mailto:info@example.jp"' in html and 'href="/tips/other"' in html
    assert '<img src="/tips/images/abc.png" alt="写真">' in html
    assert_inert(html)
