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


EXPIRED = "画面の有効期限が切れました。もう一度お申し込みください。"


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


def _submit(prefix: str, make, replayed):
    """The certificate form `prefix` sent: (`make(member, key)`, None), or (None, the page
    with the reason). The same form sent twice at the same instant loses the race for the
    key: `replayed(member, first request)` finds what the first one made."""
    member = current_member()
    form = CertificateRequestForm(prefix=prefix)
    if not form.validate_on_submit():
        return None, _refused(EXPIRED)
    key = f"cert_{prefix}:{form.form_token.data}"
    try:
        made = make(member, key)
    except (services.CertificateError, ProcedureError, GatewayError) as error:
        db.session.rollback()
        return None, _refused(error.message)
    except IntegrityError:
        db.session.rollback()
        request = find_by_key(db.session, key)
        made = replayed(member, request) if request is not None and request.member_id == member.id else None
        if made is None:
            raise
    else:
        db.commit()
    return made, None


@bp.post("/certificates/mail", endpoint="request_mail")
def request_mail():
    request, refused = _submit(
        "mail", lambda member, key: services.request_mail(db.session, member, today(), idempotency_key=key,
                                                          staff_id=acting_staff_id()),
        lambda member, first: first)
    if refused is not None:
        return refused
    flash(f"掛金証明書の郵送を受け付けました（受付番号 {request.receipt_no}）。ご登録の住所へお送りします。", "success")
    return redirect(url_for("procedures.index"))


@bp.post("/certificates/pdf", endpoint="issue_pdf")
def issue_pdf():
    issue, refused = _submit(
        "pdf", lambda member, key: services.issue_pdf(db.session, member, today(), storage(), idempotency_key=key,
                                                      staff_id=acting_staff_id()),
        lambda member, first: services.issue_for_request(db.session, member.id, first.id))
    if refused is not None:
        return refused
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
        services.ensure_stored(member, issue, store)
        url = store.url_for(issue.storage_key, expires=300)
        if url is not None:
            return redirect(url)
        data = store.open(issue.storage_key)
    except GatewayError as error:
        return _refused(error.message)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
