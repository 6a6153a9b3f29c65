"""Demo work for the office: the staff user office@example.jp and open procedures of
every kind for the demo household, some of them past their due date."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clock import today, utcnow
from portal.jp.dates import first_debit_date
from portal.jp.text import honorific
from portal.members.models import DebitAccount, Member
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.seed.household import demo_member, ensure_staff

OFFICE_STAFF = ("office@example.jp", "office", "山本（事務センター）")
KEY = "demo:office:"


def seed_office_staff(session: Session) -> bool:
    return ensure_staff(session, (OFFICE_STAFF,))


def start_once(session: Session, member: Member, kind: str, summary: str, key: str, *, days_ago: int = 0,
               **kw) -> ProcedureRequest | None:
    """A demo procedure found again by its key (so seed-demo stays idempotent); None if
    it is there already. `days_ago` backdates the receipt so that queues show what is overdue."""
    if procedures.find_by_key(session, key) is not None:
        return None
    request = procedures.start(session, member, kind, summary, idempotency_key=key, notify=False, **kw)
    if days_ago:
        received = utcnow() - timedelta(days=days_ago)
        request.created_at = received
        for event in request.events:
            event.occurred_at = received
    return request


def seed_office_work(session: Session, taro: Member) -> int:
    """Open procedures for the demo household (idempotent: each has its own key)."""
    added = 0
    if procedures.find_by_key(session, KEY + "bank") is None:
        account = DebitAccount(member_id=taro.id, bank_code="0005", bank_name="三菱UFJ銀行", branch_code="001",
                               branch_name="本店", account_type=1, account_number="7654321",
                               holder_name="ﾔﾏﾀﾞ ﾀﾛｳ", is_current=False)
        session.add(account)
        session.flush()
        effective = first_debit_date(today())
        added += bool(start_once(
            session, taro, "bank_account_change",
            f"新しい振替口座：{account.masked}（{effective.year}年{effective.month}月の口座振替から）",
            KEY + "bank", days_ago=9, effective_date=effective,
            detail={"debit_account_id": account.id, "received_on": today().isoformat()}))
    added += bool(start_once(
        session, taro, "paper_forms", "死亡・重度障害共済金の請求書類の送付（お電話で承りました）", KEY + "paper",
        days_ago=4, detail={"note": "父の死亡共済金の請求書類を送ってほしい", "taken_by": "phone"}))
    added += bool(start_once(session, taro, "inquiry", "掛金の引き落とし日について（お電話で承りました）",
                             KEY + "inquiry", detail={"note": "今月の引き落とし日を知りたい", "taken_by": "phone"}))
    added += _seed_feature_work(session, taro)
    # The mailing request is the second demo member's: the household's own stays free
    # for trying the one-request-a-year rule on /certificates.
    jiro = demo_member(session, "1000000002")
    if jiro is not None:
        year = today().year if today().month >= 10 else today().year - 1
        added += bool(start_once(session, jiro, "certificate_mail",
                                 f"{year}年分 共済掛金証明書をご登録の住所へ郵送します。", KEY + "certificate_mail",
                                 days_ago=2, detail={"year": year, "contracts": ["200000000201"],
                                         "address": f"〒{jiro.postal_code[:3]}-{jiro.postal_code[3:]} {jiro.address}"}))
    session.flush()
    return added


def _seed_feature_work(session: Session, taro: Member) -> int:
    """A certificate to ship, a property to re-rate, an application to decide, a kit to send."""
    import json

    from portal.contracts.models import Contract
    from portal.contracts.rerating import start_rerating
    from portal.contracts.shipping import start_certificate
    from portal.enrollment.models import Application
    from portal.enrollment.services import MONTHLY_PREMIUM_YEN, UNITS, expected_start_date
    from portal.jp.money import tax_amount, tax_included
    from portal.members.models import InsuredPerson
    from portal.shop.catalogue import get as get_offer
    from portal.shop.models import ShopOrder

    added = 0
    contracts = {c.contract_no: c for c in session.scalars(select(Contract).where(Contract.member_id == taro.id))}
    mycar, sumairu = contracts.get("100000000106"), contracts.get("100000000105")
    if mycar is not None and procedures.find_by_key(session, KEY + "certificate") is None:
        request = start_certificate(session, mycar, reason="ご契約の更新")
        request.idempotency_key = KEY + "certificate"
        added += 1
    if sumairu is not None and procedures.find_by_key(session, KEY + "rerating") is None:
        request = start_rerating(session, sumairu, today() - timedelta(days=3))
        request.idempotency_key = KEY + "rerating"
        added += 1
    hanako = session.scalar(select(InsuredPerson).where(InsuredPerson.member_id == taro.id,
                                                        InsuredPerson.relation == "spouse"))
    if hanako is not None and procedures.find_by_key(session, KEY + "enrollment") is None:
        request = start_once(session, taro, "enrollment",
                             f"こくみん共済 総合保障タイプ（被共済者 {hanako.name}さま、月掛金 "
                             f"{MONTHLY_PREMIUM_YEN['KOKUMIN_SOGO']:,}円）", KEY + "enrollment", days_ago=1,
                             effective_date=expected_start_date(today()),
                             detail={"product_code": "KOKUMIN_SOGO", "insured_person_id": hanako.id})
        account = session.scalar(select(DebitAccount).where(DebitAccount.member_id == taro.id,
                                                            DebitAccount.is_current.is_(True)))
        session.add(Application(member_id=taro.id, procedure_request_id=request.id, insured_person_id=hanako.id,
                                product_code="KOKUMIN_SOGO", units=UNITS["KOKUMIN_SOGO"],
                                monthly_premium_yen=MONTHLY_PREMIUM_YEN["KOKUMIN_SOGO"],
                                debit_account_id=account.id if account else None,
                                payment_method="debit" if account else "transfer",
                                declaration=json.dumps({"q1": "no", "q2": "no", "q3": "no", "q4": "no"})))
        added += 1
    offer = get_offer("KC-SINGLE")
    if offer is not None and procedures.find_by_key(session, KEY + "kit") is None:
        request = start_once(session, taro, "shop_order", f"{offer.name}（{honorific(taro.name)}）", KEY + "kit",
                             days_ago=5, status="paid", detail={"sku": offer.sku})
        self_ = session.scalar(select(InsuredPerson).where(InsuredPerson.member_id == taro.id,
                                                           InsuredPerson.relation == "self"))
        order = ShopOrder(order_no="S-DEMO-0001", member_id=taro.id, procedure_id=request.id,
                          idempotency_key=KEY + "kit-order", sku=offer.sku, product_name=offer.name,
                          insured_person_id=self_.id if self_ else None, recipient_name=taro.name, quantity=1,
                          unit_price_yen=offer.member_price_yen, tax_yen=tax_amount(offer.member_price_yen),
                          total_yen=tax_included(offer.member_price_yen), status="paid",
                          paid_at=utcnow() - timedelta(days=5), card_last4="4242")
        session.add(order)
        request.detail = json.dumps({"order_no": order.order_no, "sku": offer.sku}, ensure_ascii=False)
        added += 1
    session.flush()
    return added
