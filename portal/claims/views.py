"""/claims (member) and /staff/claims (the claims desk)."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm.exc import StaleDataError

from portal.users import current_member, current_staff, is_acting, staff_required
from portal.claims import documents, services
from portal.claims.services import MAX_OUTPATIENT_DATES
from portal.claims.forms import (ACCEPT, AddFilesForm, ConfirmForm, DamageForm, DetailsForm, DocumentsForm,
                                 MessageForm, PaperFormsForm, PhoneDamageForm, ReasonForm, RunForm, SubmitForm,
                                 VisitAnswerForm, VisitForm, WhatForm)
from portal.claims.models import (BENEFIT_LABELS, CAUSE_LABELS, DAMAGE_CAUSE_LABELS, LINE_LABELS, Claim,
                                  PaymentRun)
from portal.clock import today
from portal.extensions import db
from portal.gateways import GatewayError
from portal.gateways.storage import storage
from portal.idempotency import new_form_token
from portal.profile.services import BankAccountInput
from portal.service_errors import ServiceError, commit_or_flash, show_on_form

bp = Blueprint("claims", __name__)
staff_bp = Blueprint("staff_claims", __name__)

STEPS = ("ご請求の内容", "日付と病院", "見込額と書類", "確認")
# Several phone photos in one post: above the app's general request limit. A URL
# value preprocessor runs before every before_request hook (the input filter
# reads the form there), so the limit is raised in time.
UPLOAD_ENDPOINTS = {"claims.documents", "claims.add_files", "claims.damage_new", "staff_claims.phone_report"}
MAX_UPLOAD_REQUEST_BYTES = 5 * documents.MAX_FILE_BYTES + 1024 * 1024


def _upload_limit(endpoint: str | None, values: dict | None) -> None:
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = MAX_UPLOAD_REQUEST_BYTES


bp.url_value_preprocessor(_upload_limit)
staff_bp.url_value_preprocessor(_upload_limit)


# ================================================================= helpers

def _place(form, error: ServiceError | GatewayError) -> None:
    """Each message next to its field; the rest as a flash."""
    if not isinstance(error, ServiceError) or not show_on_form(form, error):
        flash(error.message, "error")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="claims-draft")


def _dump(draft: dict[str, Any]) -> str:
    return _serializer().dumps({**draft, "member": current_member().id})


def _load(value: str | None) -> dict[str, Any]:
    """The claim so far; a tampered, foreign or missing draft starts again."""
    try:
        draft = _serializer().loads(value or "")
    except BadSignature:
        abort(400)
    if not isinstance(draft, dict) or draft.get("member") != current_member().id:
        abort(400)
    return draft


def _event_input(draft: dict[str, Any]) -> services.EventInput:
    fields = services.EventInput.__dataclass_fields__
    return services.EventInput(**{k: v for k, v in draft.items() if k in fields})


def _uploads(store, member, files) -> list[tuple[str, str, int]]:
    """Check and store each chosen file; DocumentError names the first refused one."""
    stored = []
    for number, upload in enumerate(f for f in files if f and f.filename):
        try:
            stored.append(services.store_upload(store, member, upload.stream))
        except documents.DocumentError as error:
            raise documents.DocumentError(f"{number + 1}つ目のファイル：{error.message}") from None
    return stored


def _or_404(found):
    if found is None:
        abort(404)
    return found


def get_claim_or_404(receipt_no: str) -> Claim:
    """The member's own claim; another member's receipt number is a 404."""
    return _or_404(services.find_claim(db.session, receipt_no, member=current_member()))


def _people_choices(member) -> list[tuple[str, str]]:
    return [(str(p.id), f"{p.name}（{p.relation_label}）") for p in services.people_with_cover(db.session, member)]


# ================================================================= member: list and claim page

@bp.get("/claims", endpoint="index")
def index():
    member = current_member()
    claims = services.claims_of(db.session, member)
    return render_template("claims/index.html", claims=claims, labels=services.MEMBER_STATUS_LABELS,
                           has_sumairu=bool(services.sumairu_contracts(db.session, member)))


@bp.get("/claims/<receipt_no>", endpoint="show")
def show(receipt_no: str):
    claim = get_claim_or_404(receipt_no)
    visit = next((v for v in reversed(claim.visits) if v.status == "proposed"), None)
    return render_template("claims/show.html", claim=claim, labels=services.MEMBER_STATUS_LABELS,
                           line_labels=LINE_LABELS, due=services.expected_payment_date(claim),
                           withdrawable=claim.status in services.WITHDRAWABLE, visit=visit,
                           files_form=AddFilesForm(), visit_form=VisitAnswerForm(), confirm_form=ConfirmForm(),
                           accept=ACCEPT, format_slot=services.format_slot, benefit_labels=BENEFIT_LABELS,
                           cause_labels=CAUSE_LABELS, damage_labels=DAMAGE_CAUSE_LABELS)


@bp.get("/claims/<receipt_no>/files/<int:file_id>", endpoint="file")
def file(receipt_no: str, file_id: int):
    claim = get_claim_or_404(receipt_no)
    if is_acting():  # support acting as a member never opens medical documents
        abort(403)
    return _send_file(claim, file_id, "claims.file_view")


def _send_file(claim: Claim, file_id: int, action: str):
    try:
        found = services.open_claim_file(db.session, claim, file_id, storage(), action=action)
    except GatewayError:
        abort(404)
    if found is None:
        abort(404)
    row, data = found
    db.commit()
    response = Response(data, mimetype=row.content_type)
    extension = row.storage_key.rsplit(".", 1)[-1]
    response.headers["Content-Disposition"] = f"inline; filename=document-{row.id}.{extension}"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@bp.post("/claims/<receipt_no>/files", endpoint="add_files")
def add_files(receipt_no: str):
    claim = get_claim_or_404(receipt_no)
    member = current_member()
    try:
        uploads = _uploads(storage(), member, request.files.getlist("files"))
        added = services.add_files(db.session, claim, member, uploads)
    except (services.ClaimError, documents.DocumentError, GatewayError) as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("claims.show", receipt_no=receipt_no))
    db.commit()
    flash(f"書類を{added}点お送りいただきました。", "success")
    return redirect(url_for("claims.show", receipt_no=receipt_no))


@bp.post("/claims/<receipt_no>/withdraw", endpoint="withdraw")
def withdraw(receipt_no: str):
    claim = get_claim_or_404(receipt_no)
    commit_or_flash(lambda: services.withdraw(db.session, claim), "ご請求を取り下げました。")
    return redirect(url_for("claims.show", receipt_no=receipt_no))


@bp.post("/claims/<receipt_no>/visit", endpoint="visit")
def visit(receipt_no: str):
    claim = get_claim_or_404(receipt_no)
    form = VisitAnswerForm()
    commit_or_flash(lambda: services.answer_visit(db.session, claim, form.answer.data == "accept", form.note.data),
                    "ご回答を承りました。")
    return redirect(url_for("claims.show", receipt_no=receipt_no))


# ================================================================= member: a new claim in four steps

def _render_step(step: int, template: str, **values):
    return render_template(f"claims/{template}", step=step, steps=STEPS, **values)


@bp.route("/claims/new", methods=["GET", "POST"], endpoint="new")
def new():
    member = current_member()
    form = WhatForm()
    choices = _people_choices(member)
    form.person_id.choices = choices
    if request.method == "GET":
        wanted = request.args.get("person")
        if wanted and any(value == wanted for value, _ in choices):
            form.person_id.data = wanted
        return _render_step(1, "new.html", form=form, has_people=bool(choices))
    if form.validate():
        if form.person_id.data not in {value for value, _ in choices}:
            form.person_id.errors = ["被共済者を選んでください"]
        if not form.benefits.data:
            form.benefits.errors = ["ご請求の内容を1つ以上選んでください"]
    if form.errors or not form.benefits.data:
        return _render_step(1, "new.html", form=form, has_people=bool(choices)), 200
    draft = {"person_id": form.person_id.data, "benefits": list(form.benefits.data), "cause": form.cause.data,
             "token": new_form_token()}
    details = DetailsForm(formdata=None)
    details.draft.data = _dump(draft)
    return _render_step(2, "details.html", form=details, draft=draft, benefit_labels=BENEFIT_LABELS,
                        max_days=MAX_OUTPATIENT_DATES)


DATE_FIELDS = ("hospital_from", "hospital_to", "surgery_date", "fracture_date", "advanced_care_date")
TEXT_FIELDS = ("surgery_name", "surgery_in_hospital", "advanced_care_fee", "hospital_name")
DETAIL_FIELDS = (*DATE_FIELDS, "outpatient_dates", *TEXT_FIELDS)


def _detail_values(form: DetailsForm) -> dict[str, str]:
    """The step's answers as the draft keeps them: dates in ISO, outpatient days comma-separated."""
    values = {name: getattr(form, name).data or "" for name in TEXT_FIELDS}
    values.update({name: getattr(form, name)._value() for name in DATE_FIELDS})
    values["outpatient_dates"] = ",".join(day.isoformat() for day in form.outpatient_dates.days())
    return values


def _place_details(form: DetailsForm, error: ServiceError) -> None:
    """The service's messages next to their fields, except where a box already says
    the typed date cannot be (a second message there would only repeat it)."""
    for name, message in (error.errors or {"": error.message}).items():
        if name == "outpatient_dates":
            if not any(entry.errors for entry in form.outpatient_dates.entries):
                form.outpatient_dates.list_errors.append(message)
            continue
        target = getattr(form, name, None)
        if target is None:
            flash(message, "error")
        elif not target.errors:
            target.errors = [message]


@bp.post("/claims/new/details", endpoint="details")
def details():
    member = current_member()
    form = DetailsForm()
    draft = _load(form.draft.data)

    def again():
        return _render_step(2, "details.html", form=form, draft=draft, benefit_labels=BENEFIT_LABELS,
                            max_days=MAX_OUTPATIENT_DATES)

    if request.form.get("add_day"):
        if len(form.outpatient_dates.entries) < MAX_OUTPATIENT_DATES:
            form.outpatient_dates.add_row()
        return again()
    valid = form.validate()
    draft.update(_detail_values(form))
    try:
        event, _values = services.parse_event(_event_input(draft), on=today())
        result = services.estimate_for(db.session, member, draft["person_id"], event, on=today())
    except services.ClaimError as error:
        _place_details(form, error)
        valid = False
    if not valid:
        form.draft.data = _dump({k: v for k, v in draft.items() if k not in DETAIL_FIELDS})
        return again()
    documents_form = DocumentsForm(formdata=None)
    documents_form.draft.data = _dump(draft)
    return _render_step(3, "documents.html", form=documents_form, draft=draft, estimate=result,
                        debit=services.debit_payee(db.session, member), accept=ACCEPT, line_labels=LINE_LABELS)


@bp.post("/claims/new/documents", endpoint="documents")
def documents_step():
    member = current_member()
    form = DocumentsForm()
    draft = _load(form.draft.data)
    event, _values = services.parse_event(_event_input(draft), on=today())
    result = services.estimate_for(db.session, member, draft["person_id"], event, on=today())
    debit = services.debit_payee(db.session, member)

    def again():
        form.draft.data = _dump(draft)
        return _render_step(3, "documents.html", form=form, draft=draft, estimate=result, debit=debit,
                            accept=ACCEPT, line_labels=LINE_LABELS)

    try:
        draft["uploads"] = draft.get("uploads", []) + _uploads(storage(), member, request.files.getlist("files"))
    except documents.DocumentError as error:
        form.files.errors = [error.message]
        return again()
    except GatewayError as error:
        form.files.errors = [error.message]
        return again()
    if not draft["uploads"]:
        form.files.errors = ["領収書・診療明細書の写真かPDFを1つ以上選んでください"]
        return again()
    if form.payee.data == "other":
        try:
            payee = services.other_payee(member, BankAccountInput(
                form.bank_code.data, form.branch_code.data, form.account_type.data, form.account_number.data,
                form.holder_name.data, form.kigo.data, form.bangou.data))
        except services.ClaimError as error:
            _place(form, error)
            return again()
    elif debit is None:
        form.payee.errors = ["振替口座が登録されていません。別の口座を入力してください"]
        return again()
    else:
        payee = debit
    draft["payee"] = payee.as_dict()
    confirm = SubmitForm(formdata=None)
    confirm.draft.data = _dump(draft)
    return _render_step(4, "confirm.html", form=confirm, draft=draft, estimate=result, payee=payee,
                        person=services.person_of(member, draft["person_id"]), event=event,
                        benefit_labels=BENEFIT_LABELS, cause_labels=CAUSE_LABELS, line_labels=LINE_LABELS)


@bp.post("/claims/new/submit", endpoint="submit")
def submit():
    member = current_member()
    form = SubmitForm()
    draft = _load(form.draft.data)
    payee = services.Payee(**draft["payee"]) if isinstance(draft.get("payee"), dict) else None
    try:
        claim = services.file_claim(db.session, member, draft["person_id"], _event_input(draft), payee,
                                    [tuple(u) for u in draft.get("uploads", [])],
                                    idempotency_key=f"claim:{draft['token']}",
                                    staff_id=current_staff().id if current_staff() else None)
    except services.ClaimError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("claims.new"))
    db.commit()
    return redirect(url_for("claims.show", receipt_no=claim.receipt_no, sent=1))


@bp.get("/claims/forms/shindansho.pdf", endpoint="certificate_form")
def certificate_form():
    from portal.claims.pdf import certificate_form_pdf

    response = Response(certificate_form_pdf(), mimetype="application/pdf")
    response.headers["Content-Disposition"] = "attachment; filename=shindansho.pdf"
    return response


# ================================================================= member: paper forms and damage reports

@bp.route("/claims/paper-forms", methods=["GET", "POST"], endpoint="paper_forms")
def paper_forms():
    member = current_member()
    form = PaperFormsForm()
    form.person_id.choices = [(str(p.id), f"{p.name}（{p.relation_label}）") for p in member.insured_persons]
    if request.method == "GET":
        form.form_token.data = new_form_token()
        return render_template("claims/paper_forms.html", form=form, member=member)
    if not form.validate():
        return render_template("claims/paper_forms.html", form=form, member=member)
    try:
        row = services.request_paper_forms(db.session, member, form.person_id.data, form.what.data, form.note.data,
                                           idempotency_key=f"paper_forms:{form.form_token.data}")
    except services.ClaimError as error:
        db.session.rollback()
        _place(form, error)
        return render_template("claims/paper_forms.html", form=form, member=member)
    db.commit()
    flash(f"請求書類の郵送を承りました（受付番号 {row.receipt_no}）。", "success")
    return redirect(url_for("procedures.show", receipt_no=row.receipt_no))


def _damage_choices(member) -> list[tuple[str, str]]:
    return [(c.contract_no, f"{c.product.name}（{c.masked_no}）{c.property_address or ''}")
            for c in services.sumairu_contracts(db.session, member) if c.is_in_force_on(today())
            or c.status == "in_force"]


def _file_damage_report(form: DamageForm, member_of, **by) -> Claim | None:
    """Store the photos and file the report (the member's own, or taken by phone);
    None with each message next to its field."""
    try:
        member = member_of()
        uploads = _uploads(storage(), member, request.files.getlist("files"))
        return services.file_damage_report(db.session, member, form.contract_no.data, form.cause.data,
                                           form.day._value(), form.description.data, uploads,
                                           idempotency_key=f"damage:{form.form_token.data}", **by)
    except documents.DocumentError as error:
        form.files.errors = [error.message]
    except (services.ClaimError, GatewayError) as error:
        db.session.rollback()
        _place(form, error)
    return None


@bp.route("/claims/damage/new", methods=["GET", "POST"], endpoint="damage_new")
def damage_new():
    member = current_member()
    form = DamageForm()
    form.contract_no.choices = _damage_choices(member)
    if request.method == "GET":
        form.form_token.data = new_form_token()
        if len(form.contract_no.choices) == 1:
            form.contract_no.data = form.contract_no.choices[0][0]
        return render_template("claims/damage_new.html", form=form, accept=ACCEPT)
    if not form.validate():
        return render_template("claims/damage_new.html", form=form, accept=ACCEPT)
    claim = _file_damage_report(form, lambda: member)
    if claim is None:
        return render_template("claims/damage_new.html", form=form, accept=ACCEPT)
    db.commit()
    return redirect(url_for("claims.show", receipt_no=claim.receipt_no, sent=1))


# ================================================================= staff: the claims desk

def get_staff_claim_or_404(receipt_no: str) -> Claim:
    return _or_404(services.find_claim(db.session, receipt_no))


@staff_bp.get("/staff/claims", endpoint="queue")
@staff_required("claims")
def queue():
    status = request.args.get("status", "open")
    kind = request.args.get("kind") or None
    overdue = request.args.get("overdue") == "1"
    rows = services.queue(db.session, status=status, kind=kind, overdue=overdue)
    return render_template("claims/staff_queue.html", rows=rows, status=status, kind=kind, overdue=overdue,
                           labels=services.MEMBER_STATUS_LABELS, filters=services.QUEUE_FILTERS,
                           counts=services.open_counts(db.session),
                           payable=len(services.payable_claims(db.session)))


@staff_bp.get("/staff/claims/<receipt_no>", endpoint="detail")
@staff_required("claims")
def detail(receipt_no: str):
    claim = get_staff_claim_or_404(receipt_no)
    services.record_staff_view(db.session, claim)
    db.commit()
    from portal.members.models import InsuredPerson, Member

    member = db.session.get(Member, claim.member_id)
    person = db.session.get(InsuredPerson, claim.insured_person_id) if claim.insured_person_id else None
    from portal.contracts.models import Contract
    contracts = {c.id: c for c in db.session.query(Contract).filter(
        Contract.id.in_({line.contract_id for line in claim.lines} | ({claim.contract_id} if claim.contract_id
                                                                      else set())))}
    return render_template("claims/staff_detail.html", claim=claim, member=member, person=person,
                           contracts=contracts, labels=services.MEMBER_STATUS_LABELS, line_labels=LINE_LABELS,
                           benefit_labels=BENEFIT_LABELS, cause_labels=CAUSE_LABELS,
                           damage_labels=DAMAGE_CAUSE_LABELS, due=services.expected_payment_date(claim),
                           message_form=MessageForm(), reason_form=ReasonForm(), visit_form=VisitForm(),
                           confirm_form=ConfirmForm(), format_slot=services.format_slot,
                           second_needed=claim.total_yen >= services.SECOND_OFFICER_FROM_YEN,
                           staff=current_staff())


@staff_bp.get("/staff/claims/<receipt_no>/files/<int:file_id>", endpoint="file")
@staff_required("claims")
def staff_file(receipt_no: str, file_id: int):
    return _send_file(get_staff_claim_or_404(receipt_no), file_id, "claims.staff_file_view")


def _perform(action, done: str | None = None) -> None:
    """Run one staff action: commit and say what happened, or roll back and say why."""
    try:
        message = action() or done
    except services.ClaimError as error:
        db.session.rollback()
        flash(error.message, "error")
    except StaleDataError:
        db.session.rollback()
        flash("ほかの担当者が同時に更新しました。内容を確認してからもう一度操作してください。", "error")
    else:
        db.commit()
        flash(message, "success")


@staff_bp.post("/staff/claims/<receipt_no>/<any(check, complete, documents, assess, approve, decline, visit):action>",
               endpoint="act")
@staff_required("claims")
def act(receipt_no: str, action: str):
    claim = get_staff_claim_or_404(receipt_no)
    staff_id = current_staff().id
    form = request.form
    actions = {
        "check": (lambda: services.start_checking(db.session, claim, staff_id), "書類確認を始めました。"),
        "complete": (lambda: services.documents_complete(db.session, claim, staff_id), "書類がそろった状態にしました。"),
        "documents": (lambda: services.request_documents(db.session, claim, form.get("message"), staff_id),
                      "組合員に追加書類をお願いしました。"),
        "assess": (lambda: services.assess(db.session, claim, {
            line.id: (form.get(f"amount_{line.id}"), form.get(f"reason_{line.id}"))
            for line in claim.lines if f"amount_{line.id}" in form}, staff_id), "査定額を保存しました。"),
        "approve": (lambda: services.approve(db.session, claim, staff_id), None),
        "decline": (lambda: services.decline(db.session, claim, form.get("reason"), staff_id),
                    "お支払いできませんとしました。"),
        "visit": (lambda: services.propose_visit(db.session, claim, form.get("starts_at"), staff_id) and None,
                  "立会い調査日を提案しました。"),
    }
    run_action, done = actions[action]
    _perform(run_action, done)
    return redirect(url_for("staff_claims.detail", receipt_no=receipt_no))


@staff_bp.route("/staff/claims/phone-report", methods=["GET", "POST"], endpoint="phone_report")
@staff_required("support", "claims")
def phone_report():
    """A damage report taken by phone, entered on the member's record (seed complaint 7)."""
    form = PhoneDamageForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
        return render_template("claims/staff_phone_report.html", form=form, accept=ACCEPT)
    if not form.validate():
        return render_template("claims/staff_phone_report.html", form=form, accept=ACCEPT)
    claim = _file_damage_report(form, lambda: services.find_member_by_no(db.session, form.member_no.data),
                                staff_id=current_staff().id, by="staff")
    if claim is None:
        return render_template("claims/staff_phone_report.html", form=form, accept=ACCEPT)
    db.commit()
    flash(f"損害のご報告を登録しました（受付番号 {claim.receipt_no}）。組合員のマイページに表示されます。", "success")
    if current_staff().has_role("claims"):
        return redirect(url_for("staff_claims.detail", receipt_no=claim.receipt_no))
    return redirect(url_for("staff_claims.phone_report"))


# ================================================================= staff: payment runs

def _parse_day(text: str | None) -> date | None:
    from portal.jp.text import normalize
    try:
        return date.fromisoformat(normalize(text or "").strip().replace("/", "-"))
    except ValueError:
        return None


@staff_bp.route("/staff/claims/runs", methods=["GET", "POST"], endpoint="runs")
@staff_required("claims")
def runs():
    form = RunForm()
    if request.method == "POST" and form.validate():
        day = _parse_day(form.transfer_date.data)
        if day is None:
            form.transfer_date.errors = ["振込日を「2026-12-04」の形で入力してください"]
        else:
            try:
                run = services.create_run(db.session, day, store=storage(),
                                          requester=services.requester_from(current_app.config),
                                          staff_id=current_staff().id)
            except services.ClaimError as error:
                db.session.rollback()
                _place(form, error)
            except GatewayError as error:
                db.session.rollback()
                flash(error.message, "error")
            else:
                db.commit()
                flash(f"振込データを作成しました（{run.total_count}件 {run.total_yen:,}円）。", "success")
                return redirect(url_for("staff_claims.run", run_id=run.id))
    elif request.method == "GET":
        from portal.jp.dates import add_business_days
        form.transfer_date.data = add_business_days(today(), 1).isoformat()
    payable = services.payable_claims(db.session)
    return render_template("claims/staff_runs.html", form=form, runs=services.runs(db.session), payable=payable,
                           payable_total=sum(c.approved_yen or 0 for c in payable))


def get_run_or_404(run_id: int) -> PaymentRun:
    return _or_404(services.get_run(db.session, run_id))


@staff_bp.get("/staff/claims/runs/<int:run_id>", endpoint="run")
@staff_required("claims")
def run(run_id: int):
    return render_template("claims/staff_run.html", run=get_run_or_404(run_id), confirm_form=ConfirmForm())


@staff_bp.get("/staff/claims/runs/<int:run_id>/file", endpoint="run_file")
@staff_required("claims")
def run_file(run_id: int):
    run = get_run_or_404(run_id)
    if not run.storage_key or run.status == "cancelled":
        abort(404)
    try:
        data = services.open_run_file(db.session, run, storage())
    except GatewayError:
        abort(404)
    db.commit()
    response = Response(data, mimetype="text/plain")
    response.headers["Content-Disposition"] = f"attachment; filename=sogofurikomi-{run.transfer_date:%Y%m%d}-{run.id}.txt"
    response.headers["Cache-Control"] = "no-store"
    return response


@staff_bp.post("/staff/claims/runs/<int:run_id>/<any(sent, cancel):action>", endpoint="run_act")
@staff_required("claims")
def run_act(run_id: int, action: str):
    run = get_run_or_404(run_id)
    staff_id = current_staff().id
    if action == "sent":
        _perform(lambda: f"送信済みにしました。{services.mark_run_sent(db.session, run, staff_id)}件のご請求が"
                         "お支払い済みになり、組合員にお知らせしました。")
    else:
        _perform(lambda: services.cancel_run(db.session, run, staff_id),
                 "振込データを取り消しました。対象のご請求は次の振込データに入ります。")
    return redirect(url_for("staff_claims.run", run_id=run_id))
