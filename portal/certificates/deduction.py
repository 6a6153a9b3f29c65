"""Income-tax deduction estimates (所得税の控除額の概算) for the premium certificate.

Pure functions, integer yen:

* new system (contracts from 2012), per category: ≤20,000 → all; ≤40,000 →
  ×1/2 + 10,000; ≤80,000 → ×1/4 + 20,000; above → 40,000;
* old system, per category: ≤25,000 → all; ≤50,000 → ×1/2 + 12,500;
  ≤100,000 → ×1/4 + 25,000; above → 50,000;
* when one category has both new and old contracts, the better of: old only,
  new only, or both added together up to 40,000;
* the three life categories (一般生命・介護医療・個人年金) together ≤ 120,000;
* earthquake (地震保険料): all of it, up to 50,000.

Fractions of a yen are rounded up, as the National Tax Agency's tables do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

LIFE_CATEGORIES = ("general_life", "medical_care", "pension")
NEW_CATEGORY_CAP = 40_000
OLD_CATEGORY_CAP = 50_000
LIFE_TOTAL_CAP = 120_000
EARTHQUAKE_CAP = 50_000


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _check(premium_yen: int) -> None:
    if isinstance(premium_yen, bool) or not isinstance(premium_yen, int):
        raise TypeError("premiums are int yen")
    if premium_yen < 0:
        raise ValueError("premiums cannot be negative")


def new_system_deduction(premium_yen: int) -> int:
    """Deduction for one category's yearly premiums under the new system (新制度)."""
    _check(premium_yen)
    if premium_yen <= 20_000:
        return premium_yen
    if premium_yen <= 40_000:
        return _ceil_div(premium_yen, 2) + 10_000
    if premium_yen <= 80_000:
        return _ceil_div(premium_yen, 4) + 20_000
    return NEW_CATEGORY_CAP


def old_system_deduction(premium_yen: int) -> int:
    """Deduction for one category's yearly premiums under the old system (旧制度)."""
    _check(premium_yen)
    if premium_yen <= 25_000:
        return premium_yen
    if premium_yen <= 50_000:
        return _ceil_div(premium_yen, 2) + 12_500
    if premium_yen <= 100_000:
        return _ceil_div(premium_yen, 4) + 25_000
    return OLD_CATEGORY_CAP


def category_deduction(new_yen: int = 0, old_yen: int = 0) -> int:
    """One life category, with premiums of new- and/or old-system contracts."""
    new = new_system_deduction(new_yen)
    old = old_system_deduction(old_yen)
    if not old_yen:
        return new
    if not new_yen:
        return old
    return max(old, new, min(new + old, NEW_CATEGORY_CAP))


def earthquake_deduction(premium_yen: int) -> int:
    _check(premium_yen)
    return min(premium_yen, EARTHQUAKE_CAP)


@dataclass(frozen=True)
class Estimate:
    """Deduction per category, the capped life total, earthquake and the sum."""

    by_category: dict[str, int] = field(default_factory=dict)
    life_total: int = 0
    life_capped: bool = False
    earthquake: int = 0

    @property
    def total(self) -> int:
        return self.life_total + self.earthquake


def estimate(premiums: dict[tuple[str, str], int]) -> Estimate:
    """`premiums` maps (category, "new"|"old") to the year's premiums in yen."""
    by_category: dict[str, int] = {}
    for category in LIFE_CATEGORIES:
        new_yen = premiums.get((category, "new"), 0)
        old_yen = premiums.get((category, "old"), 0)
        if new_yen or old_yen:
            by_category[category] = category_deduction(new_yen, old_yen)
    earthquake_yen = premiums.get(("earthquake", "new"), 0) + premiums.get(("earthquake", "old"), 0)
    earthquake = earthquake_deduction(earthquake_yen)
    if earthquake_yen:
        by_category["earthquake"] = earthquake
    life_sum = sum(v for k, v in by_category.items() if k in LIFE_CATEGORIES)
    return Estimate(by_category=by_category, life_total=min(life_sum, LIFE_TOTAL_CAP),
                    life_capped=life_sum > LIFE_TOTAL_CAP, earthquake=earthquake)
