import pytest

from portal.jp import JpValueError
from portal.jp.bank import (
    AccountType,
    find_bank,
    find_branch,
    normalize_account_number,
    normalize_holder_name,
    parse_account_type,
    search_banks,
    search_branches,
    yucho_to_branch_account,
)

# ---------------------------------------------------------------- banks and branches


def test_find_bank():
    assert find_bank("0001").name == "みずほ"
    assert find_bank("０００５").kana == "ミツビシユ－エフジエイ"
    assert find_bank("9900").name == "ゆうちょ"


def test_find_bank_errors():
    with pytest.raises(JpValueError) as e:
        find_bank("12")
    assert e.value.message == "金融機関コードは4桁の数字で入力してください"
    with pytest.raises(JpValueError) as e:
        find_bank("abcd")
    assert e.value.message == "金融機関コードは4桁の数字で入力してください"
    with pytest.raises(JpValueError) as e:
        find_bank("0002")
    assert e.value.message == "金融機関コード「0002」の金融機関が見つかりません"


def test_find_branch():
    branch = find_branch("0001", "001")
    assert (branch.bank_code, branch.code, branch.name) == ("0001", "001", "東京営業部")
    assert find_branch("9900", "０１８").kana == "ゼロイチハチ"


def test_find_branch_errors():
    with pytest.raises(JpValueError) as e:
        find_branch("0001", "1")
    assert e.value.message == "支店コードは3桁の数字で入力してください"
    with pytest.raises(JpValueError) as e:
        find_branch("0001", "999")
    assert e.value.message == "みずほに支店コード「999」の支店が見つかりません"


@pytest.mark.parametrize("query", ["みずほ", "ミズホ", "ﾐｽﾞﾎ", "みずほ銀行", "ミズホギンコウ"])
def test_search_banks_by_name_in_any_script(query):
    assert search_banks(query)[0].code == "0001"


@pytest.mark.parametrize("query", ["ゆうちょ", "ユウチョ", "ﾕｳﾁｮ", "ゆうちよ"])
def test_search_banks_small_kana(query):
    assert search_banks(query)[0].code == "9900"


def test_search_banks_by_code_prefix():
    found = search_banks("000")
    assert [b.code for b in found[:3]] == ["0001", "0005", "0009"]
    assert all(b.code.startswith("000") for b in found)
    assert [b.code for b in search_banks("０００１")] == ["0001"]


def test_search_banks_kanji_substring_and_limit():
    names = [b.name for b in search_banks("三菱")]
    assert names[0].startswith("三菱")
    assert len(search_banks("信金", limit=5)) == 5
    assert search_banks("") == []
    assert search_banks("存在しない銀行名") == []


def test_search_banks_credit_union_long_name():
    assert any(b.code == "1310" for b in search_banks("さわやか信用金庫"))


def test_search_branches():
    codes = [b.code for b in search_branches("0001", "しぶや")]
    assert codes[0] == "210"
    assert [b.code for b in search_branches("0001", "渋谷支店")][0] == "210"
    assert [b.code for b in search_branches("9900", "01")] == ["018", "019"]
    assert len(search_branches("9900", "", limit=3)) == 3


# ---------------------------------------------------------------- account number and type


@pytest.mark.parametrize("raw, expected", [
    ("1234567", "1234567"),
    ("123", "0000123"),
    ("１２３４５６７", "1234567"),
    ("1", "0000001"),
    ("012-3456", "0123456"),
])
def test_normalize_account_number(raw, expected):
    assert normalize_account_number(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("", "口座番号を入力してください"),
    ("12345678", "口座番号は数字7桁以内で入力してください"),
    ("12a", "口座番号は数字7桁以内で入力してください"),
    ("0000000", "口座番号が正しくありません"),
])
def test_normalize_account_number_errors(raw, message):
    with pytest.raises(JpValueError) as e:
        normalize_account_number(raw)
    assert e.value.message == message


@pytest.mark.parametrize("raw, expected", [
    ("1", AccountType.ORDINARY), (1, AccountType.ORDINARY), ("普通", AccountType.ORDINARY),
    ("２", AccountType.CURRENT), ("当座預金", AccountType.CURRENT),
    (4, AccountType.SAVINGS), ("貯蓄", AccountType.SAVINGS),
])
def test_parse_account_type(raw, expected):
    assert parse_account_type(raw) is expected


def test_account_type_codes_and_labels():
    assert [(int(t), t.label) for t in AccountType] == [(1, "普通"), (2, "当座"), (4, "貯蓄")]
    with pytest.raises(JpValueError) as e:
        parse_account_type("3")
    assert e.value.message == "預金種目を選択してください"


# ---------------------------------------------------------------- holder name


@pytest.mark.parametrize("raw, expected", [
    ("キュウ", "ｷﾕｳ"),
    ("ァィゥェォャュョッ", "ｱｲｳｴｵﾔﾕﾖﾂ"),
    ("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ"),
    ("ぁぃぅぇぉゃゅょっ", "ｱｲｳｴｵﾔﾕﾖﾂ"),
    ("キャ キュ キョ", "ｷﾔ ｷﾕ ｷﾖ"),
    ("ジェット", "ｼﾞｴﾂﾄ"),
    ("ヵヶヮ", "ｶｹﾜ"),
])
def test_holder_name_small_kana_become_large(raw, expected):
    assert normalize_holder_name(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("  ヤマダ   ハナコ ", "ﾔﾏﾀﾞ ﾊﾅｺ"),
    ("パパ", "ﾊﾟﾊﾟ"),
    ("ヴィヲ", "ｳﾞｲｦ"),
    ("スーパー", "ｽ-ﾊﾟ-"),
    ("ＡＢＣ　１２３", "ABC 123"),
    ("smith john", "SMITH JOHN"),
    ("カ）ミライ", "ｶ)ﾐﾗｲ"),
    ("（カ）ミライ．／－", "(ｶ)ﾐﾗｲ./-"),
])
def test_holder_name_conversions(raw, expected):
    assert normalize_holder_name(raw) == expected


@pytest.mark.parametrize("raw, char", [
    ("ヤマダ漢", "漢"),
    ("山田 タロウ", "山"),
    ("ﾀﾛｳ@ﾔﾏﾀﾞ", "@"),
    ("ﾀﾛｳ・ﾔﾏﾀﾞ", "・"),
    ("ﾀﾛｳ,ﾔﾏﾀﾞ", ","),
    ("ÉMILE", "É"),
])
def test_holder_name_refuses_the_exact_character(raw, char):
    with pytest.raises(JpValueError) as e:
        normalize_holder_name(raw)
    assert e.value.message == f"口座名義に使えない文字「{char}」が含まれています"


def test_holder_name_empty_and_too_long():
    with pytest.raises(JpValueError) as e:
        normalize_holder_name("　")
    assert e.value.message == "口座名義を入力してください"
    assert normalize_holder_name("ｱ" * 30) == "ｱ" * 30
    assert normalize_holder_name("ガ" * 15) == "ｶﾞ" * 15  # 30 half-width characters
    with pytest.raises(JpValueError) as e:
        normalize_holder_name("ガ" * 16)
    assert e.value.message == "口座名義は半角30文字以内で入力してください"


# ---------------------------------------------------------------- ゆうちょ銀行


@pytest.mark.parametrize("kigo, bangou, expected", [
    ("10100", "12345671", ("018", "1234567", AccountType.ORDINARY)),
    ("１０１００", "１２３４５６７１", ("018", "1234567", AccountType.ORDINARY)),
    ("17300", "19927651", ("738", "1992765", AccountType.ORDINARY)),
    ("10530", "12345671", ("058", "1234567", AccountType.ORDINARY)),
    ("14330", "1234561", ("438", "0123456", AccountType.ORDINARY)),  # 7-digit 番号
    ("00120", "123456", ("019", "0123456", AccountType.CURRENT)),  # 振替口座
    ("00530", "1", ("059", "0000001", AccountType.CURRENT)),
])
def test_yucho_conversion(kigo, bangou, expected):
    assert yucho_to_branch_account(kigo, bangou) == expected


def test_yucho_tsujo_chochiku_is_savings():
    assert yucho_to_branch_account("10100", "12345671", savings=True) == ("018", "1234567", AccountType.SAVINGS)


@pytest.mark.parametrize("kigo, bangou, message", [
    ("1010", "12345671", "記号は0または1で始まる5桁の数字で入力してください"),
    ("20100", "12345671", "記号は0または1で始まる5桁の数字で入力してください"),
    ("10100", "", "番号を入力してください"),
    ("10100", "12a", "番号は数字で入力してください"),
    ("10100", "123456781", "番号は8桁以内の数字で入力してください"),
    ("10100", "12345678", "番号をお確かめください（通帳の番号は末尾が「1」です）"),
    ("00120", "1234567", "振替口座の番号は6桁以内の数字で入力してください"),
    ("13000", "12345671", "記号をお確かめください（対応する店番がありません）"),  # 店番 308 does not exist
])
def test_yucho_errors(kigo, bangou, message):
    with pytest.raises(JpValueError) as e:
        yucho_to_branch_account(kigo, bangou)
    assert e.value.message == message
