"""Integer yen: consumption tax and how amounts are written.

Prices are stored 税抜 and shown 税込 first (総額表示): ``'6,688円（税込）'``.
"""
from __future__ import annotations

__all__ = [
    "TAX_RATE_PERCENT",
    "tax_amount",
    "tax_included",
    "yen",
    "man_yen",
    "price_tax_included",
]

TAX_RATE_PERCENT = 10


def _check_int(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"yen amounts are int, got {type(n).__name__}")


def tax_amount(amount_excl: int) -> int:
    """Consumption tax on one line (unit price × quantity), rounded down (切り捨て).

    6,080 → 608; 4,599 → 459. Negative amounts (refunds) mirror positive ones.
    """
    _check_int(amount_excl)
    tax = abs(amount_excl) * TAX_RATE_PERCENT // 100
    return tax if amount_excl >= 0 else -tax


def tax_included(amount_excl: int) -> int:
    """税込 amount of one line: 6,080 → 6,688; 4,599 → 5,058 (tax rounded down)."""
    return amount_excl + tax_amount(amount_excl)


def yen(n: int) -> str:
    """``1800`` → ``'1,800円'``; ``-500`` → ``'-500円'``."""
    _check_int(n)
    return f"{n:,}円"


def man_yen(n: int) -> str:
    """Cover amounts the way leaflets write them.

    Whole 万 from 10,000 up: ``12_000_000`` → ``'1,200万円'``, ``10_000`` →
    ``'1万円'``; whole 億 use 億: ``100_000_000`` → ``'1億円'``,
    ``120_000_000`` → ``'1億2,000万円'``. Anything else: :func:`yen`
    (``5_000`` → ``'5,000円'``, ``12_345`` → ``'12,345円'``).
    """
    _check_int(n)
    if n < 10_000 or n % 10_000:
        return yen(n)
    man = n // 10_000
    oku, rest = divmod(man, 10_000)
    if not oku:
        return f"{man:,}万円"
    return f"{oku:,}億{rest:,}万円" if rest else f"{oku:,}億円"


def price_tax_included(amount_excl: int, *, show_excl: bool = False) -> str:
    """Consumer-facing price (総額表示): ``'6,688円（税込）'``, or with
    ``show_excl=True`` ``'6,688円（税抜6,080円）'``."""
    incl = yen(tax_included(amount_excl))
    return f"{incl}（税抜{yen(amount_excl)}）" if show_excl else f"{incl}（税込）"
