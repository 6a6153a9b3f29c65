"""Demo content: tips articles, a year and a half of members' voices, and the FAQ."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

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
TIPS_DIR = Path(__file__).with_name("tips")


def demo_tips() -> list[dict[str, Any]]:
    """The articles in seed/tips/<slug>.md: `key: value` lines (title, summary, category,
    audience, days_ago), a `---` line, then the Markdown body; newest first."""
    tips = []
    for path in TIPS_DIR.glob("*.md"):
        head, body = path.read_text(encoding="utf-8").split("\n---\n", 1)
        spec: dict[str, Any] = dict(line.split(": ", 1) for line in head.splitlines())
        spec.update(slug=path.stem, days_ago=int(spec["days_ago"]), body_md=body.rstrip("\n"))
        tips.append(spec)
    return sorted(tips, key=lambda spec: (spec["days_ago"], spec["slug"]))


def seed_tips(session: Session) -> int:
    """The demo categories and published articles (idempotent); returns how many were added."""
    categories = {c.code: c for c in ensure_categories(session)}
    added = 0
    now = utcnow()
    for spec in demo_tips():
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
                                   kind=kind, topic=topic, body=body, wants_reply=kind == "complaint", audited=False)
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
