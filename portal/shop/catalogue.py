"""The health-check kits sold to members and their families.

Prices are stored 税抜 in integer yen and shown 税込 first (総額表示); consumption
tax is 10 %, rounded down per line (portal.jp.money).

Who a kit is for is the maker's rule, kept with the kit: an age range (on the
order date) and, for kits made for one sex, that sex. Shipping is free: the
co-op pays it (docs/shop.md), and the fee is shown as 0円 all the same.
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.jp.money import price_tax_included, tax_amount, tax_included

SEX_LABELS = {"male": "男性", "female": "女性"}
SHIPPING_FEE_YEN = 0  # 全国一律、組合負担


@dataclass(frozen=True)
class Offer:
    sku: str
    name: str
    maker: str
    detects: str
    how: str
    member_price_yen: int  # 税抜, per delivery
    list_price_yen: int  # 税抜
    is_subscription: bool = False
    sex: str | None = None  # a kit made for one sex only
    min_age: int | None = None  # the maker's age range, on the order date
    max_age: int | None = None

    @property
    def member_price_incl_yen(self) -> int:
        return tax_included(self.member_price_yen)

    @property
    def list_price_incl_yen(self) -> int:
        return tax_included(self.list_price_yen)

    @property
    def member_tax_yen(self) -> int:
        return tax_amount(self.member_price_yen)

    @property
    def saving_incl_yen(self) -> int:
        return self.list_price_incl_yen - self.member_price_incl_yen

    @property
    def member_price_label(self) -> str:
        return price_tax_included(self.member_price_yen)

    @property
    def list_price_label(self) -> str:
        return price_tax_included(self.list_price_yen)

    @property
    def sex_label(self) -> str | None:
        return SEX_LABELS.get(self.sex or "")

    @property
    def shipping_fee_yen(self) -> int:
        return SHIPPING_FEE_YEN

    @property
    def eligibility_label(self) -> str | None:
        """e.g. 「20歳以上の男性の方」; None when the maker sets no limit."""
        ages = ""
        if self.min_age is not None and self.max_age is not None:
            ages = f"{self.min_age}〜{self.max_age}歳の"
        elif self.min_age is not None:
            ages = f"{self.min_age}歳以上の"
        elif self.max_age is not None:
            ages = f"{self.max_age}歳以下の"
        if not ages and not self.sex:
            return None
        return f"{ages}{self.sex_label + 'の' if self.sex_label else ''}方"


OFFERS: tuple[Offer, ...] = (
    Offer("KC-REGULAR", "健康チェッカー 定期コース（年2回お届け）", "大正製薬",
          "指先から採った少量の血液で、脂質・肝機能・血糖・腎機能・尿酸など生活習慣病に関わる項目を調べます。",
          "半年ごとにご自宅へお届けし、そのつどカードでお支払い。次回のお届けはスキップ・解約ができます。",
          4_600, 7_600, is_subscription=True, min_age=18),
    Offer("KC-SINGLE", "健康チェッカー（1回お届け）", "大正製薬",
          "指先から採った少量の血液で、脂質・肝機能・血糖・腎機能・尿酸など生活習慣病に関わる項目を調べます。",
          "1回分をお届けします。", 6_080, 7_600, min_age=18),
    Offer("CANCER-M", "がんリスクチェック 男性用", "リージャー",
          "腫瘍マーカーで、胃・大腸・肝臓・膵臓・肺・前立腺などのがんのリスクを調べます。",
          "ご自宅で採血して返送するだけ。男性向けの検査項目です。", 5_500, 11_000, sex="male", min_age=20),
    Offer("CANCER-F", "がんリスクチェック 女性用", "リージャー",
          "腫瘍マーカーで、胃・大腸・肝臓・膵臓・肺・卵巣・乳房などのがんのリスクを調べます。",
          "ご自宅で採血して返送するだけ。女性向けの検査項目です。", 5_500, 11_000, sex="female", min_age=20),
    Offer("ABC", "胃がんリスク検査（ABC検査）", "リージャー",
          "ピロリ菌抗体とペプシノゲンから、胃がんのリスクをA〜D群（除菌後はE群）に分類します。",
          "ご自宅で採血して返送するだけ。", 4_500, 9_000, min_age=20),
)
BY_SKU = {offer.sku: offer for offer in OFFERS}


def get(sku: str) -> Offer | None:
    return BY_SKU.get(sku)
