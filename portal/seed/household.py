"""The demo household (山田 太郎 and family, 佐藤 次郎), the products and the demo staff."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.auth.passwords import hash_password
from portal.clock import today, utcnow
from portal.contracts.catalogue import MONTHLY_PREMIUM_YEN, PRODUCTS, coverage_rows, sumairu_premiums
from portal.contracts.models import Contract, Coverage, PremiumChange, PremiumPayment, Product
from portal.jp.dates import add_months
from portal.members.models import DebitAccount, InsuredPerson, Member
from portal.staff.accounts import create_staff
from portal.staff.models import StaffUser

DEMO_PASSWORD = "Demo-pass-2026"
STAFF_PASSWORD = "Staff-pass-2026"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_STAFF = (("support@example.jp", "support", "佐々木（サポート）"), ("cs@example.jp", "cs", "高橋（CS推進）"),
              ("marketing@example.jp", "marketing", "伊藤（マーケティング）"), ("admin@example.jp", "admin", "小林（管理者）"))


def ensure_products(session: Session) -> dict[str, Product]:
    existing = {p.code: p for p in session.scalars(select(Product))}
    for spec in PRODUCTS:
        if spec.code not in existing:
            product = Product(code=spec.code, name=spec.name, kind=spec.kind,
                              deduction_category=spec.deduction_category, deduction_system=spec.deduction_system,
                              premium_period=spec.premium_period, min_entry_age=spec.min_entry_age,
                              max_entry_age=spec.max_entry_age, max_cover_age=spec.max_cover_age,
                              description=spec.description)
            session.add(product)
            existing[spec.code] = product
    session.flush()
    return existing


def _month_start(d: date) -> date:
    return d.replace(day=1)


def add_contract(session: Session, member: Member, product: Product, insured: InsuredPerson, contract_no: str,
                 start: date, premium_yen: int, *, units: int = 2, deductible_yen: int | None = None,
                 debit: DebitAccount | None = None, status: str = "in_force", end_date: date | None = None,
                 coverage_kwargs: dict | None = None, **extra) -> Contract:
    contract = Contract(
        contract_no=contract_no, member_id=member.id, product_id=product.id, insured_person_id=insured.id,
        units=units, start_date=start, end_date=end_date, status=status, premium_yen=premium_yen,
        deductible_premium_yen=premium_yen if deductible_yen is None else deductible_yen,
        premium_period=product.premium_period, payment_method="debit" if debit else "transfer",
        debit_account_id=debit.id if debit else None, certificate_status="shipped",
        certificate_shipped_on=start - timedelta(days=10), **extra,
    )
    contract.coverages = [Coverage(kind=k, amount_yen=a, is_unlimited=u, age_from=lo, age_to=hi)
                          for k, a, u, lo, hi in coverage_rows(product.code, **(coverage_kwargs or {}))]
    session.add(contract)
    session.flush()
    return contract


def add_payments(session: Session, contract: Contract, months: int = 12) -> None:
    """The last `months` monthly debits (27th), or yearly debits in the start month."""
    day = today()
    last = _month_start(day) if day.day >= 27 else add_months(_month_start(day), -1)
    if contract.premium_period == "monthly":
        periods = [add_months(last, -i) for i in range(months)]
    else:
        periods = [p for p in (add_months(last, -i) for i in range(months)) if p.month == contract.start_date.month]
    for period in periods:
        if period < _month_start(contract.start_date):
            continue
        session.add(PremiumPayment(contract_id=contract.id, period=period, amount_yen=contract.premium_yen,
                                   deductible_yen=contract.deductible_premium_yen,
                                   paid_on=period.replace(day=27), status="paid"))
    session.flush()


def demo_member(session: Session, member_no: str = "1000000001") -> Member | None:
    """山田 太郎 (or, by number, 佐藤 次郎 "1000000002") if the demo household is there."""
    return session.scalar(select(Member).where(Member.member_no == member_no))


def ensure_staff(session: Session, people: tuple[tuple[str, str, str], ...]) -> bool:
    """Each (e-mail, role, name) not yet there, with the demo password and TOTP secret."""
    created = False
    for email, role, name in people:
        if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is None:
            create_staff(session, email, [role], STAFF_PASSWORD, name=name, totp_secret=STAFF_TOTP_SECRET)
            created = True
    return created


def seed_staff(session: Session) -> bool:
    """The demo staff, on a database that has no staff user yet."""
    if session.scalar(select(func.count()).select_from(StaffUser)):
        return False
    return ensure_staff(session, DEMO_STAFF)


def seed_household(session: Session, products: dict[str, Product]) -> bool:
    """山田 太郎's household with seven contracts, and 佐藤 次郎 (not yet registered).
    False if they are there already."""
    if demo_member(session) is not None:
        return False
    taro = Member(member_no="1000000001", name="山田 太郎", name_kana="ヤマダ タロウ", birth_date=date(1966, 12, 15),
                  sex="male", postal_code="1510053", prefecture="東京都", city="渋谷区", street="代々木1-2-3",
                  building=None, phone="09012340001", email="demo@example.jp", login_id="demo",
                  password_hash=hash_password(DEMO_PASSWORD), status="active", shares=10, registered_at=utcnow())
    session.add(taro)
    session.flush()
    self_ = InsuredPerson(member_id=taro.id, relation="self", name="山田 太郎", name_kana="ヤマダ タロウ",
                          birth_date=taro.birth_date, sex="male")
    hanako = InsuredPerson(member_id=taro.id, relation="spouse", name="山田 花子", name_kana="ヤマダ ハナコ",
                           birth_date=date(1970, 4, 2), sex="female")
    ichiro = InsuredPerson(member_id=taro.id, relation="child", name="山田 一郎", name_kana="ヤマダ イチロウ",
                           birth_date=date(2012, 5, 5), sex="male")
    sakura = InsuredPerson(member_id=taro.id, relation="child", name="山田 さくら", name_kana="ヤマダ サクラ",
                           birth_date=date(2015, 8, 20), sex="female")
    session.add_all([self_, hanako, ichiro, sakura])
    debit = DebitAccount(member_id=taro.id, bank_code="0001", bank_name="みずほ銀行", branch_code="001",
                         branch_name="東京営業部", account_type=1, account_number="1234567", holder_name="ﾔﾏﾀﾞ ﾀﾛｳ")
    session.add(debit)
    session.flush()

    sogo = add_contract(session, taro, products["KOKUMIN_SOGO"], self_, "100000000101", date(2010, 4, 1),
                        MONTHLY_PREMIUM_YEN["KOKUMIN_SOGO"], debit=debit)
    sogo.premium_changes = [
        PremiumChange(effective_from=date(2010, 4, 1), premium_yen=1_600, reason="ご加入"),
        PremiumChange(effective_from=date(2023, 4, 1), premium_yen=1_800,
                      reason="制度改定（保障内容の見直しと共済掛金の改定）"),
    ]
    iryo = add_contract(session, taro, products["KOKUMIN_IRYO"], hanako, "100000000102", date(2018, 7, 1),
                        MONTHLY_PREMIUM_YEN["KOKUMIN_IRYO"], debit=debit)
    iryo.premium_changes = [PremiumChange(effective_from=date(2018, 7, 1), premium_yen=2_300, reason="ご加入")]
    kodomo1 = add_contract(session, taro, products["KOKUMIN_KODOMO"], ichiro, "100000000103", date(2012, 7, 1),
                           MONTHLY_PREMIUM_YEN["KOKUMIN_KODOMO"], units=1, debit=debit)
    kodomo2 = add_contract(session, taro, products["KOKUMIN_KODOMO"], sakura, "100000000104", date(2015, 10, 1),
                           MONTHLY_PREMIUM_YEN["KOKUMIN_KODOMO"], units=1, debit=debit)
    total, earthquake = sumairu_premiums("wooden", 300)
    sumairu = add_contract(session, taro, products["SUMAIRU"], self_, "100000000105", date(2016, 9, 1), total,
                           units=300, deductible_yen=earthquake, debit=debit,
                           coverage_kwargs={"building_units": 200, "goods_units": 100},
                           property_postal_code="1510053", property_address="東京都渋谷区代々木1-2-3",
                           property_structure="wooden")
    mycar = add_contract(session, taro, products["MYCAR"], self_, "100000000106", date(2021, 3, 1), 60_000,
                         units=1, deductible_yen=0, debit=debit)
    nenkin = add_contract(session, taro, products["NENKIN"], self_, "100000000107", date(2014, 6, 1), 10_000,
                          units=1, debit=debit)
    for contract in (sogo, iryo, kodomo1, kodomo2, sumairu, mycar, nenkin):
        if not contract.premium_changes:
            contract.premium_changes = [PremiumChange(effective_from=contract.start_date,
                                                      premium_yen=contract.premium_yen, reason="ご加入")]
        add_payments(session, contract)

    jiro = Member(member_no="1000000002", name="佐藤 次郎", name_kana="サトウ ジロウ", birth_date=date(1975, 10, 10),
                  sex="male", postal_code="5300001", prefecture="大阪府", city="大阪市北区", street="梅田1-1-1",
                  building="梅田ハイツ101", phone="09012340002", email=None, status="active", shares=10)
    session.add(jiro)
    session.flush()
    jiro_self = InsuredPerson(member_id=jiro.id, relation="self", name="佐藤 次郎", name_kana="サトウ ジロウ",
                              birth_date=jiro.birth_date, sex="male")
    session.add(jiro_self)
    session.flush()
    jiro_contract = add_contract(session, jiro, products["KOKUMIN_IRYO"], jiro_self, "200000000201",
                                 date(2019, 4, 1), MONTHLY_PREMIUM_YEN["KOKUMIN_IRYO"])
    jiro_contract.premium_changes = [PremiumChange(effective_from=date(2019, 4, 1), premium_yen=2_300,
                                                   reason="ご加入")]
    add_payments(session, jiro_contract)
    session.flush()
    return True

