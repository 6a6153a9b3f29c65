import pytest

from portal.jp import JpValueError
from portal.jp.text import (
    digits_only,
    enlarge_small_kana,
    kana_search_key,
    normalize,
    normalize_furigana,
    to_katakana,
)


def test_jp_value_error_is_value_error_with_message():
    exc = JpValueError("郵便番号を入力してください")
    assert isinstance(exc, ValueError)
    assert exc.message == "郵便番号を入力してください"
    assert str(exc) == "郵便番号を入力してください"


@pytest.mark.parametrize("raw, expected", [
    ("　ＡＢＣ　　１２３ ", "ABC 123"),
    ("ﾔﾏﾀﾞ\u3000ﾀﾛｳ", "ヤマダ タロウ"),
    ("a\t\n b", "a b"),
    ("", ""),
    (None, ""),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("やまだ　たろう", "ヤマダ タロウ"),
    ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
    ("ヤマダ", "ヤマダ"),
    ("きゅうしゅう", "キュウシュウ"),
    ("ｼﾞｮｰｼﾞ", "ジョージ"),
])
def test_to_katakana(raw, expected):
    assert to_katakana(raw) == expected


def test_normalize_furigana_accepts_kana_and_refuses_kanji():
    assert normalize_furigana("やまだ ﾊﾅｺ") == "ヤマダ ハナコ"
    with pytest.raises(JpValueError) as e:
        normalize_furigana("山田")
    assert e.value.message == "フリガナはカタカナまたはひらがなで入力してください"
    with pytest.raises(JpValueError) as e:
        normalize_furigana("　")
    assert e.value.message == "フリガナを入力してください"


@pytest.mark.parametrize("raw, expected", [
    ("０９０－１２３４ー０００２", "09012340002"),
    ("090-1234-0002", "09012340002"),
    ("１５１ｰ００５３", "1510053"),
    ("151 0053", "1510053"),
    ("151−0053", "1510053"),  # U+2212 minus sign
    ("", ""),
])
def test_digits_only(raw, expected):
    assert digits_only(raw) == expected


@pytest.mark.parametrize("raw", ["12a", "１２ａ", "1.5", "+81"])
def test_digits_only_refuses_other_characters(raw):
    with pytest.raises(JpValueError) as e:
        digits_only(raw)
    assert e.value.message == "数字で入力してください"


def test_kana_search_key_widths_and_scripts_match():
    assert kana_search_key("ｶﾅ") == kana_search_key("かな") == kana_search_key("カナ") == "カナ"
    assert kana_search_key("ﾐｽﾞﾎ") == kana_search_key("みずほ") == "ミズホ"


def test_kana_search_key_small_kana_dashes_spaces():
    assert kana_search_key("キュウ") == kana_search_key("キユウ") == "キユウ"
    assert kana_search_key("ﾕｰ ｴﾌ") == kana_search_key("ユ－エフ") == "ユーエフ"
    assert kana_search_key("ｕｆｊ") == "UFJ"


def test_enlarge_small_kana():
    assert enlarge_small_kana("ァィゥェォャュョッヮヵヶ") == "アイウエオヤユヨツワカケ"
