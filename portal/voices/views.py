"""The voice form (/voices/new, /voices) and the CS staff pages (/staff/voices…)."""
from __future__ import annotations


from flask import (
    Blueprint, Response, abort, current_app, flash, redirect, render_template, request, session, stream_with_context, url_for,
)
from flask_limiter.util import get_remote_address
from itsdangerous import BadData, URLSafeTimedSerializer
from flask_login import current_user
from sqlalchemy import select

from portal.clock import now_tokyo, today
from portal.contracts.models import Contract
from portal.csvexport import csv_lines, csv_text
from portal.extensions import db, limiter
from portal.idempotency import new_form_token
from portal.service_errors import show_on_form
from portal.users import current_member, current_staff, is_member, refuse_while_acting, staff_required
from portal.voices import report as voice_report
from portal.voices import services
from portal.voices.forms import (
    AssignForm, InboxFilterForm, ItemForm, LinkItemForm, NoteForm, RegisterVoiceForm, ReplyForm, StatusForm,
    VoiceForm,
)
from portal.voices.models import ImprovementItem, STATUS_LABELS, Voice

bp = Blueprint("voices", __name__)
staff_bp = Blueprint("staff_voices", __name__)

# Visitors who are not signed in: per IP. Members: per member (a shared office IP must not block them).
VISITOR_LIMIT = "5 per hour"
MEMBER_LIMIT = "30 per day"
_TOKEN_MAX_AGE = 12 * 60 * 60


# ---------------------------------------------------------------- member side

def _member_signed_in() -> bool:
    return is_member(current_user)


def _member_key() -> str:
    return current_user.get_id() if _member_signed_in() else get_remote_address()


def _submitted(response) -> bool:
    """Only accepted voices count towards the limit (a form with mistakes does not)."""
    return response.status_code == 302 and "/voices/thanks" in response.headers.get("Location", "")


def _token_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="voice-form")


def _issue_token() -> str:
    # Signed, not kept in the session: a session cookie the browser refuses or another
    # tab overwrites must not turn a member's finished voice into "expired".
    return _token_signer().dumps(new_form_token())


def _accepted_key(token: str) -> str | None:
    """The idempotency key inside a form token this server signed in the last 12 hours."""
    try:
        return _token_signer().loads(token, max_age=_TOKEN_MAX_AGE)
    except BadData:
        return None


def _contract_choices(member_id: int) -> list[tuple[str, str]]:
    contracts = db.session.scalars(
        select(Contract).where(Contract.member_id == member_id).order_by(Contract.start_date)).all()
    return [("", "選択しない")] + [(str(c.id), f"{c.product.name}（証書番号 {c.masked_no}）") for c in contracts]


@bp.route("/voices/new", methods=["GET", "POST"], endpoint="new")
@limiter.limit(VISITOR_LIMIT, methods=["POST"], exempt_when=_member_signed_in, deduct_when=_submitted)
@limiter.limit(MEMBER_LIMIT, methods=["POST"], key_func=_member_key,
               exempt_when=lambda: not _member_signed_in(), deduct_when=_submitted)
@refuse_while_acting("お客さまの声を送信")
def new():
    if current_staff() is not None:
        return redirect(url_for("staff_voices.register"))
    member = current_user if _member_signed_in() else None
    form = VoiceForm()
    refused = False
    if member is not None:
        form.contract.choices = _contract_choices(member.id)
    if form.validate_on_submit():
        token = _accepted_key(form.submit_token.data or "")
        if token is None:
            refused = True
            flash("画面の有効期限が切れました。内容をご確認のうえ、もう一度送信してください。", "error")
        else:
            try:
                result = services.submit_voice(
                    db.session, kind=form.kind.data, topic=form.topic.data, body=form.body.data,
                    wants_reply=form.wants_reply.data, member=member,
                    contract_id=int(form.contract.data) if member and (form.contract.data or "").isdigit() else None,
                    contact_name=form.contact_name.data, contact_email=form.contact_email.data,
                    contact_phone=form.contact_phone.data, idempotency_key=token)
            except services.VoiceError as error:
                show_on_form(form, error, default="body")
            else:
                db.commit()
                session["voice_receipt"] = result.voice.receipt_no
                return redirect(url_for("voices.thanks"))
    form.submit_token.data = _issue_token()
    return render_template("voices/new.html", form=form, member=member,
                           max_chars=services.MAX_BODY_CHARS), 400 if form.errors or refused else 200


@bp.get("/voices/thanks", endpoint="thanks")
def thanks():
    receipt_no = session.get("voice_receipt")
    voice = services.voice_by_receipt(db.session, receipt_no) if receipt_no else None
    if voice is None:
        return redirect(url_for("voices.new"))
    return render_template("voices/thanks.html", voice=voice, signed_in=voice.member_id is not None)


@bp.get("/voices", endpoint="index")
def index():
    member = current_member()
    return render_template("voices/index.html", voices=services.member_voices(db.session, member.id))


# ---------------------------------------------------------------- staff: inbox and registration

def _page_arg() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


@staff_bp.get("/staff/voices", endpoint="inbox")
@staff_required("cs")
def inbox():
    form = InboxFilterForm(request.args)
    form.validate()
    filters = services.InboxFilters(
        kind=form.kind.data or "", topic=form.topic.data or "", status=form.status.data or "",
        channel=form.channel.data or "",
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
        overdue_only=bool(form.overdue.data),
    )
    page = services.inbox(db.session, filters, _page_arg())
    db.commit()
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("voices/staff_inbox.html", form=form, page=page, query=query, today=today())


@staff_bp.route("/staff/voices/new", methods=["GET", "POST"], endpoint="register")
@staff_required("cs")
def register():
    form = RegisterVoiceForm()
    if request.method == "GET":
        form.received_at.data = now_tokyo().replace(second=0, microsecond=0, tzinfo=None)
    if form.validate_on_submit():
        staff = current_staff()
        try:
            voice = services.register_voice(
                db.session, staff, channel=form.channel.data, received_at=form.received_at.data,
                kind=form.kind.data, topic=form.topic.data, body=form.body.data, wants_reply=form.wants_reply.data,
                member_no=form.member_no.data, contact_name=form.contact_name.data,
                contact_email=form.contact_email.data, contact_phone=form.contact_phone.data)
        except services.VoiceError as error:
            show_on_form(form, error, default="body")
        else:
            db.commit()
            flash(f"登録しました（受付番号 {voice.receipt_no}）。", "success")
            return redirect(url_for("staff_voices.detail", voice_id=voice.id))
    return render_template("voices/staff_register.html", form=form), 400 if form.errors else 200


# ---------------------------------------------------------------- staff: one voice

def _voice_or_404(voice_id: int) -> Voice:
    voice = services.get_voice(db.session, voice_id)
    if voice is None:
        abort(404)
    return voice


def _staff_choices() -> list[tuple[str, str]]:
    return [("", "未割り当て")] + [(str(s.id), s.name) for s in services.cs_staff(db.session)]


def _item_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(select(ImprovementItem).order_by(ImprovementItem.id.desc())).all()
    return [("", "関連付けない")] + [(str(i.id), f"#{i.id} {i.title}（{i.progress_label}）") for i in rows]


def _render_detail(voice: Voice, status: int = 200, **forms):
    status_form = forms.get("status_form") or StatusForm(prefix="status", formdata=None)
    status_form.status.choices = [(voice.status, f"{voice.status_label}（現在）")] + [
        (s, STATUS_LABELS[s]) for s in services.allowed_statuses(voice)]
    status_form.status.data = voice.status
    status_form.version.data = str(voice.version)
    assign_form = forms.get("assign_form") or AssignForm(prefix="assign", formdata=None)
    assign_form.assignee.choices = _staff_choices()
    assign_form.assignee.data = str(voice.assignee_staff_id or "")
    assign_form.version.data = str(voice.version)
    reply_form = forms.get("reply_form") or ReplyForm(prefix="reply", formdata=None)
    reply_form.version.data = str(voice.version)
    item_form = forms.get("item_form") or LinkItemForm(prefix="item", formdata=None)
    item_form.item.choices = _item_choices()
    item_form.item.data = str(voice.improvement_item_id or "")
    note_form = forms.get("note_form") or NoteForm(prefix="note", formdata=None)
    contact_display = None
    if voice.contact_kind == "phone" and voice.contact:
        from portal.jp.phone import format_phone
        contact_display = format_phone(voice.contact)
    elif voice.contact:
        contact_display = voice.contact
    return render_template(
        "voices/staff_detail.html", voice=voice, status_form=status_form, assign_form=assign_form,
        reply_form=reply_form, item_form=item_form, note_form=note_form, today=today(),
        contact_display=contact_display,
    ), status


@staff_bp.get("/staff/voices/<int:voice_id>", endpoint="detail")
@staff_required("cs")
def detail(voice_id: int):
    voice = services.open_voice(db.session, voice_id)
    if voice is None:
        abort(404)
    db.commit()
    return _render_detail(voice)


def _act(voice_id: int, form_class, prefix: str, field: str, action, done) -> object:
    """One staff action on a voice: the service `action(voice, form)`, then back to the
    voice with `done(result)` as the message; a refusal shows the page with the form's error."""
    voice = _voice_or_404(voice_id)
    form = form_class(prefix=prefix)
    try:
        result = action(voice, form)
    except services.VoiceError as error:
        db.session.rollback()
        voice = _voice_or_404(voice_id)
        getattr(form, field).errors = list(getattr(form, field).errors) + [error.message]
        return _render_detail(voice, 409 if isinstance(error, services.VoiceConflict) else 400,
                              **{f"{prefix}_form": form})
    db.commit()
    flash(done(result), "success")
    return redirect(url_for("staff_voices.detail", voice_id=voice_id))


def _chosen_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@staff_bp.post("/staff/voices/<int:voice_id>/status", endpoint="status")
@staff_required("cs")
def change_status(voice_id: int):
    return _act(voice_id, StatusForm, "status", "status",
                lambda voice, form: services.change_status(db.session, voice, form.status.data or "",
                                                           expected_version=_chosen_id(form.version.data)),
                lambda voice: f"状況を「{voice.status_label}」にしました。")


@staff_bp.post("/staff/voices/<int:voice_id>/assign", endpoint="assign")
@staff_required("cs")
def assign(voice_id: int):
    return _act(voice_id, AssignForm, "assign", "assignee",
                lambda voice, form: services.assign(db.session, voice, _chosen_id(form.assignee.data),
                                                    expected_version=_chosen_id(form.version.data)),
                lambda _: "担当者を変更しました。")


@staff_bp.post("/staff/voices/<int:voice_id>/notes", endpoint="add_note")
@staff_required("cs")
def add_note(voice_id: int):
    return _act(voice_id, NoteForm, "note", "note",
                lambda voice, form: services.add_note(db.session, voice, current_staff(), form.note.data or ""),
                lambda _: "社内メモを追加しました。")


@staff_bp.post("/staff/voices/<int:voice_id>/reply", endpoint="reply")
@staff_required("cs")
def reply(voice_id: int):
    return _act(voice_id, ReplyForm, "reply", "reply",
                lambda voice, form: services.send_reply(db.session, voice, current_staff(), form.reply.data or "",
                                                        expected_version=_chosen_id(form.version.data)),
                lambda sent: "回答を送信しました。" if sent.channel != "record"
                else "回答を記録しました（連絡先がないため送信していません）。")


@staff_bp.post("/staff/voices/<int:voice_id>/item", endpoint="link_item")
@staff_required("cs")
def link_item(voice_id: int):
    return _act(voice_id, LinkItemForm, "item", "item",
                lambda voice, form: services.link_item(db.session, voice, _chosen_id(form.item.data)),
                lambda _: "改善課題の関連付けを更新しました。")


# ---------------------------------------------------------------- staff: improvement items

def _item_form(item: ImprovementItem | None = None) -> ItemForm:
    form = ItemForm(obj=None)
    form.owner.choices = [("", "未定")] + [(str(s.id), s.name) for s in services.cs_staff(db.session)]
    if item is not None and request.method == "GET":
        form.title.data, form.description.data = item.title, item.description
        form.owner.data = str(item.owner_staff_id or "")
        form.due_on.data, form.progress.data, form.progress_note.data = item.due_on, item.progress, item.progress_note
    return form


def _item_fields(form: ItemForm) -> dict:
    return dict(title=form.title.data, description=form.description.data or "",
                owner_staff_id=_chosen_id(form.owner.data), due_on=form.due_on.data,
                progress=form.progress.data, progress_note=form.progress_note.data or "")


def _item_saved(form: ItemForm, save, message: str):
    """`save()` the item from the form: to its page with `message`, or None with the refusal on the form."""
    try:
        saved = save()
    except services.VoiceError as error:
        show_on_form(form, error, default="title")
        return None
    db.commit()
    flash(message, "success")
    return redirect(url_for("staff_voices.item", item_id=saved.id))


@staff_bp.route("/staff/voices/items", methods=["GET", "POST"], endpoint="items")
@staff_required("cs")
def items():
    form = _item_form()
    if form.validate_on_submit():
        voice_ids = [int(v) for v in request.form.getlist("voice_id") if v.isdigit()]
        done = _item_saved(form, lambda: services.create_item(db.session, voice_ids=voice_ids, **_item_fields(form)),
                           "改善課題を登録しました。")
        if done is not None:
            return done
    return render_template("voices/staff_items.html", form=form, items=services.items(db.session),
                           today=today()), 400 if form.errors else 200


@staff_bp.route("/staff/voices/items/<int:item_id>", methods=["GET", "POST"], endpoint="item")
@staff_required("cs")
def item(item_id: int):
    row = db.session.get(ImprovementItem, item_id)
    if row is None:
        abort(404)
    form = _item_form(row)
    if form.validate_on_submit():
        done = _item_saved(form, lambda: services.update_item(db.session, row, **_item_fields(form)),
                           "改善課題を更新しました。")
        if done is not None:
            return done
    services.record_item_view(db.session, row)
    db.commit()
    return render_template("voices/staff_item.html", item=row, form=form, today=today()), \
        400 if form.errors else 200


# ---------------------------------------------------------------- staff: report, charts, CSV

def _fy_arg() -> int:
    value = request.args.get("fy", "")
    if value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return voice_report.current_fiscal_year()


def _staff_report(exported: bool = False) -> tuple[int, voice_report.VoiceReport]:
    """The asked year's report, its reading (or export) audited and committed."""
    fy = _fy_arg()
    data = voice_report.report_for_staff(db.session, fy, exported=exported)
    db.commit()
    return fy, data


@staff_bp.get("/staff/voices/report", endpoint="report")
@staff_required("cs")
def report():
    fy, data = _staff_report()
    current = voice_report.current_fiscal_year()
    years = list(range(current, current - 6, -1))
    if fy not in years:
        years.append(fy)
    return render_template("voices/staff_report.html", report=data, years=years,
                           charts=voice_report.CHART_NAMES)


@staff_bp.get("/staff/voices/report/<name>.svg", endpoint="chart")
@staff_required("cs")
def chart(name: str):
    if name not in voice_report.CHART_NAMES:
        abort(404)
    svg = voice_report.chart_svg(voice_report.yearly_report(db.session, _fy_arg()), name)
    response = Response(svg, mimetype="image/svg+xml")
    # The SVG keeps pygal's own <style> inside the document; it carries no script.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    return response


def _csv_response(lines, filename: str) -> Response:
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_bp.get("/staff/voices/report.csv", endpoint="report_csv")
@staff_required("cs")
def report_csv():
    fy, data = _staff_report(exported=True)
    return _csv_response(iter([csv_text(voice_report.report_rows(data))]), f"voices-report-{fy}.csv")


@staff_bp.get("/staff/voices/export.csv", endpoint="export_csv")
@staff_required("cs")
def export_csv():
    fy = _fy_arg()
    rows = voice_report.start_export(db.session, fy)
    db.commit()

    def generate():
        yield "\ufeff"
        yield from csv_lines(rows)

    return _csv_response(generate(), f"voices-{fy}.csv")
