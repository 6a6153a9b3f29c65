import pytest

from portal.jp import JpValueError
from portal.jp.phone import format_phone, mask_phone, parse_phone


@pytest.mark.parametrize("raw", [
    "09012340002", "090-1234-0002", "０９０－１２３４－０００２", "090ー1234ー0002",
    "090 1234 0002", "(090)1234-0002", "+81 90-1234-0002", "+819012340002",
])
def test_mobile_number_in_every_form(raw):
    phone = parse_phone(raw)
    assert phone.national == "09012340002"
    assert phone.e164 == "+819012340002"
    assert phone.is_mobile is True
    assert phone.can_receive_sms is True
    assert phone.masked == "090-****-0002"
    assert phone.formatted == "090-1234-0002"


@pytest.mark.parametrize("national", ["06012345678", "07012345678", "08012345678", "09099998888"])
def test_mobile_prefixes(national):
    phone = parse_phone(national)
    assert phone.is_mobile
    assert phone.e164 == "+81" + national[1:]


def test_fixed_line_is_not_mobile_but_takes_voice():
    phone = parse_phone("03-1234-5678")
    assert phone.national == "0312345678"
    assert phone.e164 == "+81312345678"
    assert phone.is_mobile is False
    assert phone.can_receive_sms is False
    assert phone.can_receive_voice is True
    assert phone.masked == "03-****-5678"


@pytest.mark.parametrize("national, voice", [
    ("05012345678", True),   # IP phone
    ("0120123456", False),   # toll free
    ("0570123456", False),   # navi dial
    ("02012345678", False),  # pager / M2M
])
def test_other_number_kinds_are_not_mobile(national, voice):
    phone = parse_phone(national)
    assert phone.is_mobile is False
    assert phone.can_receive_voice is voice


@pytest.mark.parametrize("raw", [
    "9012340002",       # leading 0 missing
    "090-1234-000",     # too short
    "090-1234-00021",   # too long
    "09612345678",      # not an allocated range
    "+1 650 253 0000",  # not Japanese
    "abc",
    "090-1234-OOO2",    # letter O
])
def test_invalid_numbers(raw):
    with pytest.raises(JpValueError) as e:
        parse_phone(raw)
    assert e.value.message == "電話番号の形式が正しくありません"


def test_empty_number():
    with pytest.raises(JpValueError) as e:
        parse_phone(" ")
    assert e.value.message == "電話番号を入力してください"


def test_mobile_only():
    assert parse_phone("080-1111-2222", mobile_only=True).is_mobile
    with pytest.raises(JpValueError) as e:
        parse_phone("03-1234-5678", mobile_only=True)
    assert e.value.message == "携帯電話番号（060・070・080・090で始まる11桁）を入力してください"


def test_format_and_mask():
    assert format_phone("09012340002") == "090-1234-0002"
    assert format_phone("0662123456") == "06-6212-3456"
    assert format_phone("0120444444") == "0120-444-444"
    assert mask_phone("09012340002") == "090-****-0002"
    assert mask_phone("0662123456") == "06-****-3456"
    assert mask_phone("0120123456") == "0120-**3-456"
