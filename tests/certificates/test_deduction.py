"""Income-tax deduction formulas at every bracket boundary."""
import pytest

from portal.certificates.deduction import (
    category_deduction,
    earthquake_deduction,
    estimate,
    new_system_deduction,
    old_system_deduction,
)


@pytest.mark.parametrize("premium, expected", [
    (0, 0),
    (1, 1),
    (20_000, 20_000),            # all of it
    (20_001, 20_001),            # 20,001/2 = 10,000.5 → 10,001 (rounded up) + 10,000
    (30_000, 25_000),
    (40_000, 30_000),            # 40,000/2 + 10,000
    (40_001, 30_001),            # 40,001/4 = 10,000.25 → 10,001 + 20,000
    (50_400, 32_600),
    (80_000, 40_000),            # 80,000/4 + 20,000
    (80_001, 40_000),            # capped
    (1_000_000, 40_000),
])
def test_new_system_brackets(premium, expected):
    assert new_system_deduction(premium) == expected


@pytest.mark.parametrize("premium, expected", [
    (0, 0),
    (25_000, 25_000),
    (25_001, 25_001),            # 12,500.5 → 12,501 + 12,500
    (40_000, 32_500),
    (50_000, 37_500),            # 50,000/2 + 12,500
    (50_001, 37_501),            # 12,500.25 → 12,501 + 25,000
    (100_000, 50_000),           # 100,000/4 + 25,000
    (100_001, 50_000),
    (300_000, 50_000),
])
def test_old_system_brackets(premium, expected):
    assert old_system_deduction(premium) == expected


@pytest.mark.parametrize("premium, expected", [
    (0, 0), (49_999, 49_999), (50_000, 50_000), (50_001, 50_000), (200_000, 50_000),
])
def test_earthquake_all_up_to_50000(premium, expected):
    assert earthquake_deduction(premium) == expected


def test_new_and_old_in_one_category_take_the_best_choice():
    # old only would give 50,000 (old premiums over 100,000): better than the 40,000 cap for both
    assert category_deduction(new_yen=30_000, old_yen=120_000) == 50_000
    # both together: 20,000 + 20,000 = 40,000 beats old alone (20,000) and new alone (20,000)
    assert category_deduction(new_yen=20_000, old_yen=20_000) == 40_000
    # both together capped at 40,000: 25,000 + 25,000 → 40,000, old alone 25,000
    assert category_deduction(new_yen=30_000, old_yen=25_000) == 40_000
    assert category_deduction(new_yen=30_000) == 25_000
    assert category_deduction(old_yen=30_000) == 27_500


def test_three_life_categories_are_capped_at_120000_together():
    result = estimate({("general_life", "new"): 100_000, ("medical_care", "new"): 100_000,
                       ("pension", "old"): 200_000, ("earthquake", "new"): 57_000})
    assert result.by_category == {"general_life": 40_000, "medical_care": 40_000, "pension": 50_000,
                                  "earthquake": 50_000}
    assert result.life_capped is True
    assert result.life_total == 120_000
    assert result.earthquake == 50_000
    assert result.total == 170_000


def test_cap_not_reached_exactly_120000():
    result = estimate({("general_life", "new"): 80_000, ("medical_care", "new"): 80_000,
                       ("pension", "new"): 80_000})
    assert (result.life_total, result.life_capped) == (120_000, False)
    result = estimate({("general_life", "new"): 80_000, ("medical_care", "new"): 80_000,
                       ("pension", "new"): 79_996})
    assert (result.life_total, result.life_capped) == (119_999, False)


def test_empty_and_bad_input():
    assert estimate({}).total == 0
    with pytest.raises(ValueError):
        new_system_deduction(-1)
    with pytest.raises(TypeError):
        old_system_deduction(1.5)
