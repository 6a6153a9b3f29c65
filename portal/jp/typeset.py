"""Japanese typesetting for HTML: where a line may break, and where it never may.

Browsers break Japanese between any two characters, so a heading can end a line
in the middle of a word (認証コー/ドの入力) and a date or phone number can be cut
in two (0120-00-/0000). Two rules fix that, applied to rendered HTML:

* numbers, dates, amounts and phone numbers are wrapped in
  ``<span class="nowrap">`` (one token = one unbreakable span);
* short texts (headings, labels, buttons, table headers, navigation) are split
  into phrases with BudouX and get ``<wbr>`` only between phrases; the CSS gives
  those elements ``word-break: keep-all`` so a line breaks at a ``<wbr>`` or not
  at all (and ``overflow-wrap: anywhere`` as the last resort for a long word).

A phrase never starts with a small kana, a prolonged sound mark or closing
punctuation (禁則): such a phrase is merged into the one before it.

``nowrap`` is the one filter templates use for values that must stay on one line
(names); ``typeset_html`` is what base.html applies to the whole page.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache

from markupsafe import Markup, escape

# A number with its unit, a date (西暦 or 和暦, with a time), an amount, a phone
# or postal number: everything a reader takes in as one value.
_NUM = r"\d+(?:[,.:：/／\-‐－]\d+)*"
_UNIT = r"(?:万円|円|年度|年|か月|ヶ月|カ月|月|日間|日|時間|時|分|秒|件|歳|回|枚|人|名|文字|桁|点|％|%|号|個|口|倍|部|通|週間|営業日|km|kg|cm)"
NUMBER_TOKEN = re.compile(
    # receipt and certificate numbers: R2612-XSTYVQPY, C-2026-0001; masked phones 090-****-0001
    r"(?<![A-Za-z0-9*])(?=[A-Za-z0-9*-]*\d)[A-Za-z0-9*]+(?:-[A-Za-z0-9*]+)+(?![A-Za-z0-9*])|"
    rf"(?:〒|￥|¥|第|令和|平成|昭和|大正)?{_NUM}{_UNIT}?(?:{_NUM}{_UNIT}?)*"
    rf"(?:[ 　]\d{{1,2}}[:：]\d{{2}})?"           # 2026年11月30日 10:15
    rf"(?:[（(][月火水木金土日][)）])?"           # 12月1日（月）
    rf"(?:[／/](?:月|年|日|回))?"                 # 2,000円／月
)

# Characters that may not begin a line (JIS X 4051 行頭禁則, the common set).
NO_LINE_START = set("、。，．,.・：；？！?!ー〜～…‥)）]］}｝〕〉》」』】〙〗〟’”»"
                    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々〻゛゜ゝゞヽヾ")

# Elements whose own text is short and gets phrase breaks.
PHRASE_ELEMENTS = {"h1", "h2", "h3", "h4", "label", "legend", "button", "th", "dt", "summary", "caption"}
# Elements whose text is left exactly as it is.
RAW_ELEMENTS = {"script", "style", "textarea", "title", "option", "pre", "code", "svg", "template"}
# Elements that never contain text of their own.
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                 "track", "wbr"}

# Comments, CDATA, declarations (<!doctype html>) and tags pass untouched.
_TAG = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<![a-zA-Z][^>]*>|<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
                  re.S)
_PHRASE_CLASS = re.compile(r"""class\s*=\s*["'][^"']*\b(?:btn|phrases)\b""")
_NO_TYPESET_CLASS = re.compile(r"""class\s*=\s*["'][^"']*\bno-typeset\b""")
# A "<" in text that a longer source could still turn into a tag or comment.
_MAY_OPEN_TAG = re.compile(r"<[/!a-zA-Z]")
_HAS_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")

_NOWRAP_OPEN = '<span class="nowrap">'


@lru_cache(maxsize=1)
def _parser():
    import budoux

    return budoux.load_default_japanese_parser()


def _merge_kinsoku(parts: list[str]) -> list[str]:
    merged: list[str] = []
    for part in parts:
        if merged and part and (part[0] in NO_LINE_START or part[0].isspace()):
            merged[-1] += part
        else:
            merged.append(part)
    return merged


@lru_cache(maxsize=8192)
def _phrase_breaks(text: str) -> str:
    """Escaped text with <wbr> between BudouX phrases (plain text in, HTML out)."""
    if not _HAS_JAPANESE.search(text):
        return str(escape(text))
    return "<wbr>".join(str(escape(p)) for p in _merge_kinsoku(_parser().parse(text)))


@lru_cache(maxsize=8192)
def _typeset_text(text: str, phrases: bool) -> str:
    """One run of plain text → HTML: numbers kept whole, phrase breaks when asked."""
    out: list[str] = []
    pos = 0
    for match in NUMBER_TOKEN.finditer(text):
        token = match.group(0)
        if not any(ch.isdigit() for ch in token) or len(token) < 2:
            continue  # a single digit cannot be split anyway
        before = text[pos:match.start()]
        if before:
            out.append(_phrase_breaks(before) if phrases else str(escape(before)))
        out.append(f"{_NOWRAP_OPEN}{escape(token)}</span>")
        pos = match.end()
    rest = text[pos:]
    if rest:
        out.append(_phrase_breaks(rest) if phrases else str(escape(rest)))
    joined = "".join(out)
    # One inline box: in a flex button or tab, bare text around <wbr> would become
    # separate flex items (no wrapping between them, a space in the accessible name).
    return f'<span class="phrases">{joined}</span>' if phrases and "<wbr>" in joined else joined


def phrases(value: object) -> Markup:
    """Jinja filter: phrase-aware line breaks for a short text (plain or Markup)."""
    if isinstance(value, Markup) or hasattr(value, "__html__"):
        return Markup(typeset_html(str(Markup(value)), all_phrases=True))
    return Markup(_typeset_text(str(value if value is not None else ""), True))


def nowrap(value: object) -> Markup:
    """Jinja filter: a value that must stay on one line (a name, a number, a date)."""
    if value is None or value == "":
        return Markup("")
    return Markup(f"{_NOWRAP_OPEN}{escape(value)}</span>")


# A page's typesetting state at a tag boundary: the open elements (tag, and the
# state to restore when it closes), then whether the text here is left raw, gets
# phrase breaks, or is already inside a nowrap span. Tuples: hashable, a cache key.
_State = tuple[tuple[tuple[str, bool, bool, bool], ...], bool, bool, bool]


def typeset_html(source: str, *, all_phrases: bool = False) -> str:
    """Apply both rules to the text nodes of an HTML fragment; tags pass untouched.

    Text inside RAW_ELEMENTS and inside anything marked ``class="no-typeset"`` is
    left alone; text inside PHRASE_ELEMENTS (or ``.btn`` / ``.phrases``) also gets
    phrase breaks. Text already inside a ``nowrap`` span is not split again.

    A rendered page is mostly the lines of the last one: it is cut after every
    ``>`` that ends a line, and each piece's result is remembered for the state it
    starts in (_typeset_piece), so only what changed (a name, an amount, a token)
    is typeset again. The output is exactly that of one pass over the whole source
    (_typeset_pass): a piece is only taken alone when it provably tokenizes the
    same; from the first one that does not, the rest is done in one pass.
    """
    state: _State = ((), False, all_phrases, False)
    pieces = source.split(">\n")
    last = len(pieces) - 1
    out: list[str] = []
    pos = 0
    for i, piece in enumerate(pieces):
        if i == last:
            out.append(_typeset_pass(source[pos:], state)[0] if pos < len(source) else "")
            break
        piece = f"\n{piece}>" if i else f"{piece}>"
        done = _typeset_piece(piece, state)
        if done is None:
            out.append(_typeset_pass(source[pos:], state)[0])
            break
        out.append(done[0])
        state = done[1]
        pos += len(piece)
    return "".join(out)


@lru_cache(maxsize=16384)
def _typeset_piece(piece: str, state: _State) -> tuple[str, _State] | None:
    """A piece ending in ``>``, typeset alone; None when that could differ from the
    whole page's pass. Every match of _TAG is decided by the characters up to its
    own ``>`` (quotes pair up, a comment ends at its first ``-->``), so a piece
    whose every ``<`` that could open a tag does, and whose last tag ends the
    piece, tokenizes as it does inside the page. Such a ``<`` left as text (a tag
    or comment cut by the split, ``a <b``) makes the piece refuse; ``<!doctype``
    and ``a < b`` cannot open a tag anywhere."""
    out, after, clean = _typeset_pass(piece, state, strict=True)
    return (out, after) if clean else None


def _typeset_pass(source: str, state: _State, *, strict: bool = False) -> tuple[str, _State, bool]:
    """One pass over the tags and text of `source` from `state`: (HTML, state after,
    True). With `strict`, ("", state, False) as soon as a ``<`` that could open a
    tag is text or text ends the source (see _typeset_piece)."""
    stack_tuple, raw, in_phrase, in_nowrap = state
    stack = list(stack_tuple)
    out: list[str] = []
    pos = 0
    for match in _TAG.finditer(source):
        text = source[pos:match.start()]
        if text:
            if strict and "<" in text and _MAY_OPEN_TAG.search(text):
                return "", state, False
            out.append(_text(text, raw or in_nowrap, in_phrase))
        out.append(match.group(0))
        pos = match.end()
        closing, name, attrs = match.group(1), (match.group(2) or "").lower(), match.group(3) or ""
        if not name or name in VOID_ELEMENTS or attrs.rstrip().endswith("/"):
            continue
        if closing:
            # Pop up to the matching tag; stray closing tags are ignored.
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    raw, in_phrase, in_nowrap = stack[i][1], stack[i][2], stack[i][3]
                    del stack[i:]
                    break
            continue
        stack.append((name, raw, in_phrase, in_nowrap))
        if name in RAW_ELEMENTS or _NO_TYPESET_CLASS.search(attrs):
            raw = True
        if name in PHRASE_ELEMENTS or _PHRASE_CLASS.search(attrs):
            in_phrase = True
        if name == "span" and 'class="nowrap"' in attrs:
            in_nowrap = True
    tail = source[pos:]
    if tail:
        if strict:
            return "", state, False
        out.append(_text(tail, raw or in_nowrap, in_phrase))
    return "".join(out), (tuple(stack), raw, in_phrase, in_nowrap), True


def _text(escaped: str, leave: bool, phrases_here: bool) -> str:
    if leave or not escaped.strip():
        return escaped
    if not phrases_here and not any(ch.isdigit() for ch in escaped):
        return escaped
    # The text is escaped HTML: work on the characters, escape them again after.
    return _typeset_text(html.unescape(escaped), phrases_here)
