"""The health-check kits sold to members and their families.

Prices are stored 税抜 in integer yen and shown 税込 first (総額表示); consumption
tax is 10 %, rounded down per line (portal.jp.money).
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.jp.money import price_tax_included, tax_amount, tax_included

SEX_LABELS = {"male": "男性", "female": "女性"}


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


OFFERS: tuple[Offer, ...] = (
    Offer("KC-REGULAR", "健康チェッカー 定期コース（年2回お届け）", "大正製薬",
          "指先から採った少量の血液で、脂質・肝機能・血糖・腎機能・尿酸など生活習慣病に関わる項目を調べます。",
          "半年ごとにご自宅へお届けし、そのつどカードでお支払い。次回のお届けはスキップ・解約ができます。",
          4_600, 7_600, is_subscription=True),
    Offer("KC-SINGLE", "健康チェッカー（1回お届け）", "大正製薬",
          "指先から採った少量の血液で、脂質・肝機能・血糖・腎機能・尿酸など生活習慣病に関わる項目を調べます。",
          "1回分をお届けします。", 6_080, 7_600),
    Offer("CANCER-M", "がんリスクチェック 男性用", "リージャー",
          "腫瘍マーカーで、胃・大腸・肝臓・膵臓・肺・前立腺などのがんのリスクを調べます。",
          "ご自宅で採血して返送するだけ。男性向けの検査項目です。", 5_500, 11_000, sex="male"),
    Offer("CANCER-F", "がんリスクチェック 女性用", "リージャー",
          "腫瘍マーカーで、胃・大腸・肝臓・膵臓・肺・卵巣・乳房などのがんのリスクを調べます。",
          "ご自宅で採血して返送するだけ。女性向けの検査項目です。", 5_500, 11_000, sex="female"),
    Offer("ABC", "胃がんリスク検査（ABC検査）", "リージャー",
          "ピロリ菌抗体とペプシノゲンから、胃がんのリスクをA〜D群（除菌後はE群）に分類します。",
          "ご自宅で採血して返送するだけ。", 4_500, 9_000),
)
BY_SKU = {offer.sku: offer for offer in OFFERS}


def get(sku: str) -> Offer | None:
    return BY_SKU.get(sku)
