"""/certificates: the window on the page, the figures, mailing, the PDF and who may fetch it."""
from __future__ import annotations

import io
import re
from datetime import datetime

import pypdf
import pytest
import time_machine
from flask import g, request_started
from sqlalchemy import func, select

from portal.certificates.models import CertificateIssue
from portal.clock import TOKYO
from portal.procedures.models import ProcedureRequest
from portal.seed import seed_demo

NOV_10 = datetime(2026, 11, 10, 10, 0, tzinfo=TOKYO)


def _form_token(html: str, prefix: str) -> str:
    match = re.search(rf'name="{prefix}-form_token"[^>]*value="([^"]+)"', html) \
        or re.search(rf'value="([^"]+)"[^>]*name="{prefix}-form_token"', html)
    assert match, f"no {prefix} token on the page"
    return match.group(1)


@pytest.mark.parametrize("instant, open_year, text", [
    (datetime(2026, 9, 30, 23, 59, tzinfo=TOKYO), None, "2026年10月1日"),
    (datetime(2026, 10, 1, 0, 0, tzinfo=TOKYO), 2026, "受付期間 2026年10月1日〜2027年3月31日"),
    (datetime(2027, 3, 31, 23, 59, tzinfo=TOKYO), 2026, "受付期間 2026年10月1日〜2027年3月31日"),
    (datetime(2027, 4, 1, 0, 0, tzinfo=TOKYO), None, "2027年10月1日"),
    (datetime(2028, 2, 29, 12, 0, tzinfo=TOKYO), 2027, "受付期間 2027年10月1日〜2028年3月31日"),
])
def test_page_follows_the_window_in_tokyo(client, auth, make_member, make_contract, instant, open_year, text):
    with time_machine.travel(instant, tick=False):
        member = make_member()
        make_contract(member, "KOKUMIN_SOGO", payments=True)
        assert auth.login_member(member).status_code == 302
        page = client.get("/certificates")
    assert page.status_code == 200
    html = page.text
    assert text in html
    if open_year is None:
        assert "現在は受付期間外です" in html
        assert "PDFを発行する" not in html and "郵送を申し込む" not in html
    else:
        assert f"{open_year}年分の証明内容" in html
        assert "PDFを発行する" in html and "郵送を申し込む" in html
        assert f"{open_year - 1}年分" not in html


@pytest.fixture
def demo_client(client, auth, db_session):
    with time_machine.travel(NOV_10, tick=False):
        seed_demo(db_session)
        assert auth.login().status_code == 302
    return client


def _page_figures(html: str) -> dict[str, tuple[str, str]]:
    figures = {}
    for block in re.findall(r'<li class="card cert-line" data-contract="(\d+)">(.*?)</li>', html, re.S):
        contract_no, body = block
        certified = re.search(r'data-certified="\d+">([\d,]+円)<', body).group(1)
        expected = re.search(r'data-expected="\d+">([\d,]+円)<', body).group(1)
        figures[contract_no] = (certified, expected)
    return figures


def test_demo_page_figures_and_estimate(demo_client):
    with time_machine.travel(NOV_10, tick=False):
        html = demo_client.get("/certificates").text
    assert _page_figures(html) == {
        "100000000101": ("18,000円", "21,600円"), "100000000102": ("23,000円", "27,600円"),
        "100000000103": ("12,000円", "14,400円"), "100000000104": ("12,000円", "14,400円"),
        "100000000105": ("57,000円", "57,000円"), "100000000107": ("100,000円", "120,000円"),
    }
    assert "マイカー共済" not in html
    assert "地震保険料" in html and "一般生命保険料（新制度）" in html
    assert "概算" in html
    assert re.search(r'id="life-deduction">96,400円<', html)
    assert re.search(r'id="earthquake-deduction">50,000円<', html)
    assert re.search(r'id="expected-total">255,000円<', html)


def test_pdf_matches_the_page_and_is_one_per_token(demo_client, db_session):
    with time_machine.travel(NOV_10, tick=False):
        html = demo_client.get("/certificates").text
        token = _form_token(html, "pdf")
        first = demo_client.post("/certificates/pdf", data={"pdf-form_token": token})
        second = demo_client.post("/certificates/pdf", data={"pdf-form_token": token})  # double click
        assert first.status_code == 303 and second.headers["Location"] == first.headers["Location"]
        pdf = demo_client.get(first.headers["Location"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    text = pypdf.PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    for contract_no, (certified, expected) in _page_figures(html).items():
        row = re.search(rf"{contract_no}.*?{certified}\s*{expected}", text, re.S)
        assert row, (contract_no, certified, expected)
    assert "みらい共済生活協同組合" in text and "山田 太郎" in text and "2026年11月10日" in text
    db_session.expire_all()
    issues = db_session.scalars(select(CertificateIssue)).all()
    assert len(issues) == 1
    assert issues[0].verification_no in text
    assert db_session.scalar(select(func.count()).select_from(ProcedureRequest)
                             .where(ProcedureRequest.kind == "certificate_pdf")) == 1
    with time_machine.travel(NOV_10, tick=False):
        page = demo_client.get("/certificates").text
        requests_page = demo_client.get("/requests").text
    assert issues[0].verification_no in page  # listed under 発行済みのPDF
    assert "共済掛金証明書の再発行（PDF）" in requests_page


def test_mailing_twice_is_refused_with_the_first_receipt_number(demo_client, db_session):
    # The demo data has another member's mailing request waiting in the office queue.
    from portal.members.models import Member
    DEMO_MEMBER_ID = db_session.scalar(select(Member.id).where(Member.member_no == "1000000001"))  # noqa: N806
    with time_machine.travel(NOV_10, tick=False):
        token = _form_token(demo_client.get("/certificates").text, "mail")
        done = demo_client.post("/certificates/mail", data={"mail-form_token": token})
        assert done.status_code == 302 and done.headers["Location"].endswith("/requests")
        resent = demo_client.post("/certificates/mail", data={"mail-form_token": token})
        assert resent.status_code == 302
        first = db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.kind == "certificate_mail",
                                                                 ProcedureRequest.member_id == DEMO_MEMBER_ID))
        page = demo_client.get("/certificates").text
        assert first.receipt_no in page and "お申し込み済み" in page
        # a new form (say, another tab opened earlier) is refused, naming the first request
        other_token = "T" * 32
        refused = demo_client.post("/certificates/mail", data={"mail-form_token": other_token},
                                   follow_redirects=True)
    assert f"受付番号 {first.receipt_no}" in refused.text
    assert "すでに受け付けています" in refused.text
    assert db_session.scalar(select(func.count()).select_from(ProcedureRequest)
                             .where(ProcedureRequest.kind == "certificate_mail",
                                    ProcedureRequest.member_id == DEMO_MEMBER_ID)) == 1


def test_post_without_token_or_outside_window_creates_nothing(demo_client, db_session):
    with time_machine.travel(NOV_10, tick=False):
        assert demo_client.post("/certificates/mail", data={}).status_code == 302
    with time_machine.travel(datetime(2027, 4, 1, 9, 0, tzinfo=TOKYO), tick=False):
        # (re-login: the 10 Nov session would have expired by April)
        from tests.conftest import AuthActions
        AuthActions(demo_client).login()
        refused = demo_client.post("/certificates/pdf", data={"pdf-form_token": "U" * 32}, follow_redirects=True)
    assert "受付期間外" in refused.text
    assert db_session.scalar(select(func.count()).select_from(ProcedureRequest)
                             .where(ProcedureRequest.kind.like("certificate%"),
                                    ProcedureRequest.member_id == demo_member_id(db_session))) == 0


def test_another_members_pdf_is_404(demo_client, app, auth, make_member, make_contract, db_session):
    with time_machine.travel(NOV_10, tick=False):
        token = _form_token(demo_client.get("/certificates").text, "pdf")
        url = demo_client.post("/certificates/pdf", data={"pdf-form_token": token}).headers["Location"]
        assert demo_client.get(url).status_code == 200
        other = make_member()
        other_client = app.test_client()
        from tests.conftest import AuthActions
        assert AuthActions(other_client).login_member(other).status_code == 302
        assert other_client.get(url).status_code == 404
        assert other_client.get("/certificates/999999.pdf").status_code == 404
        anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_staff_acting_for_a_member_requests_as_staff(app, db_session, staff_client):
    """Staff acting as the demo member may ask for the certificate; the request records them."""
    from portal.auth.models import AuthSession
    with time_machine.travel(NOV_10, tick=False):
        seed_demo(db_session)
        from portal.members.models import Member
        taro = db_session.scalar(select(Member).where(Member.member_no == "1000000001"))
        support = staff_client("support")
        row = db_session.scalar(select(AuthSession).where(AuthSession.staff_id == support.staff.id))
        row.acting_member_id = taro.id
        row.acting_started_at = NOV_10
        db_session.flush()

        # The staff feature (another helper's) sets g.acting_* from the session row; stand in
        # for it here so this test does not depend on that feature's loader.
        def act(sender, **extra):
            g.acting_member_id = taro.id
            g.acting_staff_id = support.staff.id

        with request_started.connected_to(act, app):
            token = _form_token(support.get("/certificates").text, "mail")
            response = support.post("/certificates/mail", data={"mail-form_token": token})
    assert response.status_code == 302
    made = db_session.scalar(select(ProcedureRequest).where(ProcedureRequest.kind == "certificate_mail",
                                                            ProcedureRequest.member_id == taro.id))
    assert made.member_id == taro.id and made.made_by_staff_id == support.staff.id
    from portal.audit.models import AuditLog
    log = db_session.scalar(select(AuditLog).where(AuditLog.action == "certificate.mail_requested"))
    assert log.actor_staff_id == support.staff.id and log.acting_as_member_id == taro.id


def test_storage_failure_saves_nothing_and_says_so(demo_client, app, db_session, tmp_path):
    from portal.gateways.storage import LocalStorage
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")  # saving under a plain file fails like a full or read-only disk would
    previous = app.extensions.get("storage_gateway")
    app.extensions["storage_gateway"] = LocalStorage(blocker)
    try:
        with time_machine.travel(NOV_10, tick=False):
            response = demo_client.post("/certificates/pdf", data={"pdf-form_token": "V" * 32},
                                        follow_redirects=True)
    finally:
        if previous is None:
            app.extensions.pop("storage_gateway", None)
        else:
            app.extensions["storage_gateway"] = previous
    assert "ファイルを保存できませんでした" in response.text
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(ProcedureRequest)
                             .where(ProcedureRequest.kind == "certificate_pdf")) == 0
    assert db_session.scalar(select(func.count()).select_from(CertificateIssue)) == 0


def demo_member_id(db_session) -> int:
    """The demo household's member (the demo data has another member's request in the office queue)."""
    from portal.members.models import Member

    return db_session.scalar(select(Member.id).where(Member.member_no == "1000000001"))


def test_a_pdf_missing_from_storage_is_made_again_from_its_record(demo_client, app, db_session):
    """Storage lost or restored from an older backup: the member still gets the
    certificate that was issued (same verification number and figures), and it is
    stored again."""
    from portal.gateways.storage import storage
    with time_machine.travel(NOV_10, tick=False):
        token = _form_token(demo_client.get("/certificates").text, "pdf")
        location = demo_client.post("/certificates/pdf", data={"pdf-form_token": token}).headers["Location"]
        first = demo_client.get(location).data
    issue = db_session.scalar(select(CertificateIssue))
    with app.app_context():
        store = storage()
        path = store.root / issue.storage_key
    path.unlink()
    with time_machine.travel(datetime(2026, 11, 10, 10, 5, tzinfo=TOKYO), tick=False):
        again = demo_client.get(location)
    assert again.status_code == 200 and again.mimetype == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(again.data)).pages[0].extract_text()
    assert text == pypdf.PdfReader(io.BytesIO(first)).pages[0].extract_text()
    assert issue.verification_no in text and "2026年11月10日" in text
    assert path.read_bytes() == again.data
    assert db_session.scalar(select(func.count()).select_from(CertificateIssue)) == 1
