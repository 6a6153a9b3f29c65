"""/help: FAQ and inquiries (members); /staff/help: FAQ editing and replies (cs)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from portal.clock import today
from portal.extensions import db
from portal.help import services
from portal.help.forms import FaqForm, InquiryForm, ReplyForm
from portal.help.models import FaqEntry
from portal.idempotency import new_form_token
from portal.service_errors import show_on_form
from portal.users import acting_staff_id, current_member, current_staff, staff_required

bp = Blueprint("help", __name__)
staff_bp = Blueprint("staff_help", __name__)


def _apply(form, error: services.HelpError) -> None:
    if not show_on_form(form, error):
        flash(error.message, "error")


def _saved(form, save, message: str, target: str):
    """`save()`: to `target` with `message`, or None with the refusal on the form."""
    try:
        save()
    except services.HelpError as error:
        _apply(form, error)
        return None
    db.commit()
    flash(message, "success")
    return redirect(target)


@bp.get("/help", endpoint="index")
def index():
    member = current_member()
    query = (request.args.get("q") or "").strip()[:50]
    return render_template("help/index.html", query=query, faq=services.search_faq(db.session, query),
                           answer_html=services.answer_html,
                           inquiries=services.member_inquiries(db.session, member))


@bp.route("/help/inquiries/new", methods=["GET", "POST"], endpoint="new_inquiry")
def new_inquiry():
    member = current_member()
    form = InquiryForm()
    if request.method == "GET":
        form.form_token.data = new_form_token()
        return render_template("help/new.html", form=form)
    if not form.validate():
        return render_template("help/new.html", form=form)
    try:
        inquiry = services.submit_inquiry(db.session, member, topic=form.topic.data, subject=form.subject.data,
                                          body=form.body.data, on=today(),
                                          idempotency_key=f"inquiry:{form.form_token.data}",
                                          staff_id=acting_staff_id())
    except services.HelpError as error:
        _apply(form, error)
        return render_template("help/new.html", form=form)
    request_row = db.session.get(services.ProcedureRequest, inquiry.procedure_request_id)
    db.commit()
    flash(f"お問い合わせを受け付けました。{inquiry.response_due_on.month}月{inquiry.response_due_on.day}日までに"
          "この画面でご回答します。", "success")
    return redirect(url_for("help.inquiry", receipt_no=request_row.receipt_no))


@bp.route("/help/inquiries/<receipt_no>", methods=["GET", "POST"], endpoint="inquiry")
def inquiry(receipt_no: str):
    member = current_member()
    found = services.inquiry_for_member(db.session, member, receipt_no)
    if found is None:
        abort(404)
    inquiry_row, request_row = found
    form = ReplyForm()
    if request.method == "POST":
        done = _saved(
            form, lambda: services.member_reply(db.session, member, inquiry_row, form.body.data,
                                                idempotency_key=f"inquiry_reply:{form.form_token.data}"),
            "メッセージを送りました。", url_for("help.inquiry", receipt_no=receipt_no)) if form.validate() else None
        if done is not None:
            return done
    else:
        form.form_token.data = new_form_token()
    return render_template("help/inquiry.html", inquiry=inquiry_row, request_row=request_row, form=form)


# ----------------------------------------------------------------- staff (cs)

@staff_bp.get("/staff/help/inquiries", endpoint="inquiries")
@staff_required("cs")
def staff_inquiries():
    waiting_only = request.args.get("all") != "1"
    return render_template("help/staff_inquiries.html", rows=services.staff_inquiries(db.session, waiting_only=waiting_only),
                           waiting_only=waiting_only, today=today())


@staff_bp.route("/staff/help/inquiries/<int:inquiry_id>", methods=["GET", "POST"], endpoint="inquiry")
@staff_required("cs")
def staff_inquiry(inquiry_id: int):
    inquiry_row = db.session.get(services.Inquiry, inquiry_id)
    if inquiry_row is None:
        abort(404)
    form = ReplyForm()
    if request.method == "POST" and form.validate():
        done = _saved(form, lambda: services.staff_reply(db.session, inquiry_id, form.body.data,
                                                         staff_id=current_staff().id,
                                                         idempotency_key=f"inquiry_reply:{form.form_token.data}"),
                      "回答を送りました。組合員に通知しました。", url_for("staff_help.inquiry", inquiry_id=inquiry_id))
        if done is not None:
            return done
    elif request.method == "GET":
        form.form_token.data = new_form_token()
    member = db.session.get(services.Member, inquiry_row.member_id)
    request_row = db.session.get(services.ProcedureRequest, inquiry_row.procedure_request_id)
    return render_template("help/staff_inquiry.html", inquiry=inquiry_row, member=member,
                           request_row=request_row, form=form)


@staff_bp.get("/staff/help/faq", endpoint="faq")
@staff_required("cs")
def staff_faq():
    return render_template("help/staff_faq.html",
                           entries=services.search_faq(db.session, None, include_unpublished=True))


@staff_bp.route("/staff/help/faq/new", methods=["GET", "POST"], endpoint="faq_new")
@staff_bp.route("/staff/help/faq/<int:entry_id>", methods=["GET", "POST"], endpoint="faq_edit")
@staff_required("cs")
def staff_faq_edit(entry_id: int | None = None):
    entry = db.session.get(FaqEntry, entry_id) if entry_id else None
    if entry_id and entry is None:
        abort(404)
    form = FaqForm(obj=entry)
    if request.method == "POST" and form.validate():
        done = _saved(form, lambda: services.save_faq(db.session, services.FaqInput(
            form.question.data, form.answer_markdown.data,
            form.sort_order.data if form.sort_order.data is not None else 100, bool(form.is_published.data)),
            staff_id=current_staff().id, entry_id=entry_id), "よくある質問を保存しました。", url_for("staff_help.faq"))
        if done is not None:
            return done
    return render_template("help/staff_faq_edit.html", form=form, entry=entry,
                           preview=services.render_markdown(form.answer_markdown.data or "") if request.method == "POST" else None)
