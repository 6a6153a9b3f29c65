"""Article bodies: Markdown (CommonMark, raw HTML off) rendered, then sanitised with nh3.

Two layers on purpose. markdown-it-py with html disabled escapes any raw HTML
the editor typed and refuses javascript:/vbscript:/file: links; nh3 then keeps
only an explicit allow-list of tags and attributes and http/https/mailto URLs
(relative ones too, for links inside the portal), so even a bug in one layer
leaves the output inert.
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer"
# Tags whose content must go too (text inside <script> is never article text).
DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"}

_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _demote_h1(state) -> None:
    """The page title is the only h1; a '# heading' in the body becomes h2."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"


_markdown.core.ruler.push("demote_h1", _demote_h1)


def _is_safe_url(value: str) -> bool:
    """Second opinion on a URL after nh3: decode escapes, drop controls and spaces, check the scheme."""
    decoded = value
    for _ in range(3):  # %25 09 → %09 → tab
        decoded = unquote(decoded)
    squeezed = "".join(ch for ch in unicodedata.normalize("NFKC", decoded)
                       if not (ch.isspace() or unicodedata.category(ch).startswith("C"))).lower()
    match = _SCHEME.match(squeezed)
    if match is None:
        return True  # relative: /tips/other, #section
    return match.group(1) in URL_SCHEMES


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src") and not _is_safe_url(value):
        return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(text: str) -> Markup:
    """Markdown source → HTML safe to put in a page as is."""
    return Markup(sanitize_html(_markdown.render(text or "")))
