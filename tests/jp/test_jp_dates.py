from datetime import date

import pytest

from portal.jp import JpValueError
from portal.jp import dates
from portal.jp.dates import (
    add_business_days,
    age_on,
    business_day_on_or_after,
    certificate_window,
    certificate_year_open_on,
    debit_date,
    first_debit_date,
    fiscal_year,
    fiscal_year_range,
    format_date_jp,
    format_wareki,
    is_business_day,
    next_certificate_window_opens,
)

# ---------------------------------------------------------------- business days


@pytest.mark.parametrize("d, expected", [
    (date(2026, 5, 1), True),    # Friday between holidays
    (date(2026, 4, 29), False),  # 昭和の日 (Wednesday)
    (date(2026, 5, 4), False),   # みどりの日 (Monday)
    (date(2026, 5, 6), False),   # 振替休日 for 憲法記念日 on Sunday 5/3
    (date(2026, 5, 7), True),
    (date(2026, 5, 9), False),   # Saturday
    (date(2026, 9, 22), False),  # 国民の休日 between 敬老の日 and 秋分の日
    (date(2025, 12, 30), True),
    (date(2025, 12, 31), False),  # year-end (Wednesday)
    (date(2026, 1, 2), False),   # year-end (Friday, not a national holiday)
    (date(2026, 1, 5), True),
    (date(2027, 3, 22), False),  # 振替休日 for 春分の日 on Sunday 3/21
])
def test_is_business_day(d, expected):
    assert is_business_day(d) is expected


@pytest.mark.parametrize("start, n, expected", [
    (date(2026, 4, 28), 1, date(2026, 4, 30)),   # skips 昭和の日
    (date(2026, 5, 1), 1, date(2026, 5, 7)),     # Golden Week incl. 振替休日 5/6
    (date(2026, 4, 30), 3, date(2026, 5, 8)),
    (date(2026, 5, 7), -1, date(2026, 5, 1)),
    (date(2025, 12, 30), 1, date(2026, 1, 5)),   # New Year: 12/31–1/4
    (date(2026, 12, 30), 1, date(2027, 1, 4)),
    (date(2027, 3, 19), 1, date(2027, 3, 23)),   # 振替休日 Monday 3/22
    (date(2026, 9, 18), 1, date(2026, 9, 24)),   # Silver Week
    (date(2026, 5, 9), 1, date(2026, 5, 11)),    # Saturday + 1 → Monday
    (date(2026, 5, 9), 0, date(2026, 5, 9)),
])
def test_add_business_days(start, n, expected):
    assert add_business_days(start, n) == expected


def test_business_day_on_or_after():
    assert business_day_on_or_after(date(2026, 5, 7)) == date(2026, 5, 7)
    assert business_day_on_or_after(date(2026, 5, 2)) == date(2026, 5, 7)
    assert business_day_on_or_after(date(2025, 12, 31)) == date(2026, 1, 5)


# ---------------------------------------------------------------- fiscal year


@pytest.mark.parametrize("d, fy", [
    (date(2026, 5, 31), 2025),
    (date(2026, 6, 1), 2026),
    (date(2026, 12, 31), 2026),
    (date(2027, 1, 1), 2026),
    (date(2027, 5, 31), 2026),
    (date(2027, 6, 1), 2027),
])
def test_fiscal_year(d, fy):
    assert fiscal_year(d) == fy


def test_fiscal_year_range():
    assert fiscal_year_range(2026) == (date(2026, 6, 1), date(2027, 5, 31))
    assert fiscal_year_range(2019) == (date(2019, 6, 1), date(2020, 5, 31))
    start, end = fiscal_year_range(2027)
    assert fiscal_year(start) == fiscal_year(end) == 2027


# ---------------------------------------------------------------- age


@pytest.mark.parametrize("birth, on, age", [
    (date(1975, 10, 10), date(2026, 10, 9), 50),
    (date(1975, 10, 10), date(2026, 10, 10), 51),
    (date(1975, 10, 10), date(1975, 10, 10), 0),
    (date(2000, 2, 29), date(2001, 2, 28), 0),   # common year: not yet
    (date(2000, 2, 29), date(2001, 3, 1), 1),    # common year: on 1 March
    (date(2000, 2, 29), date(2004, 2, 28), 3),
    (date(2000, 2, 29), date(2004, 2, 29), 4),   # leap year: on 29 February
    (date(2008, 4, 1), date(2026, 3, 31), 17),
])
def test_age_on(birth, on, age):
    assert age_on(birth, on) == age


def test_age_on_before_birth():
    with pytest.raises(JpValueError) as e:
        age_on(date(2026, 1, 2), date(2026, 1, 1))
    assert e.value.message == "生年月日が正しくありません"


# ---------------------------------------------------------------- premium debit


@pytest.mark.parametrize("received, debit", [
    (date(2026, 9, 10), date(2026, 11, 27)),   # by the 10th → 翌々月27日 (Friday)
    (date(2026, 9, 1), date(2026, 11, 27)),
    (date(2026, 9, 11), date(2026, 12, 28)),   # 11th → 3 months on; 12/27 is a Sunday
    (date(2026, 10, 31), date(2027, 1, 27)),   # Wednesday
    (date(2026, 11, 11), date(2027, 3, 1)),    # 2027-02-27 is a Saturday
    (date(2026, 12, 10), date(2027, 3, 1)),    # December → February, then Monday 3/1
    (date(2026, 12, 11), date(2027, 3, 29)),   # 2027-03-27 is a Saturday
    (date(2027, 4, 10), date(2027, 6, 28)),    # 2027-06-27 is a Sunday
    (date(2024, 2, 10), date(2024, 4, 30)),    # 4/27 Sat, 4/28 Sun, 4/29 昭和の日 (Mon)
])
def test_first_debit_date(received, debit):
    assert first_debit_date(received) == debit


def test_first_debit_date_moves_off_a_holiday_on_the_27th(monkeypatch):
    real = dates.jpholiday.is_holiday
    fake_holiday = date(2026, 11, 27)  # a Friday; pretend it is a national holiday
    monkeypatch.setattr(dates.jpholiday, "is_holiday", lambda d: d == fake_holiday or real(d))
    assert first_debit_date(date(2026, 9, 10)) == date(2026, 11, 30)


def test_debit_date_of_a_month():
    assert debit_date(2026, 11) == date(2026, 11, 27)
    assert debit_date(2026, 12) == date(2026, 12, 28)


# ---------------------------------------------------------------- certificate window


def test_certificate_window():
    assert certificate_window(2026) == (date(2026, 10, 1), date(2027, 3, 31))
    assert certificate_window(2027) == (date(2027, 10, 1), date(2028, 3, 31))  # leap 2028


@pytest.mark.parametrize("d, year", [
    (date(2026, 9, 30), None),
    (date(2026, 10, 1), 2026),
    (date(2026, 12, 31), 2026),
    (date(2027, 1, 1), 2026),
    (date(2027, 2, 10), 2026),
    (date(2027, 3, 31), 2026),
    (date(2027, 4, 1), None),
    (date(2026, 7, 1), None),
    (date(2028, 2, 29), 2027),   # leap day inside the window
    (date(2028, 3, 31), 2027),
    (date(2028, 4, 1), None),
])
def test_certificate_year_open_on(d, year):
    assert certificate_year_open_on(d) == year


@pytest.mark.parametrize("d, opens", [
    (date(2026, 7, 1), date(2026, 10, 1)),
    (date(2026, 9, 30), date(2026, 10, 1)),
    (date(2026, 10, 1), date(2026, 10, 1)),
    (date(2026, 10, 2), date(2027, 10, 1)),
    (date(2027, 2, 10), date(2027, 10, 1)),
    (date(2028, 2, 29), date(2028, 10, 1)),
])
def test_next_certificate_window_opens(d, opens):
    assert next_certificate_window_opens(d) == opens


# ---------------------------------------------------------------- formatting


def test_format_date_jp():
    assert format_date_jp(date(2026, 11, 27)) == "2026年11月27日"
    assert format_date_jp(date(2027, 1, 5)) == "2027年1月5日"
    assert format_date_jp(date(2026, 11, 27), weekday=True) == "2026年11月27日（金）"


@pytest.mark.parametrize("d, text", [
    (date(2026, 11, 27), "令和8年11月27日"),
    (date(2019, 5, 1), "令和元年5月1日"),
    (date(2019, 4, 30), "平成31年4月30日"),
    (date(1989, 1, 8), "平成元年1月8日"),
    (date(1989, 1, 7), "昭和64年1月7日"),
    (date(1975, 10, 10), "昭和50年10月10日"),
    (date(1926, 12, 24), "大正15年12月24日"),
    (date(1912, 7, 29), "明治45年7月29日"),
])
def test_format_wareki(d, text):
    assert format_wareki(d) == text


def test_format_wareki_without_gannen_and_too_early():
    assert format_wareki(date(2019, 5, 1), gannen=False) == "令和1年5月1日"
    with pytest.raises(ValueError):
        format_wareki(date(1872, 12, 31))
