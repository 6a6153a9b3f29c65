"""Voice services: submission, due dates, workflow, replies, improvement items, the report, CSV."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from portal.clock import TOKYO
from portal.csvexport import csv_lines, csv_safe, csv_text
from portal.messaging.models import OutboxMessage
from portal.voices import report as voice_report
from portal.voices import services
from portal.voices.models import Voice


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.fixture
def cs(make_staff):
    return make_staff("cs")


def register(db_session, staff, when: datetime, kind="opinion", topic="other", channel="shop", body="ご意見です",
             **kw):
    return services.register_voice(db_session, staff, channel=channel, received_at=when, kind=kind, topic=topic,
                                   body=body, wants_reply=kw.pop("wants_reply", False), **kw)


# ---------------------------------------------------------------- due dates

def test_complaint_before_golden_week_is_due_after_it():
    # Fri 30 Apr 2027; 3, 4, 5 May are holidays, 1-2 May a weekend: Thu 6 May is day 1, Fri 7 May day 2.
    assert services.response_due_on("complaint", date(2027, 4, 30)) == date(2027, 5, 7)


def test_complaint_due_date_skips_year_end_and_new_year():
    # Wed 30 Dec 2026 → 31 Dec – 3 Jan closed → Mon 4 Jan (1), Tue 5 Jan (2).
    assert services.response_due_on("complaint", date(2026, 12, 30)) == date(2027, 1, 5)
    # An ordinary week: Monday → Wednesday.
    assert services.response_due_on("complaint", date(2026, 11, 16)) == date(2026, 11, 18)


def test_only_complaints_have_a_due_date():
    assert services.response_due_on("opinion", date(2027, 4, 30)) is None
    assert services.response_due_on("thanks", date(2027, 4, 30)) is None


def test_submitted_complaint_due_date_and_overdue_mark(db_session, make_member):
    member = make_member()
    with time_machine.travel(at(2027, 4, 30, 18, 0), tick=False):
        result = services.submit_voice(db_session, kind="complaint", topic="claims", body="連絡がありません",
                                       wants_reply=False, member=member)
    voice = result.voice
    assert voice.wants_reply is True  # always for a complaint
    assert voice.received_on == date(2027, 4, 30)
    assert voice.response_due_on == date(2027, 5, 7)
    assert not voice.is_overdue(date(2027, 5, 7))
    assert voice.is_overdue(date(2027, 5, 8))


def test_received_date_is_the_tokyo_date(db_session, cs):
    # 23:30 on 31 May in Tokyo is 14:30 UTC the same day; 00:30 on 1 June Tokyo is still 31 May in UTC.
    with time_machine.travel(at(2026, 7, 1, 9, 0), tick=False):
        late = register(db_session, cs, at(2026, 5, 31, 23, 30))
        early = register(db_session, cs, at(2026, 6, 1, 0, 30))
    assert late.received_on == date(2026, 5, 31)
    assert early.received_on == date(2026, 6, 1)


# ---------------------------------------------------------------- submission rules

def test_member_submission_queues_acknowledgement(db_session, make_member):
    member = make_member()
    result = services.submit_voice(db_session, kind="thanks", topic="staff_service", body="丁寧な対応でした",
                                   wants_reply=False, member=member, idempotency_key="k1")
    assert result.created
    assert result.voice.receipt_no.startswith("V")
    assert result.voice.channel == "web"
    [message] = result.messages
    assert message.member_id == member.id
    assert message.channel == "sms" and message.recipient == "+81" + member.phone[1:]
    # a thank-you is not a "valuable opinion", and the number is not a clipped sentence of its own
    assert f"お客さまの声をお寄せいただき、ありがとうございます（受付番号 {result.voice.receipt_no}）。" \
        in message.body


def test_same_token_gives_one_voice(db_session, make_member):
    member = make_member()
    first = services.submit_voice(db_session, kind="opinion", topic="web", body="文字を大きく", wants_reply=True,
                                  member=member, idempotency_key="same-token")
    second = services.submit_voice(db_session, kind="opinion", topic="web", body="文字を大きく", wants_reply=True,
                                   member=member, idempotency_key="same-token")
    assert not second.created and second.voice.id == first.voice.id
    assert db_session.scalar(select(func.count()).select_from(Voice)) == 1
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_another_members_token_is_refused(db_session, make_member):
    a, b = make_member(), make_member()
    services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=False, member=a,
                          idempotency_key="tok")
    with pytest.raises(services.VoiceError):
        services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=False, member=b,
                              idempotency_key="tok")


def test_visitor_needs_name_and_a_contact(db_session):
    with pytest.raises(services.VoiceError) as error:
        services.submit_voice(db_session, kind="opinion", topic="other", body="意見", wants_reply=True,
                              contact_name="山田 花子")
    assert error.value.field == "contact_email"
    with pytest.raises(services.VoiceError) as error:
        services.submit_voice(db_session, kind="opinion", topic="other", body="意見", wants_reply=True,
                              contact_phone="090-1234-5678")
    assert error.value.field == "contact_name"
    with pytest.raises(services.VoiceError) as error:
        services.submit_voice(db_session, kind="opinion", topic="other", body="意見", wants_reply=True,
                              contact_name="山田 花子", contact_phone="12345")
    assert error.value.field == "contact_phone"


def test_visitor_acknowledgement_goes_to_their_contact(db_session):
    by_mail = services.submit_voice(db_session, kind="opinion", topic="other", body="意見", wants_reply=True,
                                    contact_name="山田 花子", contact_email="Hanako@Example.JP")
    assert by_mail.voice.member_id is None
    assert by_mail.messages[0].channel == "mail"
    assert by_mail.messages[0].recipient.lower() == "hanako@example.jp"
    # Full-width digits are normalised; a fixed line gets a voice call, a mobile an SMS.
    by_landline = services.submit_voice(db_session, kind="opinion", topic="other", body="意見", wants_reply=True,
                                        contact_name="山田 花子", contact_phone="０３－１２３４－５６７８")
    assert by_landline.voice.contact == "0312345678"
    assert (by_landline.messages[0].channel, by_landline.messages[0].recipient) == ("voice", "+81312345678")
    by_mobile = services.submit_voice(db_session, kind="opinion", topic="other", body="意見", wants_reply=True,
                                      contact_name="山田 花子", contact_phone="09012345678")
    assert by_mobile.messages[0].channel == "sms"


def test_body_limit_is_4000_characters_after_normalising(db_session, make_member):
    member = make_member()
    ok = services.submit_voice(db_session, kind="opinion", topic="other", body="あ" * 3998 + "\r\n" + "い",
                               wants_reply=False, member=member)
    assert len(ok.voice.body) == 4000
    with pytest.raises(services.VoiceError) as error:
        services.submit_voice(db_session, kind="opinion", topic="other", body="あ" * 4001, wants_reply=False,
                              member=member)
    assert error.value.field == "body" and "4,000" in error.value.message
    with pytest.raises(services.VoiceError):
        services.submit_voice(db_session, kind="opinion", topic="other", body=" \n ", wants_reply=False,
                              member=member)


def test_unknown_kind_and_topic_are_refused(db_session, make_member):
    member = make_member()
    with pytest.raises(services.VoiceError) as error:
        services.submit_voice(db_session, kind="praise", topic="other", body="x", wants_reply=False, member=member)
    assert error.value.field == "kind"
    with pytest.raises(services.VoiceError) as error:
        services.submit_voice(db_session, kind="thanks", topic="weather", body="x", wants_reply=False, member=member)
    assert error.value.field == "topic"


def test_related_contract_must_be_the_members_own(db_session, make_member, make_contract):
    a, b = make_member(), make_member()
    own = make_contract(a)
    other = make_contract(b)
    result = services.submit_voice(db_session, kind="opinion", topic="procedure", body="x", wants_reply=False,
                                   member=a, contract_id=own.id)
    assert result.voice.contract_id == own.id
    with pytest.raises(services.VoiceError) as error:
        services.submit_voice(db_session, kind="opinion", topic="procedure", body="x", wants_reply=False,
                              member=a, contract_id=other.id)
    assert error.value.field == "contract"


def test_staff_registration_keeps_channel_and_refuses_future(db_session, cs, make_member):
    member = make_member()
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        voice = register(db_session, cs, at(2026, 11, 26, 15, 0), kind="complaint", channel="call_centre",
                         member_no=member.member_no)
        assert voice.channel == "call_centre" and voice.member_id == member.id
        assert voice.registered_by_staff_id == cs.id
        assert voice.response_due_on == date(2026, 11, 30)  # Thu → Fri (1), Mon (2)
        with pytest.raises(services.VoiceError) as error:
            register(db_session, cs, at(2026, 11, 28, 10, 0))
        assert error.value.field == "received_at"
        with pytest.raises(services.VoiceError) as error:
            register(db_session, cs, at(2026, 11, 26, 10, 0), member_no="9999999999")
        assert error.value.field == "member_no"


# ---------------------------------------------------------------- workflow and replies

def test_status_workflow(db_session, cs, make_member):
    member = make_member()
    voice = services.submit_voice(db_session, kind="complaint", topic="mail", body="書類が届かない",
                                  wants_reply=True, member=member).voice
    assert voice.status == "received"
    with pytest.raises(services.VoiceError):
        services.change_status(db_session, voice, "answered")  # only by sending a reply
    services.change_status(db_session, voice, "in_progress")
    with pytest.raises(services.VoiceError) as error:
        services.change_status(db_session, voice, "closed")  # a reply is wanted first
    assert "回答" in error.value.message
    services.send_reply(db_session, voice, cs, "ご不便をおかけしました。本日発送しました。")
    assert voice.status == "answered" and voice.first_response_at is not None
    services.change_status(db_session, voice, "closed")
    assert voice.status == "closed"
    with pytest.raises(services.VoiceError):
        services.send_reply(db_session, voice, cs, "追記")
    services.change_status(db_session, voice, "in_progress")  # reopened
    assert voice.status == "in_progress"


def test_thanks_without_reply_can_be_closed_at_once(db_session, make_member):
    voice = services.submit_voice(db_session, kind="thanks", topic="staff_service", body="ありがとう",
                                  wants_reply=False, member=make_member()).voice
    services.change_status(db_session, voice, "closed")
    assert voice.status == "closed"


def test_stale_version_is_a_conflict(db_session, make_member):
    voice = services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=True,
                                  member=make_member()).voice
    version = voice.version
    services.change_status(db_session, voice, "in_progress", expected_version=version)
    with pytest.raises(services.VoiceConflict):
        services.change_status(db_session, voice, "received", expected_version=version)


def test_reply_goes_by_the_members_channel(db_session, cs, make_member):
    member = make_member(email="taro@example.jp")
    voice = services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=True,
                                  member=member).voice
    reply = services.send_reply(db_session, voice, cs, "ご意見ありがとうございます。")
    message = db_session.get(OutboxMessage, reply.outbox_message_id)
    assert message.member_id == member.id
    assert message.recipient in ("+81" + member.phone[1:], "taro@example.jp")
    assert "ご意見ありがとうございます。" in message.body
    assert voice.assignee_staff_id == cs.id


def test_reply_to_visitor_and_to_voice_without_contact(db_session, cs):
    visitor = services.submit_voice(db_session, kind="complaint", topic="other", body="x", wants_reply=True,
                                    contact_name="佐藤", contact_email="sato@example.jp").voice
    reply = services.send_reply(db_session, visitor, cs, "回答します")
    message = db_session.get(OutboxMessage, reply.outbox_message_id)
    assert (message.channel, message.recipient, message.member_id) == ("mail", "sato@example.jp", None)
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        walk_in = register(db_session, cs, at(2026, 11, 27, 9, 0), kind="complaint")
    reply = services.send_reply(db_session, walk_in, cs, "店頭で説明しました")
    assert reply.channel == "record" and reply.outbox_message_id is None
    assert walk_in.first_response_at is not None and not walk_in.is_overdue(date(2027, 1, 1))


def test_assign_only_to_cs_staff(db_session, cs, make_staff, make_member):
    marketing = make_staff("marketing")
    voice = services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=False,
                                  member=make_member()).voice
    with pytest.raises(services.VoiceError):
        services.assign(db_session, voice, marketing.id)
    services.assign(db_session, voice, cs.id)
    assert voice.assignee_staff_id == cs.id and voice.status == "in_progress"


def test_notes_are_kept(db_session, cs, make_member):
    voice = services.submit_voice(db_session, kind="opinion", topic="web", body="x", wants_reply=False,
                                  member=make_member()).voice
    services.add_note(db_session, voice, cs, "システム部に確認中")
    assert [n.body for n in voice.notes] == ["システム部に確認中"]


# ---------------------------------------------------------------- improvement items

def test_improvement_item_links_voices(db_session, cs, make_member):
    member = make_member()
    v1 = services.submit_voice(db_session, kind="complaint", topic="web", body="住所変更が止まった",
                               wants_reply=True, member=member).voice
    v2 = services.submit_voice(db_session, kind="opinion", topic="web", body="住所変更を簡単に",
                               wants_reply=False, member=member).voice
    item = services.create_item(db_session, title="住所変更と火災共済の所在地を一度に", owner_staff_id=cs.id,
                                due_on=date(2027, 3, 31), voice_ids=[v1.id])
    services.link_item(db_session, v2, item.id)
    db_session.expire_all()
    assert {v.id for v in db_session.get(type(item), item.id).voices} == {v1.id, v2.id}
    assert db_session.get(Voice, v1.id).improvement_item.title == "住所変更と火災共済の所在地を一度に"
    [listed] = services.items(db_session)
    assert listed.voice_count == 2
    services.update_item(db_session, listed, title=listed.title, description="", owner_staff_id=cs.id,
                         due_on=listed.due_on, progress="done", progress_note="2027年2月リリース")
    assert listed.progress_label == "完了"
    services.link_item(db_session, db_session.get(Voice, v2.id), None)
    db_session.expire_all()
    assert services.items(db_session)[0].voice_count == 1


def test_a_new_item_keeps_the_progress_chosen(db_session, cs):
    item = services.create_item(db_session, title="明細の文字を大きく", progress="in_progress",
                                progress_note="  試作中  ")
    db_session.expire_all()
    stored = db_session.get(type(item), item.id)
    assert (stored.progress, stored.progress_label, stored.progress_note) == ("in_progress", "取組中", "試作中")
    assert services.create_item(db_session, title="既定").progress == "not_started"
    with pytest.raises(services.VoiceError) as refused:
        services.create_item(db_session, title="不明な進捗", progress="paused")
    assert refused.value.field == "progress"


# ---------------------------------------------------------------- the yearly report

@pytest.fixture
def seeded_years(db_session, cs):
    """Voices around the business-year boundaries (hand-counted in the tests below)."""
    rows = [
        (at(2025, 5, 31, 23, 59), "thanks", "other", "web"),           # FY2024: outside both years
        (at(2025, 6, 1, 0, 0), "thanks", "staff_service", "shop"),      # FY2025 June
        (at(2026, 5, 31, 23, 59), "complaint", "claims", "web"),       # FY2025 May (last minute)
        (at(2026, 6, 1, 0, 0), "thanks", "staff_service", "shop"),      # FY2026 June (first minute)
        (at(2026, 6, 15, 12, 0), "opinion", "web", "call_centre"),      # FY2026 June
        (at(2026, 12, 31, 9, 0), "thanks", "other", "shop"),            # FY2026 December
        (at(2027, 5, 31, 23, 59), "complaint", "claims", "cs_office"),  # FY2026 May (last minute)
        (at(2027, 6, 1, 0, 0), "opinion", "web", "web"),                # FY2027: outside
    ]
    with time_machine.travel(at(2027, 7, 1, 9, 0), tick=False):
        for when, kind, topic, channel in rows:
            register(db_session, cs, when, kind=kind, topic=topic, channel=channel)
    return rows


def test_report_counts_for_a_business_year(db_session, seeded_years):
    with time_machine.travel(at(2027, 7, 1, 9, 0), tick=False):
        report = voice_report.yearly_report(db_session, 2026)
    assert (report.start, report.end) == (date(2026, 6, 1), date(2027, 5, 31))
    assert (report.total, report.prev_total, report.change) == (4, 2, 100.0)
    kinds = {r.code: (r.count, r.prev, r.change) for r in report.kinds}
    assert kinds == {"thanks": (2, 1, 100.0), "opinion": (1, 0, None), "complaint": (1, 1, 0.0)}
    channels = {r.code: (r.count, r.prev) for r in report.channels}
    assert channels == {"web": (0, 1), "shop": (2, 1), "call_centre": (1, 0), "cs_office": (1, 0)}
    assert next(r for r in report.channels if r.code == "web").change == -100.0
    topics = {r.code: r.count for r in report.topics}
    assert topics == {"procedure": 0, "claims": 1, "staff_service": 1, "products": 0, "web": 1, "mail": 0,
                      "call_centre": 0, "other": 1}
    months = {(m.year, m.month): (m.by_kind, m.total, m.prev) for m in report.months}
    assert [(m.year, m.month) for m in report.months][0] == (2026, 6)
    assert [(m.year, m.month) for m in report.months][-1] == (2027, 5)
    assert months[(2026, 6)] == ({"thanks": 1, "opinion": 1, "complaint": 0}, 2, 1)
    assert months[(2026, 12)] == ({"thanks": 1, "opinion": 0, "complaint": 0}, 1, 0)
    assert months[(2027, 5)] == ({"thanks": 0, "opinion": 0, "complaint": 1}, 1, 1)
    assert sum(m.total for m in report.months) == 4
    assert all(m.reached for m in report.months)


def test_months_not_yet_reached_have_no_figures_and_no_drop(db_session, cs):
    """In November, December to May of the same business year are blank, not a 100 % drop."""
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        for month in (6, 11, 12):
            register(db_session, cs, at(2025, month, 10, 10, 0))  # last year: June, November, December
        register(db_session, cs, at(2026, 11, 10, 10, 0))
        register(db_session, cs, at(2026, 11, 12, 10, 0))
        report = voice_report.yearly_report(db_session, 2026)
        rows = list(csv.reader(io.StringIO(csv_text(voice_report.report_rows(report))[1:])))
        months_svg = voice_report.chart_svg(report, "months")
    by_month = {(m.year, m.month): m for m in report.months}
    june, november, december = by_month[(2026, 6)], by_month[(2026, 11)], by_month[(2026, 12)]
    assert (june.reached, june.total, june.prev, june.change) == (True, 0, 1, -100.0)  # a real drop
    assert (november.reached, november.total, november.prev, november.change) == (True, 2, 1, 100.0)
    assert (december.reached, december.prev, december.change) == (False, 1, None)
    assert [m.reached for m in report.months] == [True] * 6 + [False] * 6
    assert ["月別", "2026年12月", "", "1", ""] in rows
    assert ["月別", "2026年6月", "0", "1", "-100.0"] in rows
    assert months_svg.lstrip().startswith("<svg")


def test_report_previous_year_and_empty_year(db_session, seeded_years):
    fy2025 = voice_report.yearly_report(db_session, 2025)
    assert (fy2025.total, fy2025.prev_total) == (2, 1)
    empty = voice_report.yearly_report(db_session, 2030)
    assert empty.total == 0 and empty.change is None and len(empty.months) == 12


def test_charts_are_svg_without_scripts(db_session, seeded_years):
    report = voice_report.yearly_report(db_session, 2026)
    for name in voice_report.CHART_NAMES:
        svg = voice_report.chart_svg(report, name)
        assert svg.lstrip().startswith("<svg")
        assert "<script" not in svg.lower()
        assert "<?xml" not in svg
    assert "苦情" in voice_report.chart_svg(report, "months")


# ---------------------------------------------------------------- CSV

@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+81312345678", "'+81312345678"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=cmd", "'\t=cmd"), ("\r=cmd", "'\r=cmd"), ("＝1", "'＝1"), ("普通の文", "普通の文"), (12, 12), (-3.5, -3.5),
])
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected


def test_export_neutralises_formulas_and_has_bom(db_session, cs):
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        register(db_session, cs, at(2026, 11, 20, 10, 0), body='=HYPERLINK("http://evil.example","押して")')
        register(db_session, cs, at(2026, 11, 21, 10, 0), body="@SUM(1+1)")
        register(db_session, cs, at(2026, 11, 22, 10, 0), body="ふつうの声、\"引用\"あり")
    text = "\ufeff" + "".join(csv_lines(voice_report.export_rows(db_session, 2026)))
    raw = text.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == voice_report.VOICE_CSV_HEADER
    bodies = [r[-1] for r in rows[1:]]
    assert bodies == ["'=HYPERLINK(\"http://evil.example\",\"押して\")", "'@SUM(1+1)", "ふつうの声、\"引用\"あり"]
    assert all(r[4] == "共済ショップ" for r in rows[1:])


def test_report_csv_figures(db_session, seeded_years):
    with time_machine.travel(at(2027, 7, 1, 9, 0), tick=False):  # the whole year is behind us
        text = csv_text(voice_report.report_rows(voice_report.yearly_report(db_session, 2026)))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert ["合計", "合計", "4", "2", "100.0"] in rows
    assert ["種類", "意見・要望", "1", "0", ""] in rows
    assert ["受付経路", "ホームページ・マイページ", "0", "1", "-100.0"] in rows  # a number, not neutralised
    assert ["月別", "2027年5月", "1", "1", "0.0"] in rows


def test_inbox_pages_run_across_new_complaints_then_the_rest(db_session, cs):
    with time_machine.travel(at(2026, 11, 27, 10, 0), tick=False):
        complaints = [register(db_session, cs, at(2026, 11, d, 9, 0), kind="complaint", body=f"c{d}")
                      for d in (2, 4, 6)]
        others = [register(db_session, cs, at(2026, 11, d, 9, 0), kind="opinion", body=f"o{d}")
                  for d in (1, 3, 5, 7)]
    services.change_status(db_session, complaints[0], "in_progress")  # no longer new: sorted with the rest
    expected = ["c6", "c4", "o7", "o5", "o3", "c2", "o1"]
    seen = []
    for page_no in (1, 2, 3, 4):
        page = services.inbox(db_session, services.InboxFilters(), page_no, per_page=2)
        assert page.total == 7 and page.pages == 4
        seen += [v.body for v in page.items]
    assert seen == expected
    only = services.inbox(db_session, services.InboxFilters(kind="complaint", status="received"), 1)
    assert [v.body for v in only.items] == ["c6", "c4"]
    assert others[0].body == "o1"


def test_demo_voices_fill_two_business_years_once(db_session, demo):
    from sqlalchemy import func, select

    from portal.jp.dates import fiscal_year
    from portal.voices.models import Voice
    counts = dict(db_session.execute(select(Voice.kind, func.count()).group_by(Voice.kind)).all())
    assert set(counts) == {"thanks", "opinion", "complaint"}
    assert counts["thanks"] > counts["opinion"] > counts["complaint"]
    from portal.clock import today
    last_year = voice_report.yearly_report(db_session, fiscal_year(today()) - 1)
    assert last_year.total == 100
    from portal.seed import seed_demo
    before = db_session.scalar(select(func.count()).select_from(Voice))
    seed_demo(db_session)
    assert db_session.scalar(select(func.count()).select_from(Voice)) == before
