"""/staff/work: the office's queue, one procedure's page and its actions, the
vendor CSV files, the team leader's dashboard; and the phone intake on a member's record."""
from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from portal.backoffice import services, vendor_files
from portal.workqueue import kinds
from portal.backoffice.forms import ConfirmForm, CsvUploadForm, PhoneIntakeForm, WorkFilterForm
from portal.clock import today
from portal.extensions import db
from portal.gateways import GatewayError
from portal.gateways.storage import storage
from portal.members.models import Member
from portal.procedures.models import KIND_LABELS, ProcedureRequest
from portal.procedures.services import detail_of
from portal.service_errors import commit_or_flash, show_on_form
from portal.users import current_staff, staff_required

staff_bp = Blueprint("staff_backoffice", __name__)
# The member side has nothing of its own here (members see /requests).
bp = Blueprint("backoffice", __name__)


def get_work_or_404(receipt_no: str) -> ProcedureRequest:
    found = services.find(db.session, receipt_no)
    if found is None:
        abort(404)
    return found


def _action_form(action: kinds.Action, row: ProcedureRequest, *, submitted: bool = False):
    form_class = action.form or ConfirmForm
    if submitted:
        return form_class(prefix=action.name)
    data = action.initial(db.session, row) if action.initial else None
    return form_class(prefix=action.name, formdata=None, data=data)


@staff_bp.get("/staff/work")
@staff_required("office")
def queue():
    form = WorkFilterForm(request.args)
    form.kind.choices = [("", "すべて")] + [(k, KIND_LABELS[k]) for k in kinds.office_kinds()]
    result = services.work_queue(db.session, kind=form.kind.data or None, state=form.state.data or None,
                                 query=form.q.data, staff=current_staff())
    return render_template("backoffice/queue.html", form=form, queue=result, labels=KIND_LABELS,
                           today_=today())


def _render_detail(row: ProcedureRequest, forms: dict | None = None, status: int = 200):
    spec = kinds.get(row.kind)
    staff = current_staff()
    holder = services.holder_of(db.session, row)
    member = db.session.get(Member, row.member_id)
    context = spec.context(db.session, row) if spec.context else {}
    actions = spec.actions_for(row.status)
    forms = forms or {}
    action_forms = [(a, forms.get(a.name) or _action_form(a, row)) for a in actions]
    page = render_template("backoffice/detail.html", r=row, spec=spec, member=member, holder=holder,
                           is_mine=holder is not None and holder.id == staff.id, actions=action_forms,
                           kind_template=spec.template, ctx=context, confirm=ConfirmForm(),
                           due=services.due_on(row), received=services.received_on(row),
                           file=services.intake_file(row), detail=detail_of(row), today_=today())
    # A kind's partial may record its viewing (health declarations): keep that audit line.
    db.commit()
    return page, status


@staff_bp.get("/staff/work/<receipt_no>")
@staff_required("office")
def detail(receipt_no: str):
    row = get_work_or_404(receipt_no)
    services.record_view(db.session, row)
    return _render_detail(row)


@staff_bp.post("/staff/work/<receipt_no>/claim")
@staff_required("office")
def claim(receipt_no: str):
    row = get_work_or_404(receipt_no)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    commit_or_flash(lambda: services.claim(db.session, row, current_staff()), "この手続きを担当します。")
    return redirect(url_for("staff_backoffice.detail", receipt_no=receipt_no))


@staff_bp.post("/staff/work/<receipt_no>/release")
@staff_required("office")
def release(receipt_no: str):
    row = get_work_or_404(receipt_no)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.release(db.session, row, current_staff())
    except services.WorkError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("staff_backoffice.detail", receipt_no=receipt_no))
    db.commit()
    flash("担当を外しました。", "success")
    return redirect(url_for("staff_backoffice.queue"))


@staff_bp.post("/staff/work/<receipt_no>/act/<action_name>")
@staff_required("office")
def act(receipt_no: str, action_name: str):
    row = get_work_or_404(receipt_no)
    action = kinds.get(row.kind).action(action_name)
    if action is None:
        abort(404)
    form = _action_form(action, row, submitted=True)
    if not form.validate_on_submit():
        return _render_detail(row, {action.name: form}, 422)
    data = {k: v for k, v in form.data.items() if k != "csrf_token"}
    try:
        message = services.act(db.session, row, action.name, current_staff(), data)
    except services.WorkError as error:
        db.session.rollback()
        if show_on_form(form, error):
            return _render_detail(get_work_or_404(receipt_no), {action.name: form}, 422)
        flash(error.message, "error")
        return redirect(url_for("staff_backoffice.detail", receipt_no=receipt_no))
    db.commit()
    flash(message, "success")
    return redirect(url_for("staff_backoffice.detail", receipt_no=receipt_no))


@staff_bp.get("/staff/work/<receipt_no>/file")
@staff_required("office")
def intake_file(receipt_no: str):
    row = get_work_or_404(receipt_no)
    if services.intake_file(row) is None:
        abort(404)
    try:
        file, data = services.open_intake_file(db.session, row, storage())
    except GatewayError as error:
        flash(error.message, "error")
        return redirect(url_for("staff_backoffice.detail", receipt_no=receipt_no))
    db.commit()
    response = Response(data, mimetype=file["content_type"])
    response.headers["Content-Disposition"] = "attachment; filename=document." + file["key"].rsplit(".", 1)[-1]
    response.headers["Cache-Control"] = "no-store"
    return response


@staff_bp.route("/staff/work/certificates/import", methods=["GET", "POST"])
@staff_required("office")
def certificate_import():
    form = CsvUploadForm()
    report = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(vendor_files.MAX_CSV_BYTES + 1) if upload and getattr(upload, "filename", "") else b""
        try:
            report = vendor_files.import_certificate_shipments(db.session, data, current_staff())
        except services.WorkError as error:
            db.session.rollback()
            form.file.errors = list(form.file.errors) + [error.message]
            status = 422
        else:
            if report.ok:
                db.commit()
            else:
                db.session.rollback()
                status = 422
    waiting = vendor_files.certificates_waiting(db.session)
    return render_template("backoffice/certificate_import.html", form=form, report=report,
                           waiting=waiting), status


@staff_bp.get("/staff/work/kits.csv")
@staff_required("office")
def kits_csv():
    text, _count = vendor_files.kit_orders_csv(db.session)
    db.commit()
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=kit-orders-{today():%Y%m%d}.csv"
    response.headers["Cache-Control"] = "no-store"
    return response


@staff_bp.get("/staff/work/dashboard")
@staff_required("office")
def dashboard():
    return render_template("backoffice/dashboard.html", d=services.dashboard(db.session), labels=KIND_LABELS)


# --- a procedure taken by phone, on the member's record ---------------------------------
@staff_bp.route("/staff/members/<int:member_id>/procedures/new", methods=["GET", "POST"])
@staff_required("support", "office")
def phone_intake(member_id: int):
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    form = PhoneIntakeForm()
    form.kind.choices = [("", "選んでください")] + services.phone_intake_kinds()
    token = request.form.get("token") or secrets.token_urlsafe(24)
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(services.MAX_FILE_BYTES + 1) if upload and getattr(upload, "filename", "") else None
        try:
            row = services.register_phone_procedure(
                db.session, member, current_staff(), form.kind.data, form.note.data,
                file_name=upload.filename if data else None, file_data=data, store=storage(),
                idempotency_key="phone:" + token[:58])
        except (services.WorkError, GatewayError) as error:
            db.session.rollback()
            field = getattr(error, "field", None)
            if field and field in form:
                form[field].errors = list(form[field].errors) + [error.message]
            else:
                flash(error.message, "error")
        else:
            db.commit()
            flash(f"受付番号 {row.receipt_no} で登録しました。組合員の「手続き状況」に表示されます。", "success")
            if current_staff().has_role("support"):
                return redirect(url_for("staff.member_detail", member_id=member.id))
            return redirect(url_for("staff_backoffice.detail", receipt_no=row.receipt_no))
    return render_template("backoffice/phone_intake.html", form=form, member=member, token=token)
