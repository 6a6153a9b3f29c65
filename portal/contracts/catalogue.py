"""The demo product catalogue and each product's coverage table (approximate figures).

A contract's Coverage rows are built from these tables when the contract is made
(seed, enrolment approval), scaled by its 口数 where cover is per 口, and keep one
row per age band so the page can show today's band and the next one.
"""
from __future__ import annotations

from dataclasses import dataclass

AGE_MAX = 120


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    kind: str
    deduction_category: str
    deduction_system: str
    premium_period: str
    min_entry_age: int
    max_entry_age: int
    max_cover_age: int
    description: str


PRODUCTS: tuple[ProductSpec, ...] = (
    ProductSpec("KOKUMIN_SOGO", "こくみん共済 総合保障タイプ", "kokumin_sogo", "general_life", "new", "monthly",
                18, 64, 85, "死亡・入院をバランスよく保障（2口 月掛金1,800円）"),
    ProductSpec("KOKUMIN_IRYO", "こくみん共済 医療保障タイプ", "kokumin_iryo", "medical_care", "new", "monthly",
                18, 64, 85, "入院・手術・通院・先進医療に手厚く（2口 月掛金2,300円）"),
    ProductSpec("KOKUMIN_KODOMO", "こくみん共済 こども保障タイプ", "kokumin_kodomo", "general_life", "new", "monthly",
                0, 17, 17, "お子さまの入院・通院・骨折を保障、こども相談室つき（月掛金1,200円）"),
    ProductSpec("SUMAIRU", "住まいる共済（火災共済＋自然災害共済）", "sumairu", "earthquake", "new", "yearly",
                0, AGE_MAX, AGE_MAX, "建物・家財の火災と自然災害を保障"),
    ProductSpec("MYCAR", "マイカー共済", "mycar", "none", "new", "yearly",
                18, AGE_MAX, AGE_MAX, "対人・対物賠償、人身傷害、車両"),
    ProductSpec("NENKIN", "ねんきん共済", "nenkin", "pension", "new", "monthly",
                18, 65, AGE_MAX, "老後に備える個人年金"),
)

# (age_from, age_to, {kind: amount_yen}) for the standard unit of each product.
# 総合保障 steps down at 60, 65, 70 and 80.
SOGO_TABLE = (
    (0, 59, {"death_traffic": 12_000_000, "death_accident": 8_000_000, "death_illness": 4_000_000,
             "hospital_traffic": 5_000, "hospital_accident": 3_000, "hospital_illness": 1_500}),
    (60, 64, {"death_traffic": 10_000_000, "death_accident": 6_000_000, "death_illness": 3_000_000,
              "hospital_traffic": 5_000, "hospital_accident": 3_000, "hospital_illness": 1_500}),
    (65, 69, {"death_traffic": 8_000_000, "death_accident": 4_000_000, "death_illness": 2_000_000,
              "hospital_traffic": 4_000, "hospital_accident": 2_000, "hospital_illness": 1_000}),
    (70, 79, {"death_traffic": 5_000_000, "death_accident": 2_000_000, "death_illness": 1_000_000,
              "hospital_traffic": 3_000, "hospital_accident": 1_500, "hospital_illness": 1_000}),
    (80, 85, {"death_traffic": 2_000_000, "death_accident": 1_000_000, "death_illness": 500_000,
              "hospital_traffic": 2_000, "hospital_accident": 1_000, "hospital_illness": 500}),
)
IRYO_TABLE = (
    (0, 85, {"hospital_traffic": 10_000, "hospital_accident": 10_000, "hospital_illness": 10_000,
             "surgery": 60_000, "outpatient": 2_000, "advanced_care": 10_000_000,
             "death_traffic": 500_000, "death_accident": 500_000, "death_illness": 500_000}),
)
KODOMO_TABLE = (
    (0, 17, {"hospital_traffic": 5_000, "hospital_accident": 5_000, "hospital_illness": 5_000,
             "support_per_day": 5_000, "fracture": 50_000, "surgery": 50_000, "outpatient": 2_000}),
)
MONTHLY_PREMIUM_YEN = {"KOKUMIN_SOGO": 1_800, "KOKUMIN_IRYO": 2_300, "KOKUMIN_KODOMO": 1_200}

# 住まいる共済: yearly premium per 口 (10万円 of cover) by structure.
SUMAIRU_FIRE_PER_UNIT = {"wooden": 70, "steel": 40, "mansion": 30}
SUMAIRU_DISASTER_BASIC_PER_UNIT = {"wooden": 190, "steel": 125, "mansion": 90}
SUMAIRU_DISASTER_ECONOMY_PER_UNIT = {"wooden": 135, "steel": 90, "mansion": 60}
SUMAIRU_UNIT_YEN = 100_000


def coverage_rows(product_code: str, *, units: int = 1, building_units: int = 0, goods_units: int = 0,
                  ) -> list[tuple[str, int, bool, int, int]]:
    """(kind, amount_yen, is_unlimited, age_from, age_to) rows for a new contract."""
    tables = {"KOKUMIN_SOGO": SOGO_TABLE, "KOKUMIN_IRYO": IRYO_TABLE, "KOKUMIN_KODOMO": KODOMO_TABLE}
    if product_code in tables:
        return [(kind, amount, False, lo, hi) for lo, hi, amounts in tables[product_code]
                for kind, amount in amounts.items()]
    if product_code == "SUMAIRU":
        rows = []
        if building_units:
            rows.append(("fire_building", building_units * SUMAIRU_UNIT_YEN, False, 0, AGE_MAX))
        if goods_units:
            rows.append(("fire_goods", goods_units * SUMAIRU_UNIT_YEN, False, 0, AGE_MAX))
        # 自然災害共済 pays up to 30% of the fire cover in this demo catalogue.
        rows.append(("natural_disaster", (building_units + goods_units) * SUMAIRU_UNIT_YEN * 3 // 10,
                     False, 0, AGE_MAX))
        return rows
    if product_code == "MYCAR":
        return [("bodily_injury_liability", 0, True, 0, AGE_MAX),
                ("property_damage_liability", 0, True, 0, AGE_MAX),
                ("personal_injury", 30_000_000, False, 0, AGE_MAX),
                ("vehicle", 1_500_000, False, 0, AGE_MAX)]
    if product_code == "NENKIN":
        return [("pension_yearly", 60_000 * units, False, 0, AGE_MAX)]
    raise ValueError(f"no coverage table for {product_code}")


def sumairu_premiums(structure: str, units: int, disaster: str = "basic") -> tuple[int, int]:
    """(total yearly premium, the earthquake part that counts for 地震保険料控除)."""
    fire = SUMAIRU_FIRE_PER_UNIT[structure] * units
    per_unit = SUMAIRU_DISASTER_BASIC_PER_UNIT if disaster == "basic" else SUMAIRU_DISASTER_ECONOMY_PER_UNIT
    disaster_premium = per_unit[structure] * units if disaster != "none" else 0
    return fire + disaster_premium, disaster_premium
