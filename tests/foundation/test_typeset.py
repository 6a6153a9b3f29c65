"""Japanese typesetting: phrase breaks for short texts, numbers never split."""
from __future__ import annotations

import re

import pytest

from portal.jp.typeset import NO_LINE_START, nowrap, phrases, typeset_html


def test_numbers_dates_and_phone_numbers_become_one_unbreakable_span():
    html = typeset_html("<p>2026年11月30日 10:15 受付、0120-00-0000 まで。掛金 12,340円／月、3件</p>")
    html += typeset_html("<p>受付番号 R2612-XSTYVQPY、C-2026-0001 の件</p>")
    for token in ("2026年11月30日 10:15", "0120-00-0000", "12,340円／月", "3件", "R2612-XSTYVQPY", "C-2026-0001"):
        assert f'<span class="nowrap">{token}</span>' in html
    assert "受付、" in html  # the words around them are untouched


def test_a_masked_phone_number_stays_whole():
    html = typeset_html("<h2>認証コードを送信しました（090-****-0001）</h2>")
    assert '<span class="nowrap">090-****-0001</span>' in html


def test_headings_labels_and_buttons_get_breaks_between_phrases_only():
    html = typeset_html('<h1>認証コードの入力</h1><label for="x">被共済者別の保障内容</label>'
                        '<button>住所を検索する</button><p>本文の認証コードの入力</p>')
    assert '<h1><span class="phrases">認証コードの<wbr>入力</span></h1>' in html
    assert "被共済者別の<wbr>保障内容</span></label>" in html
    assert "<p>本文の認証コードの入力</p>" in html  # body text is left to the browser
    assert "認証コー<wbr>" not in html


def test_no_phrase_starts_with_a_small_kana_or_a_closing_bracket():
    samples = ["掛金の合計（保障中のご契約）", "ちょっとした暮らしのお役立ち情報", "「ご契約のしおり」をご確認ください。",
               "ショッピングで使えるクーポン", "お支払いまでの流れ・ご注意ください！"]
    for text in samples:
        html = str(phrases(text)).removeprefix('<span class="phrases">').removesuffix("</span>")
        parts = re.sub(r"<[^>]+>", "\x00", html).split("\x00")
        for part in parts[1:]:
            assert part and part[0] not in NO_LINE_START, (text, parts)


def test_raw_elements_attributes_and_existing_nowrap_are_left_alone():
    source = ('<input value="2026-11-30"><textarea>0120-00-0000</textarea><script>var a = "12,000円";</script>'
              '<a title="03-1234-5678" href="/x?y=1>2">x</a><span class="nowrap">山田 太郎 090-1234-5678</span>'
              '<div class="no-typeset">2026年1月1日</div><!-- 2026年 -->')
    assert typeset_html(source) == source


def test_escaped_text_stays_escaped():
    out = typeset_html("<h2>&lt;script&gt;1,000円 &amp; 「特約」</h2>")
    assert "&lt;script&gt;" in out and "&amp;" in out and "<script>" not in out
    assert '<span class="nowrap">1,000円</span>' in out


def test_nowrap_filter_escapes():
    assert str(nowrap("山田 <太郎>")) == '<span class="nowrap">山田 &lt;太郎&gt;</span>'
    assert str(nowrap(None)) == ""


def test_odd_text_never_fails():
    for text in ["\x00\x01", "9" * 5000, "<<<>>>", "<h1", "</h1></h1>", "＜ｈ１＞", "\ud7ff" * 3]:
        typeset_html(text)
        phrases(text)


@pytest.fixture
def typeset_client(make_app):
    return make_app(TYPESET_HTML=True).test_client()


def test_pages_are_typeset_when_served(typeset_client):
    html = typeset_client.get("/signup").text
    assert '<span class="nowrap">0120-00-0000</span>' in html
    assert re.search(r'<(h1|h2|legend|label)[^>]*><span class="phrases">[^<]*<wbr>', html)
    assert 'aria-current="step"' in html


# A page is typeset piece by piece (cut after each ">" that ends a line) with the
# pieces remembered; the result must be exactly one pass over the whole source.
TRICKY_SOURCES = [
    '<!doctype html>\n<html lang="ja">\n<h1>認証コードの入力</h1>\n<p>2026年11月30日</p>\n',
    # a tag whose quoted attribute holds ">" and a line break
    '<p>\n<a title="<b>\n">1,000円</a>\n<b>\n2,000円</b>\n</p>\n',
    # a comment across the cut: the "<b>" inside it is no tag
    '<div>\n<!-- <b>\n 3件 -->\n<h2>保障内容の確認</h2>\n</div>\n',
    '<div>\n<![CDATA[ <b>\n 4件 ]]>\n<h2>5件</h2>\n',
    # raw text: a script that compares, a textarea that holds a cut tag
    '<script>\nif (a <b>\n1) {}\n</script>\n<p>6件</p>\n',
    '<textarea>\n<h1>\n7件</textarea>\n<h1>お申し込み内容の確認</h1>\n',
    # unclosed and stray tags across lines; text with "<" that opens nothing
    '<section>\n<h3>\n8件\n</section>\n</h3>\n<p>a < b で 9件</p>\n<th>\n10円\n',
    # a ">" that ends a line inside text: the text node is not cut
    '<p>\nA >\n13件</p>\n<h2>ご契約 >\n一覧</h2>\n',
    '<span class="nowrap">\n11件\n</span>\n12件<label>\n受付番号 R2612-XSTYVQPY の件</label>\n',
]


@pytest.mark.parametrize("source", TRICKY_SOURCES)
@pytest.mark.parametrize("all_phrases", [False, True])
def test_typesetting_in_pieces_is_exactly_one_pass(source, all_phrases):
    from portal.jp.typeset import _typeset_pass
    whole = _typeset_pass(source, ((), False, all_phrases, False))[0]
    assert typeset_html(source, all_phrases=all_phrases) == whole
    assert typeset_html(source, all_phrases=all_phrases) == whole  # again, from the remembered pieces


def test_served_pages_are_exactly_one_pass_and_mostly_remembered(make_app):
    from portal.jp.typeset import _typeset_pass, _typeset_piece
    client = make_app(TYPESET_HTML=False).test_client()
    pages = [client.get(path).text for path in ("/login", "/signup", "/help")]
    for source in pages:
        assert typeset_html(source) == _typeset_pass(source, ((), False, False, False))[0]
        before = _typeset_piece.cache_info()
        typeset_html(source)
        after = _typeset_piece.cache_info()
        assert after.misses - before.misses <= 2  # only what changed is typeset again
        assert after.hits - before.hits >= source.count(">\n") - 2
