"""Demo data (`seed-demo`, idempotent) and bulk data for benchmarks (`seed-bulk`)."""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from portal.auth.passwords import hash_password
from portal.clock import TOKYO, today, utcnow
from portal.contracts.catalogue import MONTHLY_PREMIUM_YEN, PRODUCTS, coverage_rows, sumairu_premiums
from portal.contracts.models import Contract, Coverage, PremiumChange, PremiumPayment, Product
from portal.jp.dates import add_months, fiscal_year, fiscal_year_range
from portal.members.models import DebitAccount, InsuredPerson, Member, kana_keys
from portal.staff.models import StaffUser
from portal.staff.accounts import create_staff
from portal.tips.models import Tip
from portal.tips.services import ensure_categories, save_revision, slug_taken
from portal.voices.models import VOICE_CHANNELS, Voice
from portal.voices.services import register_voice

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


def seed_demo(session: Session) -> bool:
    """Create the demo household, the signup demo member and the demo staff. False if present."""
    products = ensure_products(session)
    created = False
    if not session.scalar(select(func.count()).select_from(StaffUser)):
        for email, role, name in DEMO_STAFF:
            create_staff(session, email, [role], STAFF_PASSWORD, name=name, totp_secret=STAFF_TOTP_SECRET)
        created = True
    created = bool(seed_tips(session)) or created
    from portal.seed_office import seed_office_staff, seed_office_work
    created = seed_office_staff(session, STAFF_PASSWORD, STAFF_TOTP_SECRET) or created
    from portal.help.services import seed_faq
    created = bool(seed_faq(session)) or created
    from portal.claims.demo import seed_claims_demo, seed_claims_staff
    created = seed_claims_staff(session, STAFF_PASSWORD, STAFF_TOTP_SECRET) or created
    cs_staff = session.scalar(select(StaffUser).where(StaffUser.email == "cs@example.jp"))
    if cs_staff is not None:
        created = bool(seed_demo_voices(session, cs_staff)) or created
    if session.scalar(select(Member).where(Member.member_no == "1000000001")) is not None:
        created = bool(seed_office_work(session)) or created
        created = bool(seed_claims_demo(session)) or created
        session.flush()
        return created

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
    seed_office_work(session)
    seed_claims_demo(session)
    return True


FAMILY_NAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
                "吉田", "山口", "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森",
                "池田", "橋本", "阿部", "石川", "山下", "中島", "石井", "小川", "前田", "岡田"]
FAMILY_KANA = ["サトウ", "スズキ", "タカハシ", "タナカ", "イトウ", "ワタナベ", "ヤマモト", "ナカムラ", "コバヤシ", "カトウ",
               "ヨシダ", "ヤマグチ", "マツモト", "イノウエ", "キムラ", "ハヤシ", "サイトウ", "シミズ", "ヤマザキ", "モリ",
               "イケダ", "ハシモト", "アベ", "イシカワ", "ヤマシタ", "ナカジマ", "イシイ", "オガワ", "マエダ", "オカダ"]
GIVEN = [("一郎", "イチロウ", "male"), ("花子", "ハナコ", "female"), ("健", "ケン", "male"), ("陽子", "ヨウコ", "female"),
         ("大輔", "ダイスケ", "male"), ("恵子", "ケイコ", "female"), ("誠", "マコト", "male"), ("裕子", "ユウコ", "female"),
         ("翔太", "ショウタ", "male"), ("美咲", "ミサキ", "female"), ("浩二", "コウジ", "male"), ("直美", "ナオミ", "female"),
         ("拓也", "タクヤ", "male"), ("由美", "ユミ", "female"), ("和也", "カズヤ", "male"), ("明美", "アケミ", "female"),
         ("修", "オサム", "male"), ("幸子", "サチコ", "female"), ("博", "ヒロシ", "male"), ("久美子", "クミコ", "female")]
# Search keys of every bulk name, computed once (portal.members.models.kana_keys).
_KEYS = {(f, g): kana_keys(f"{FAMILY_KANA[f]} {GIVEN[g][1]}") for f in range(len(FAMILY_KANA)) for g in range(len(GIVEN))}


def seed_bulk(session: Session, count: int, *, batch: int = 5_000,
              progress: Callable[[int], None] | None = None) -> int:
    """Insert `count` members, each with one insured person and two contracts, fast.

    Core multi-row inserts with ids assigned here: no ORM objects, no per-row round trips.
    Password hashes are left empty (bulk members are not registered), except that
    a benchmark can register one itself. `progress(n)` is called after each batch
    with the number of members it added (the CLI's progress bar).
    """
    if count <= 0:
        raise ValueError("--members must be a positive number")
    products = ensure_products(session)
    sogo, iryo = products["KOKUMIN_SOGO"], products["KOKUMIN_IRYO"]
    sogo_rows = coverage_rows("KOKUMIN_SOGO")
    iryo_rows = coverage_rows("KOKUMIN_IRYO")
    rng = random.Random(count)
    member_id = (session.scalar(select(func.max(Member.id))) or 0) + 1
    insured_id = (session.scalar(select(func.max(InsuredPerson.id))) or 0) + 1
    contract_id = (session.scalar(select(func.max(Contract.id))) or 0) + 1
    coverage_id = (session.scalar(select(func.max(Coverage.id))) or 0) + 1
    member_no = int(session.scalar(select(func.max(Member.member_no))) or "5000000000")
    member_no = max(member_no, 5_000_000_000)
    now = utcnow()
    done = 0
    while done < count:
        size = min(batch, count - done)
        members, insured, contracts, coverages = [], [], [], []
        for _ in range(size):
            member_no += 1
            f, g = rng.randrange(len(FAMILY_NAMES)), rng.randrange(len(GIVEN))
            given, given_kana, sex = GIVEN[g]
            birth = date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
            members.append({"id": member_id, "member_no": str(member_no), "name": f"{FAMILY_NAMES[f]} {given}",
                            "name_kana": f"{FAMILY_KANA[f]} {given_kana}", "name_kana_key": _KEYS[f, g][0],
                            "given_kana_key": _KEYS[f, g][1], "birth_date": birth, "sex": sex,
                            "postal_code": "1000001", "prefecture": "東京都", "city": "千代田区",
                            "street": f"千代田{rng.randrange(1, 9)}-{rng.randrange(1, 30)}", "building": None,
                            "phone": f"080{member_no % 100_000_000:08d}", "email": None, "login_id": None,
                            "password_hash": None, "status": "active", "shares": 10, "registered_at": None,
                            "created_at": now, "version": 1})
            insured.append({"id": insured_id, "member_id": member_id, "relation": "self",
                            "name": members[-1]["name"], "name_kana": members[-1]["name_kana"],
                            "birth_date": birth, "sex": sex})
            for product, rows, premium in ((sogo, sogo_rows, 1_800), (iryo, iryo_rows, 2_300)):
                contracts.append({"id": contract_id, "contract_no": f"9{contract_id:011d}", "member_id": member_id,
                                  "product_id": product.id, "insured_person_id": insured_id, "units": 2,
                                  "start_date": date(2015, 4, 1), "end_date": None, "status": "in_force",
                                  "premium_yen": premium, "deductible_premium_yen": premium,
                                  "premium_period": "monthly", "payment_method": "transfer",
                                  "debit_account_id": None, "property_postal_code": None, "property_address": None,
                                  "property_structure": None, "certificate_status": "shipped",
                                  "certificate_shipped_on": date(2015, 3, 20), "needs_rerating": False,
                                  "created_at": now, "version": 1})
                # ~40 coverage rows per member, most of the volume: kept as tuples and,
                # on PostgreSQL, written to COPY as text (see _copy_coverages).
                for kind, amount, unlimited, lo, hi in rows:
                    coverages.append((coverage_id, contract_id, kind, amount, unlimited, lo, hi))
                    coverage_id += 1
                contract_id += 1
            member_id += 1
            insured_id += 1
        for model, rows in ((Member, members), (InsuredPerson, insured), (Contract, contracts)):
            _bulk_insert(session, model, rows)
        _insert_coverages(session, coverages)
        session.commit()
        done += size
        if progress is not None:
            progress(size)
    _after_bulk_load(session)
    return done


def _bulk_insert(session: Session, model, rows: list[dict]) -> None:
    """COPY on PostgreSQL (several times faster than multi-row INSERT for the
    ~40 coverage rows of each member); a multi-row INSERT elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    columns = list(rows[0])
    table = model.__table__
    cursor = session.connection().connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


_COVERAGE_COLUMNS = ("id", "contract_id", "kind", "amount_yen", "is_unlimited", "age_from", "age_to")


def _insert_coverages(session: Session, rows: list[tuple]) -> None:
    """COPY in its text format on PostgreSQL: one f-string per row instead of a
    per-value adaptation (the values are ours: digits, ASCII kinds, booleans)."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(Coverage), [dict(zip(_COVERAGE_COLUMNS, row)) for row in rows])
        return
    cursor = session.connection().connection.dbapi_connection.cursor()
    text = "".join(f"{i}\t{c}\t{k}\t{a}\t{'t' if u else 'f'}\t{lo}\t{hi}\n" for i, c, k, a, u, lo, hi in rows)
    with cursor.copy(f"COPY coverages ({', '.join(_COVERAGE_COLUMNS)}) FROM STDIN") as copy:
        copy.write(text)


def _after_bulk_load(session: Session) -> None:
    """Serial sequences move past the ids inserted explicitly (PostgreSQL), and the
    planner learns the new table sizes: with stale statistics PostgreSQL reads the
    whole coverages table for one household instead of using its index."""
    from sqlalchemy import text
    tables = ("members", "insured_persons", "contracts", "coverages")
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    for table in tables:
        session.execute(text(f"ANALYZE {table}"))
    session.commit()


# --- demo tips -----------------------------------------------------------------------
DEMO_TIPS = (
    dict(slug="winter-cold-prevention", category="health", audience="everyone", days_ago=3,
         title="かぜ・インフルエンザを防ぐ冬の5つの習慣",
         summary="手洗い、換気、湿度、睡眠、ワクチン。毎日の小さな習慣で、家族みんなの冬の健康を守りましょう。",
         body_md=(
             "空気が乾燥する冬は、かぜやインフルエンザが流行しやすい季節です。"
             "今日からできる5つの習慣をご紹介します。\n\n"
             "## 1. 帰宅したらまず手洗い\n\n石けんで30秒、指の間や手首まで洗いましょう。\n\n"
             "## 2. 1時間に1回の換気\n\n寒い日でも、窓を5〜10分開けて空気を入れ替えます。\n\n"
             "## 3. 湿度は40〜60%に\n\n加湿器がなければ、濡れタオルを干すだけでも効果があります。\n\n"
             "## 4. しっかり睡眠\n\n睡眠不足は免疫力を下げます。いつもより少し早く休みましょう。\n\n"
             "## 5. ワクチン接種を検討\n\n流行前の接種がおすすめです。かかりつけ医にご相談ください。\n\n"
             "詳しくは[厚生労働省の情報ページ](https://www.mhlw.go.jp/)もご覧ください。")),
    dict(slug="winter-vegetables", category="seasonal-food", audience="everyone", days_ago=7,
         title="旬の冬野菜で体ぽかぽか　白菜と大根のかんたん献立",
         summary="甘みが増す冬の白菜と大根。安くて栄養たっぷりの旬の野菜を使った、体が温まるレシピです。",
         body_md=(
             "冬の白菜と大根は、寒さで甘みが増していちばんおいしい時期です。\n\n"
             "## 白菜と豚肉のミルフィーユ鍋\n\n"
             "1. 白菜と豚バラ肉を交互に重ね、5cm幅に切ります。\n"
             "2. 鍋に立てて詰め、だし400mlを注ぎます。\n"
             "3. ふたをして中火で15分。ポン酢でどうぞ。\n\n"
             "## 大根の葉のふりかけ\n\n"
             "捨てがちな葉も栄養の宝庫です。細かく刻んでごま油で炒め、しょうゆとかつお節で味を調えます。\n\n"
             "> 保存のコツ：大根は葉を切り落としてから新聞紙に包み、冷暗所に立てて保存しましょう。")),
    dict(slug="koden-manners", category="ceremony", audience="everyone", days_ago=14,
         title="いざという時にあわてない　香典の包み方と表書き",
         summary="宗教による表書きの違い、お札の入れ方、袱紗（ふくさ）の使い方まで、弔事の基本マナーをまとめました。",
         body_md=(
             "訃報は突然届くものです。基本のマナーを知っておけば、落ち着いて故人を偲ぶことができます。\n\n"
             "## 表書き\n\n"
             "- **仏式**：「御霊前」（四十九日以降は「御仏前」。浄土真宗は最初から「御仏前」）\n"
             "- **神式**：「御玉串料」「御榊料」\n"
             "- **キリスト教式**：「御花料」\n"
             "- 迷ったときは、どの宗教でも使える「御霊前」が一般的です。\n\n"
             "## お札の入れ方\n\n"
             "新札は避け、お札の肖像が裏側・下向きになるように入れます。"
             "新札しかない場合は、一度折り目をつけてから包みましょう。\n\n"
             "## 袱紗（ふくさ）\n\n"
             "弔事では紺・グレー・紫などの寒色系を使い、左開きになるように包みます。")),
    dict(slug="home-fire-prevention", category="living", audience="sumairu", days_ago=21,
         title="冬の火の用心　住まいの火災を防ぐチェックリスト",
         summary="暖房器具、コンセント、台所。火災が増える冬に、ご自宅で確認しておきたいポイントをまとめました。",
         body_md=(
             "空気が乾燥し暖房器具を使う冬は、住宅火災がもっとも多い季節です。\n\n"
             "## ご自宅のチェックリスト\n\n"
             "- ストーブの周りに洗濯物やカーテンなど燃えやすい物を置いていない\n"
             "- コンセントにほこりがたまっていない（トラッキング火災の予防）\n"
             "- 調理中にコンロから離れない\n"
             "- 住宅用火災警報器が作動する（10年を目安に交換）\n\n"
             "## 万一のときは\n\n"
             "身の安全を最優先に、119番へ通報してください。"
             "住まいる共済のご請求は、マイページのお問い合わせ窓口からご相談いただけます。")),
)


def seed_tips(session: Session) -> int:
    """The demo categories and published articles (idempotent); returns how many were added."""
    categories = {c.code: c for c in ensure_categories(session)}
    added = 0
    now = utcnow()
    for spec in DEMO_TIPS:
        if slug_taken(session, spec["slug"]):
            continue
        published_at = now - timedelta(days=spec["days_ago"])
        tip = Tip(slug=spec["slug"], title=spec["title"], summary=spec["summary"], body_md=spec["body_md"],
                  category_id=categories[spec["category"]].id, audience=spec["audience"], status="published",
                  published_at=published_at, created_at=published_at, updated_at=published_at)
        session.add(tip)
        session.flush()
        save_revision(session, tip, None, "デモデータ")
        added += 1
    session.flush()
    return added


# --- demo voices ---------------------------------------------------------------------
DEMO_VOICE_TEXTS = {
    ("thanks", "staff_service"): "ショップの方がとても丁寧に説明してくださり、安心して手続きできました。",
    ("thanks", "claims"): "入院の共済金がすぐに振り込まれて助かりました。ありがとうございました。",
    ("thanks", "web"): "マイページで保障内容が家族ごとに見られて分かりやすいです。",
    ("opinion", "mail"): "ダイレクトメールが多いので、必要なものだけにしてほしいです。",
    ("opinion", "products"): "制度改定で掛金が上がった理由を、もっと分かりやすく説明してほしいです。",
    ("opinion", "web"): "マイページの登録がもっと簡単になるとうれしいです。",
    ("opinion", "call_centre"): "サービスセンターの電話がつながりにくい時間帯があります。",
    ("complaint", "procedure"): "住所変更を申し込んだのに、更新の書類が旧住所で届きました。",
    ("complaint", "claims"): "台風の被害を報告したあと、しばらく何の連絡もありませんでした。",
}
# Close to the seed's mix (感謝 61%, 意見・要望 38%, 苦情 1%), rounded up so every kind shows.
DEMO_KIND_WEIGHTS = (("thanks", 60), ("opinion", 36), ("complaint", 4))


def seed_demo_voices(session: Session, staff: StaffUser, per_year: int = 100) -> int:
    """Voices over this and last business year, so the report and inbox have content.
    Idempotent: nothing is added once any voice exists."""
    if session.scalar(select(func.count()).select_from(Voice)):
        return 0
    rng = random.Random(2019)
    texts = list(DEMO_VOICE_TEXTS.items())
    channels = VOICE_CHANNELS
    fy_now = fiscal_year(today())
    added = 0
    for fy in (fy_now - 1, fy_now):
        start, end = fiscal_year_range(fy)
        last = min(end, today())
        span = (last - start).days
        for _ in range(per_year if fy < fy_now else max(1, per_year * span // 365)):
            kind = rng.choices([k for k, _ in DEMO_KIND_WEIGHTS], [w for _, w in DEMO_KIND_WEIGHTS])[0]
            (_, topic), body = rng.choice([t for t in texts if t[0][0] == kind])
            day = start + timedelta(days=rng.randrange(span + 1))
            received_at = datetime(day.year, day.month, day.day, 9 + rng.randrange(9), rng.randrange(60),
                                   tzinfo=TOKYO)
            voice = register_voice(session, staff, channel=rng.choice(channels), received_at=received_at,
                                   kind=kind, topic=topic, body=body, wants_reply=kind == "complaint")
            if day < today() - timedelta(days=14):
                voice.status = "closed"
            added += 1
    return added
