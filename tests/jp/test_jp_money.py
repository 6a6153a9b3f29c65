import pytest

from portal.jp.money import (
    TAX_RATE_PERCENT,
    man_yen,
    price_tax_included,
    tax_amount,
    tax_included,
    yen,
)


def test_tax_rate():
    assert TAX_RATE_PERCENT == 10


@pytest.mark.parametrize("excl, incl", [
    (6080, 6688),   # 健康チェッカー single
    (4600, 5060),
    (5500, 6050),
    (4500, 4950),
    (4599, 5058),   # 459.9 → 459
    (19, 20),       # 1.9 → 1
    (9, 9),         # 0.9 → 0
    (10, 11),
    (0, 0),
])
def test_tax_included_rounds_down(excl, incl):
    assert tax_included(excl) == incl


def test_tax_amount_and_refunds():
    assert tax_amount(6080) == 608
    assert tax_amount(4599) == 459
    assert tax_amount(-4599) == -459
    assert tax_included(-6080) == -6688


def test_only_int_yen():
    with pytest.raises(TypeError):
        tax_included(6080.0)
    with pytest.raises(TypeError):
        yen(True)


@pytest.mark.parametrize("n, text", [
    (1800, "1,800円"),
    (0, "0円"),
    (999, "999円"),
    (1234567, "1,234,567円"),
    (-500, "-500円"),
])
def test_yen(n, text):
    assert yen(n) == text


@pytest.mark.parametrize("n, text", [
    (12_000_000, "1,200万円"),
    (8_000_000, "800万円"),
    (500_000, "50万円"),
    (10_000, "1万円"),
    (9_999, "9,999円"),
    (5_000, "5,000円"),
    (15_000, "15,000円"),
    (12_345, "12,345円"),
    (100_000_000, "1億円"),
    (120_000_000, "1億2,000万円"),
])
def test_man_yen(n, text):
    assert man_yen(n) == text


def test_price_tax_included():
    assert price_tax_included(6080) == "6,688円（税込）"
    assert price_tax_included(6080, show_excl=True) == "6,688円（税抜6,080円）"
