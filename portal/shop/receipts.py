"""領収書 (receipt) of a paid order, as page data and as a PDF (reportlab, CID font)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from portal.clock import to_tokyo, today
from portal.jp.dates import format_date_jp
from portal.jp.money import TAX_RATE_PERCENT, yen
from portal.members.models import Member
from portal.shop.catalogue import SHIPPING_FEE_YEN
from portal.shop.models import ShopOrder

ISSUER = "みらい共済生活協同組合"
ISSUER_ADDRESS = "〒151-8571 東京都渋谷区代々木2-11-15"
FONT = "HeiseiKakuGo-W5"


@dataclass
class Receipt:
    order_no: str
    addressee: str
    total_yen: int
    subtotal_yen: int
    tax_yen: int
    description: str
    paid_on: date
    issued_on: date
    payment: str

    @property
    def lines(self) -> list[tuple[str, str]]:
        return [
            ("注文番号", self.order_no),
            ("品名", self.description),
            ("税抜金額", yen(self.subtotal_yen)),
            (f"消費税（{TAX_RATE_PERCENT}%）", yen(self.tax_yen)),
            ("送料", yen(SHIPPING_FEE_YEN)),
            ("お支払日", format_date_jp(self.paid_on)),
            ("お支払方法", self.payment),
        ]


def receipt_for(order: ShopOrder, member: Member) -> Receipt:
    assert order.paid_at is not None
    card = f"クレジットカード（末尾{order.card_last4}）" if order.card_last4 else "クレジットカード"
    return Receipt(
        order_no=order.order_no, addressee=member.name, total_yen=order.total_yen,
        subtotal_yen=order.unit_price_yen, tax_yen=order.tax_yen,
        description=f"{order.product_name}（{order.recipient_name}様分）", paid_on=to_tokyo(order.paid_at).date(),
        issued_on=today(), payment=card,
    )


def receipt_pdf(receipt: Receipt) -> bytes:
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = BytesIO()
    width, height = landscape(A5)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"領収書 {receipt.order_no}")
    pdf.setAuthor(ISSUER)
    pdf.setFont(FONT, 22)
    pdf.drawCentredString(width / 2, height - 22 * mm, "領収書")
    pdf.setFont(FONT, 10)
    pdf.drawRightString(width - 15 * mm, height - 14 * mm, f"発行日 {format_date_jp(receipt.issued_on)}")
    pdf.setFont(FONT, 14)
    pdf.drawString(15 * mm, height - 38 * mm, f"{receipt.addressee} 様")
    pdf.line(15 * mm, height - 40 * mm, 95 * mm, height - 40 * mm)
    pdf.setFont(FONT, 20)
    pdf.drawCentredString(width / 2, height - 56 * mm, f"金額　{yen(receipt.total_yen)}（税込）")
    pdf.setFont(FONT, 10)
    pdf.drawCentredString(width / 2, height - 64 * mm, "但し 健康チェックキット代として、上記正に領収いたしました。")
    y = height - 76 * mm
    for label, value in receipt.lines:
        pdf.drawString(20 * mm, y, label)
        pdf.drawString(55 * mm, y, value)
        y -= 6 * mm
    pdf.setFont(FONT, 11)
    pdf.drawRightString(width - 15 * mm, 22 * mm, ISSUER)
    pdf.setFont(FONT, 9)
    pdf.drawRightString(width - 15 * mm, 16 * mm, ISSUER_ADDRESS)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
