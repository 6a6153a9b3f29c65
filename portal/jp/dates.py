"""Business days, the co-op's calendar, and dates written the Japanese way.

Calendar functions take and return ``datetime.date`` (a Tokyo calendar date);
turn an instant into one with ``instant.astimezone(TOKYO).date()``. The
formatting functions also take an instant (an aware ``datetime``, or a naive one
meaning UTC as SQLite returns it) and write it in Tokyo time; they are the
template filters too (jdate, jdate_only, jmonth_day), so every Japanese date on
a page, in a notice or on a PDF is written here.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from typing import TypeVar
from zoneinfo import ZoneInfo

import jpholiday

from .errors import JpValueError

__all__ = [
    "TOKYO",
    "DEBIT_DAY",
    "DEBIT_CUTOFF_DAY",
    "is_year_end_holiday",
    "is_business_day",
    "business_day_on_or_after",
    "add_business_days",
    "fiscal_year",
    "fiscal_year_range",
    "age_on",
    "parse_year",
    "debit_date",
    "first_debit_date",
    "certificate_window",
    "certificate_year_open_on",
    "next_certificate_window_opens",
    "add_months",
    "format_date_jp",
    "format_datetime_jp",
    "format_month_day_jp",
    "jdate",
    "format_wareki",
]

TOKYO = ZoneInfo("Asia/Tokyo")

FISCAL_YEAR_START_MONTH = 6  # the business year runs 1 June – 31 May
CERTIFICATE_OPEN_MONTH = 10  # certificate year Y: 1 October Y – 31 March Y+1
CERTIFICATE_CLOSE_MONTH = 3
DEBIT_DAY = 27
DEBIT_CUTOFF_DAY = 10

_WEEKDAYS = "月火水木金土日"
# (first day, era name); dates before the Gregorian calendar's adoption (1873) are refused.
_ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1868, 1, 25), "明治"),
)
_GREGORIAN_FROM = date(1873, 1, 1)


# ---------------------------------------------------------------- business days

def is_year_end_holiday(d: date) -> bool:
    """31 December to 3 January (年末年始), when banks and the co-op are closed."""
    return (d.month == 12 and d.day == 31) or (d.month == 1 and d.day <= 3)


def is_business_day(d: date) -> bool:
    """Not Saturday or Sunday, not a national holiday (jpholiday, including
    振替休日 and 国民の休日), and not 31 Dec – 3 Jan."""
    return d.weekday() < 5 and not jpholiday.is_holiday(d) and not is_year_end_holiday(d)


def business_day_on_or_after(d: date) -> date:
    """``d`` if it is a business day, else the next business day."""
    while not is_business_day(d):
        d += timedelta(days=1)
    return d


def add_business_days(d: date, n: int) -> date:
    """Move ``n`` business days from ``d`` (backwards when ``n`` < 0).

    ``d`` itself is not counted and need not be a business day:
    Friday + 1 → Monday, Saturday + 1 → Monday. ``n == 0`` returns ``d``.
    """
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        d += step
        if is_business_day(d):
            remaining -= 1
    return d


# ---------------------------------------------------------------- fiscal year

def fiscal_year(d: date) -> int:
    """The co-op's business year (年度) containing ``d``: it runs 1 June – 31 May
    and is named by the year it starts in (2026-06-01 … 2027-05-31 is FY2026)."""
    return d.year if d.month >= FISCAL_YEAR_START_MONTH else d.year - 1


def fiscal_year_range(fy: int) -> tuple[date, date]:
    """First and last day (both inclusive) of business year ``fy``."""
    return date(fy, FISCAL_YEAR_START_MONTH, 1), date(fy + 1, FISCAL_YEAR_START_MONTH, 1) - timedelta(days=1)


# ---------------------------------------------------------------- age

def age_on(birth: date, d: date) -> int:
    """Completed years of age on day ``d``, by the practical rule.

    The age goes up on the birthday itself; someone born on 29 February gets
    older on 1 March in common years (on 29 February in leap years).

    Legally (年齢計算ニ関スル法律 and 民法143条) the age is reached at the end of the
    day *before* the birthday (for 29 Feb births: the end of 28 Feb). That only
    matters for "age as of the end of day X" rules (e.g. school years); for those,
    use ``age_on(birth, X + timedelta(days=1))``.

    Raises :class:`JpValueError` if ``d`` is before ``birth``.
    """
    if d < birth:
        raise JpValueError("生年月日が正しくありません")
    years = d.year - birth.year
    try:
        birthday = birth.replace(year=d.year)
    except ValueError:  # 29 February in a common year
        birthday = date(d.year, 3, 1)
    return years if d >= birthday else years - 1


# ---------------------------------------------------------------- premium debit

def debit_date(year: int, month: int) -> date:
    """The premium debit day (口座振替日) of a month: the 27th, or the next business
    day when the 27th is not one (weekend, holiday). See :func:`first_debit_date`."""
    return business_day_on_or_after(date(year, month, DEBIT_DAY))


def first_debit_date(received: date) -> date:
    """The first premium debit after a debit account (or enrolment) is received.

    THE rule (kept here and nowhere else):

    * received on or before the 10th of a month → debit on the 27th of the month
      after next (翌々月27日): received 10 Sep → 27 Nov;
    * received on the 11th or later → the 27th of the month after that
      (3 months on): received 11 Sep → 27 Dec;
    * when that 27th is not a business day (Saturday, Sunday, national holiday;
      see :func:`is_business_day`) the debit moves to the next business day.

    ``received`` is the Tokyo date the co-op received the request.
    """
    months = 2 if received.day <= DEBIT_CUTOFF_DAY else 3
    month = add_months(received.replace(day=1), months)
    return debit_date(month.year, month.month)


# ---------------------------------------------------------------- premium certificate

def certificate_window(year: int) -> tuple[date, date]:
    """When certificate year ``year`` can be reissued: 1 Oct ``year`` to 31 Mar
    ``year``+1, both inclusive."""
    return date(year, CERTIFICATE_OPEN_MONTH, 1), date(year + 1, CERTIFICATE_CLOSE_MONTH, 31)


def certificate_year_open_on(d: date) -> int | None:
    """The certificate year that can be requested on ``d``, or ``None`` outside
    every window (April–September). 2027-02-10 → 2026; 2026-07-01 → None."""
    if d.month >= CERTIFICATE_OPEN_MONTH:
        return d.year
    if d.month <= CERTIFICATE_CLOSE_MONTH:
        return d.year - 1
    return None


def next_certificate_window_opens(d: date) -> date:
    """The first window-opening day (1 October) on or after ``d``.

    2026-07-01 → 2026-10-01; 2026-10-01 → 2026-10-01 (opens today);
    2026-10-02 and 2027-02-10 → 2027-10-01.
    """
    this_year = date(d.year, CERTIFICATE_OPEN_MONTH, 1)
    return this_year if d <= this_year else date(d.year + 1, CERTIFICATE_OPEN_MONTH, 1)


# ---------------------------------------------------------------- months

D = TypeVar("D", date, datetime)


def add_months(value: D, months: int) -> D:
    """The same day ``months`` later (or earlier), the month's last day when it has
    no such day: 31 Jan + 1 → 28/29 Feb. Works on dates and datetimes alike."""
    index = value.year * 12 + value.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


# ---------------------------------------------------------------- formatting

def _tokyo(value: date | datetime) -> date | datetime:
    """A datetime is an instant: written in Tokyo time (naive means UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(TOKYO)
    return value


def format_date_jp(d: date | datetime | None, *, weekday: bool = False) -> str:
    """``'2026年11月27日'``; with ``weekday=True`` ``'2026年11月27日（金）'``.
    An instant is written as its Tokyo date; None as ''."""
    if d is None:
        return ""
    d = _tokyo(d)
    text = f"{d.year}年{d.month}月{d.day}日"
    return f"{text}（{_WEEKDAYS[d.weekday()]}）" if weekday else text


def format_datetime_jp(instant: datetime | None) -> str:
    """``'2026年11月27日 09:05'`` in Tokyo time."""
    if instant is None:
        return ""
    local = _tokyo(instant)
    return f"{format_date_jp(local)} {local:%H:%M}"


def format_month_day_jp(d: date | datetime | None) -> str:
    """``'11月27日'`` (a date within the coming year, where the year goes without saying)."""
    if d is None:
        return ""
    d = _tokyo(d)
    return f"{d.month}月{d.day}日"


def jdate(value: date | datetime | None) -> str:
    """The template filter: a date as ``'2026年11月27日'``, an instant with its time."""
    if isinstance(value, datetime):
        return format_datetime_jp(value)
    return format_date_jp(value)


def format_wareki(d: date, *, gannen: bool = True) -> str:
    """Japanese era date: ``'令和8年11月27日'``; the first year of an era is
    written 元年 (``'令和元年5月1日'``) unless ``gannen=False``. Supports dates from
    1873 (明治6年) on; earlier dates raise ``ValueError``."""
    if d < _GREGORIAN_FROM:
        raise ValueError("dates before 1873 are not in the Gregorian calendar in Japan")
    for start, name in _ERAS:
        if d >= start:
            n = d.year - start.year + 1
            year = "元" if n == 1 and gannen else str(n)
            return f"{name}{year}年{d.month}月{d.day}日"
    raise AssertionError("unreachable")  # pragma: no cover


_ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
_ERA_FIRST_YEAR = {name: start.year for start, name in _ERAS}
_ERA_LAST_YEAR = {"明治": 1912, "大正": 1926, "昭和": 1989, "平成": 2019, "令和": 9999}


def parse_year(text: str) -> int:
    """A year as people write it: ``1975``, ``昭和50``, ``昭50``, ``S50``, ``令和元``.

    The text is expected NFKC-normalised (full-width digits already half-width).
    Raises ``ValueError`` for anything else or a year its era never reached.
    """
    value = text.strip().removesuffix("年").strip()
    if value.isdigit():
        return int(value)
    head = value[:1].upper()
    if head in _ERA_LETTERS:
        era, rest = _ERA_LETTERS[head], value[1:]
    else:
        era = next((name for name in _ERA_FIRST_YEAR if value.startswith(name) or value.startswith(name[0])), None)
        if era is None:
            raise ValueError(text)
        rest = value[len(era):] if value.startswith(era) else value[1:]
    rest = rest.strip()
    number = 1 if rest == "元" else int(rest) if rest.isdigit() else None
    if number is None or number < 1:
        raise ValueError(text)
    year = _ERA_FIRST_YEAR[era] + number - 1
    if year > _ERA_LAST_YEAR[era]:
        raise ValueError(text)
    return year
