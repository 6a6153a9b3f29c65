"""Demo content: tips articles, a year and a half of members' voices, and the FAQ."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clock import TOKYO, today, utcnow
from portal.help.models import FaqEntry
from portal.jp.dates import fiscal_year, fiscal_year_range
from portal.staff.models import StaffUser
from portal.tips.models import Tip
from portal.tips.services import ensure_categories, save_revision, slug_taken
from portal.voices.models import VOICE_CHANNELS, Voice
from portal.voices.services import register_voice

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


# --- demo FAQ ------------------------------------------------------------------------
DEMO_FAQ = (
    ("住所が変わったときの手続きは？", "マイページの「登録内容」→「住所」から変更できます。住まいる共済の対象の建物も移る場合は、引っ越し日と新しい建物の構造もお知らせください。"),
    ("解約したいときは？", "「ご契約一覧」から解約したいご契約を開き、「解約する」を選んでください。保障の終わる日と最後のお引き落とし（年払いは返金額）を確認してからお申し込みいただけます。"),
    ("共済掛金証明書をなくしました", "10月から翌年3月まで、[共済掛金証明書](/certificates)のページから再発行（郵送またはPDF）できます。"),
    ("こども保障タイプは何歳まで？", "18歳を迎えた後の最初の更新日の前日までです。満了の60日前にお知らせし、大人向けのこくみん共済へのご加入をご案内します。"),
)


def seed_faq(session: Session) -> int:
    if session.scalar(select(FaqEntry.id).limit(1)) is not None:
        return 0
    for i, (question, answer) in enumerate(DEMO_FAQ):
        session.add(FaqEntry(question=question, answer_markdown=answer, sort_order=(i + 1) * 10))
    session.flush()
    return len(DEMO_FAQ)
