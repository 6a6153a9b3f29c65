"""The certificate as a PDF: reportlab with the Japanese CID fonts it ships
(HeiseiKakuGo-W5, HeiseiMin-W3), so no system font is needed anywhere."""
from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.jp.dates import format_date_jp, format_wareki

GOTHIC = "HeiseiKakuGo-W5"
MINCHO = "HeiseiMin-W3"
_registered = False


def _register_fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))
        pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
        _registered = True


def _styles() -> dict[str, ParagraphStyle]:
    # Body text at least 10 pt: members printing it found 8–9.5 pt too small (seed complaint 6).
    base = ParagraphStyle("base", fontName=MINCHO, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontName=GOTHIC, fontSize=18, leading=24, alignment=1),
        "base": base,
        "right": ParagraphStyle("right", parent=base, alignment=2),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10, leading=13),
        "head": ParagraphStyle("head", parent=base, fontName=GOTHIC, fontSize=10, leading=13),
        "num": ParagraphStyle("num", parent=base, fontSize=10, leading=13, alignment=2),
        "note": ParagraphStyle("note", parent=base, fontSize=10, leading=15),
        "name": ParagraphStyle("name", parent=base, fontName=GOTHIC, fontSize=12, leading=18),
    }


def _yen(n: int) -> str:
    return f"{n:,}円"


def render_certificate(*, co_op_name: str, member, year: int, lines: Sequence, issued_on: date,
                       verification_no: str) -> bytes:
    """The certificate of `year` for `member`, one table row per line (CertificateLine)."""
    _register_fonts()
    s = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title=f"共済掛金証明書（{year}年分）", author=co_op_name,
                            subject=f"確認番号 {verification_no}")
    story = [
        Paragraph(f"発行日 {format_date_jp(issued_on)}（{format_wareki(issued_on)}）", s["right"]),
        Paragraph(f"確認番号 {verification_no}", s["right"]),
        Spacer(1, 4 * mm),
        Paragraph(f"共済掛金証明書（{year}年分）", s["title"]),
        Spacer(1, 6 * mm),
        Paragraph(f"〒{member.postal_code[:3]}-{member.postal_code[3:]}　{member.address}", s["base"]),
        Paragraph(f"{member.name}　様", s["name"]),
        Paragraph(f"組合員番号 {member.member_no}", s["base"]),
        Spacer(1, 5 * mm),
        Paragraph(f"{year}年1月1日から{year}年12月31日までにお払い込みいただいた（いただく予定の）"
                  "共済掛金を、次のとおり証明します。", s["base"]),
        Spacer(1, 3 * mm),
    ]

    header = ["契約番号", "共済の種類", "被共済者", "控除区分", "証明額", "申告予定額"]
    rows = [[Paragraph(h, s["head"]) for h in header]]
    for line in lines:
        rows.append([
            Paragraph(line.contract_no, s["cell"]),
            Paragraph(line.product_name, s["cell"]),
            Paragraph(line.insured_name, s["cell"]),
            Paragraph(line.category_label, s["cell"]),
            Paragraph(_yen(line.certified_yen), s["num"]),
            Paragraph(_yen(line.expected_yen), s["num"]),
        ])
    certified_total = sum(line.certified_yen for line in lines)
    expected_total = sum(line.expected_yen for line in lines)
    rows.append([Paragraph("合計", s["head"]), "", "", "",
                 Paragraph(_yen(certified_total), s["num"]), Paragraph(_yen(expected_total), s["num"])])
    widths = [28 * mm, 45 * mm, 22 * mm, 39 * mm, 23 * mm, 23 * mm]  # a 12-digit contract number fits on one line at 10 pt
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#555555")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f4f4f4")),
        ("SPAN", (0, -1), (3, -1)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story += [table, Spacer(1, 5 * mm)]

    notes = [
        f"証明額：{year}年1月1日から発行日（{format_date_jp(issued_on)}）までにお払い込みいただいた掛金です。",
        f"申告予定額：証明額に、{year}年12月31日までにお払い込み予定の掛金を加えた額です。"
        "年末調整では申告予定額を、確定申告では12月31日までの実際のお払込額をご記入ください。",
        "地震保険料は、住まいる共済のうち自然災害共済の掛金のみです（火災共済の掛金は控除の対象になりません）。",
        "この証明書は再発行分です。確認番号により発行内容を照会できます。",
    ]
    story += [Paragraph("・" + n, s["note"]) for n in notes]
    story += [Spacer(1, 10 * mm), Paragraph(co_op_name, s["name"]),
              Paragraph("サービスセンター 0120-00-0000（平日9:00〜19:00、土曜9:00〜17:00）", s["note"])]
    doc.build(story)
    return buffer.getvalue()
