"""Showing a number without giving it away: all but the last four digits hidden.

Phone numbers keep their first group as well (`portal.jp.phone.mask_phone`,
'090-****-0002'); account, contract and other numbers use `mask_digits`, and a
bank account is shown as '<bank> <branch> <type> ***1234' (`mask_account`).
"""
from __future__ import annotations

__all__ = ["mask_account", "mask_digits"]

KEEP = 4


def mask_digits(number: str, keep: int = KEEP) -> str:
    """``'1234567'`` → ``'***4567'``: one star for each hidden character."""
    return "*" * max(0, len(number) - keep) + number[-keep:]


def mask_account(bank_name: str, branch_name: str, type_label: str, account_number: str) -> str:
    """``'みずほ銀行 本店 普通 ***4567'``: the last four digits after three stars
    whatever the length, so the number of digits is not given away either."""
    return f"{bank_name} {branch_name} {type_label} ***{account_number[-KEEP:]}"
