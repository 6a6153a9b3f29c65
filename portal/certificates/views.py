from __future__ import annotations


from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from sqlalchemy.exc import IntegrityError

from portal.certificates import services
from portal.certificates.forms import CertificateRequestForm
from portal.clock import today
from portal.extensions import db
from portal.gateways import GatewayError
from portal.gateways.storage import storage
from portal.idempotency import new_form_token
from portal.procedures.services import ProcedureError, find_by_key
from portal.users import acting_staff_id, current_member

bp = Blueprint("certificates", __name__)


def _form(prefix: str) -> CertificateRequestForm:
    form = CertificateRequestForm(prefix=prefix)
    if not form.is_submitted():
        form.form_token.data = new_form_token()
    return form


def _refused(message: str):
    flash(message, "error")
    return redirect(url_for("certificates.index"))


@bp.get("/certificates", endpoint="index")
def index():
    member = current_member()
    day = today()
    result = services.summary(db.session, member.id, day)
    year = result.window.year
    return render_template(
        "certificates/index.html", member=member, result=result, window=result.window,
        mail_request=services.open_mail_request(db.session, member.id, year) if year else None,
        issues=services.issues_for(db.session, member.id, year) if year else [],
        mail_form=_form("mail"), pdf_form=_form("pdf"),
    )


@bp.post("/certificates/mail", endpoint="request_mail")
def request_mail():
    member = current_member()
    form = CertificateRequestForm(prefix="mail")
    if not form.validate_on_submit():
        return _refused("画面の有効期限が切れました。もう一度お申し込みください。")
    key = f"cert_mail:{form.form_token.data}"
    try:
        request = services.request_mail(db.session, member, today(), idempotency_key=key,
                                        staff_id=acting_staff_id())
    except (services.CertificateError, ProcedureError) as error:
        db.session.rollback()
        return _refused(error.message)
    except IntegrityError:  # the same form sent twice at the same instant: the first one won
        db.session.rollback()
        request = find_by_key(db.session, key)
        if request is None or request.member_id != member.id:
            raise
    else:
        db.commit()
    flash(f"掛金証明書の郵送を受け付けました（受付番号 {request.receipt_no}）。ご登録の住所へお送りします。", "success")
    return redirect(url_for("procedures.index"))


@bp.post("/certificates/pdf", endpoint="issue_pdf")
def issue_pdf():
    member = current_member()
    form = CertificateRequestForm(prefix="pdf")
    if not form.validate_on_submit():
        return _refused("画面の有効期限が切れました。もう一度お申し込みください。")
    key = f"cert_pdf:{form.form_token.data}"
    try:
        issue = services.issue_pdf(db.session, member, today(), storage(), idempotency_key=key,
                                   staff_id=acting_staff_id())
    except (services.CertificateError, ProcedureError, GatewayError) as error:
        db.session.rollback()
        return _refused(error.message)
    except IntegrityError:  # the same form sent twice at the same instant: the first one won
        db.session.rollback()
        request = find_by_key(db.session, key)
        issue = services.issue_for_request(db.session, member.id, request.id) if request else None
        if issue is None:
            raise
    else:
        db.commit()
    return redirect(url_for("certificates.download", issue_id=issue.id), code=303)


@bp.get("/certificates/<int:issue_id>.pdf", endpoint="download")
def download(issue_id: int):
    member = current_member()
    issue = services.issue_of_member(db.session, member.id, issue_id)
    if issue is None:
        abort(404)
    filename = f"kakekin_shomeisho_{issue.year}_{issue.verification_no}.pdf"
    store = storage()
    try:
        url = store.url_for(issue.storage_key, expires=300)
        if url is not None:
            return redirect(url)
        data = store.open(issue.storage_key)
    except GatewayError as error:
        return _refused(error.message)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
