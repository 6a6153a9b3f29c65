"""/documents: the product documents of what a member holds, and every letter
(notice) the co-op sent them.

A letter is the outbox row of the notice itself, so nothing can be sent
without appearing here: certificates, procedure notices, payment notices,
cover-end notices, inquiry replies.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.certificates.pdf import GOTHIC, MINCHO, _register_fonts
from portal.clock import to_tokyo
from portal.contracts.catalogue import PRODUCTS, ProductSpec
from portal.contracts.models import Contract, Product
from portal.members.models import Member
from portal.messaging.models import OutboxMessage
from portal.pagination import Page

DOC_KINDS = {"terms": "共済規約（約款）", "important": "重要事項説明書"}


@dataclass(frozen=True)
class ProductDocument:
    product: ProductSpec
    kind: str

    @property
    def title(self) -> str:
        return f"{self.product.name} {DOC_KINDS[self.kind]}"

    @property
    def filename(self) -> str:
        return f"{self.product.code.lower()}_{self.kind}.pdf"


def held_products(session: Session, member: Member) -> list[ProductSpec]:
    """Products of the member's contracts (in force or not: their terms still apply)."""
    codes = set(session.scalars(select(Product.code).join(Contract, Contract.product_id == Product.id)
                                .where(Contract.member_id == member.id)))
    return [p for p in PRODUCTS if p.code in codes]


def product_documents(session: Session, member: Member) -> list[ProductDocument]:
    return [ProductDocument(p, kind) for p in held_products(session, member) for kind in DOC_KINDS]


def product_document(session: Session, member: Member, code: str, kind: str) -> ProductDocument | None:
    for document in product_documents(session, member):
        if document.product.code.lower() == code.lower() and document.kind == kind:
            return document
    return None


def _paragraphs(spec: ProductSpec, kind: str) -> list[tuple[str, str]]:
    cover_to = "保障は共済規約に定める年齢まで続きます。" if spec.max_cover_age >= 120 else \
        f"保障は被共済者が{spec.max_cover_age + 1 if spec.kind == 'kokumin_kodomo' else spec.max_cover_age}歳を迎えた後の更新日の前日までです。"
    common = [
        ("この共済の概要", f"{spec.name}：{spec.description}"),
        ("加入できる方", f"加入時の年齢 {spec.min_entry_age}歳から{spec.max_entry_age}歳まで（組合員とそのご家族）。" + cover_to),
        ("掛金の払込み", "月払いは毎月27日（金融機関休業日は翌営業日）に口座振替でお払い込みいただきます。"
                     if spec.premium_period == "monthly" else "年払いは毎年の契約応当日の月にお払い込みいただきます。"),
    ]
    if kind == "important":
        return common + [
            ("クーリング・オフ", "お申込みの受付日から8日以内であれば、お申込みを取り消すことができます。"
                            "お払い込みいただいた掛金は全額お返しします。"),
            ("解約", "いつでも解約できます。月払いは毎月10日までのお申し出でその月の振替を止めます。"
                   "年払いは残りの契約期間のうち、まるまる残る月数分の掛金をお返しします。"),
            ("共済金をお支払いできない主な場合", "故意または重大な過失、告知義務違反、保障開始前の発病などの場合は"
                                    "お支払いできないことがあります。詳しくは共済規約をご確認ください。"),
        ]
    return common + [
        ("第1条（共済契約の成立）", "共済契約は、組合が申込みを承諾したときに成立し、保障開始日から効力を生じます。"),
        ("第2条（受取人）", "死亡共済金の受取人は、指定がない場合、配偶者、子、父母、孫、祖父母、兄弟姉妹の順とします。"
                       "受取人の指定・変更には被共済者の同意を要します。"),
        ("第3条（指定代理請求人）", "契約者は、配偶者、直系血族、兄弟姉妹、または同居もしくは生計を一にする"
                             "3親等内の親族のうち1名を指定代理請求人として指定できます。"),
        ("第4条（契約の終了）", "共済契約は、解約、保障期間の満了、または被共済者の死亡により終了します。"),
    ]


def render_product_pdf(document: ProductDocument, co_op_name: str) -> bytes:
    """The document as a PDF, with the certificate's fonts; body text 10.5 pt."""
    _register_fonts()
    base = ParagraphStyle("base", fontName=MINCHO, fontSize=10.5, leading=17, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontName=GOTHIC, fontSize=16, leading=24, alignment=1)
    heading = ParagraphStyle("heading", parent=base, fontName=GOTHIC, fontSize=12, leading=18, spaceBefore=8)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=document.title, author=co_op_name)
    story = [Paragraph(document.title, title), Spacer(1, 6 * mm)]
    for head, text in _paragraphs(document.product, document.kind):
        story += [Paragraph(head, heading), Paragraph(text, base)]
    story += [Spacer(1, 10 * mm), Paragraph(co_op_name, heading)]
    doc.build(story)
    return buffer.getvalue()


# ----------------------------------------------------------------- letters

def _tokyo_year_range(year: int) -> tuple[datetime, datetime]:
    """1 January to 1 January in Tokyo, as UTC instants."""
    from portal.clock import TOKYO

    return (datetime(year, 1, 1, tzinfo=TOKYO).astimezone(timezone.utc),
            datetime(year + 1, 1, 1, tzinfo=TOKYO).astimezone(timezone.utc))


def letter_years(session: Session, member: Member) -> list[int]:
    instants = session.scalars(select(OutboxMessage.created_at).where(OutboxMessage.member_id == member.id))
    return sorted({to_tokyo(at).year for at in instants}, reverse=True)


LETTERS_PER_PAGE = 50


def letters(session: Session, member: Member, *, year: int | None = None, query: str | None = None,
            page: int = 1, per_page: int = LETTERS_PER_PAGE) -> Page[OutboxMessage]:
    """The member's letters, newest first, a page at a time (every one reachable);
    in one Tokyo calendar year, or matching words."""
    stmt = select(OutboxMessage).where(OutboxMessage.member_id == member.id)
    if year is not None:
        start, end = _tokyo_year_range(year)
        stmt = stmt.where(OutboxMessage.created_at >= start, OutboxMessage.created_at < end)
    for word in (query or "").split()[:5]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where((OutboxMessage.subject.ilike(pattern, escape="\\"))
                          | (OutboxMessage.body.ilike(pattern, escape="\\")))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    result = Page(total=total, page=1, per_page=per_page)
    result.page = min(max(1, page), result.pages)
    result.items = list(session.scalars(stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                                        .offset(result.offset).limit(per_page)))
    return result


def letter_for(session: Session, member: Member, letter_id: int) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.id == letter_id,
                                                      OutboxMessage.member_id == member.id))


def letter_title(message: OutboxMessage) -> str:
    return message.subject or message.body.split("\n", 1)[0][:40]


__all__ = ["DOC_KINDS", "ProductDocument", "letter_for", "letter_title", "letter_years", "letters",
           "product_document", "product_documents", "render_product_pdf"]
