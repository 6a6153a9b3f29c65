"""The co-op's 診断書 form as a PDF, for claims whose estimate is above 100,000円."""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from portal.certificates.pdf import GOTHIC, MINCHO, _register_fonts

FIELDS = ("被共済者氏名", "生年月日", "傷病名", "原因（交通事故・不慮の事故・病気）", "初診日",
          "入院期間", "通院日", "手術日・手術名", "先進医療の名称・技術料", "医療機関名・所在地・医師名")


def certificate_form_pdf() -> bytes:
    _register_fonts()
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    page.setTitle("診断書（共済金請求用）")
    page.setFont(GOTHIC, 18)
    page.drawCentredString(width / 2, height - 25 * mm, "診断書（共済金請求用）")
    page.setFont(MINCHO, 9.5)
    page.drawString(20 * mm, height - 35 * mm, "医師の方へ：この用紙は共済金の請求に使います。各欄をご記入ください。")
    y = height - 48 * mm
    for label in FIELDS:
        page.rect(20 * mm, y - 14 * mm, width - 40 * mm, 14 * mm)
        page.drawString(22 * mm, y - 5 * mm, label)
        y -= 18 * mm
    page.drawString(20 * mm, 20 * mm, "記入日　　　年　　月　　日　　　医師署名")
    page.showPage()
    page.save()
    return out.getvalue()
