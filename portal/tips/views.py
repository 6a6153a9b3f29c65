"""Tips: members' pages (public) and the marketing team's editor (/staff/tips)."""
from __future__ import annotations

from math import ceil

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from portal.clock import TOKYO, to_tokyo
from portal.extensions import db
from portal.gateways import GatewayError
from portal.service_errors import commit_or_flash, show_on_form
from portal.tips import images, services
from portal.tips.forms import CategoryForm, ScheduleForm, TipForm
from portal.tips.markdown import render_markdown
from portal.tips.models import AUDIENCE_LABELS, STATUS_LABELS, TIP_STATUSES, Tip, TipRevision
from portal.tips.errors import TipError
from portal.tips.services import TipInput
from portal.users import current_staff, staff_required

bp = Blueprint("tips", __name__)
staff_bp = Blueprint("staff_tips", __name__)

EDITOR_ROLES = ("marketing", "admin")


@bp.app_template_global("tip_cover_url")
def tip_cover_url(key: str | None) -> str | None:
    """Where the browser fetches a cover: a presigned URL (S3) or our own route (local storage)."""
    if not key:
        return None
    from portal.gateways.storage import storage

    try:
        url = storage().url_for(key)
    except GatewayError:
        return None
    return url or url_for("tips.image", name=images.image_name(key))


# --- members ----------------------------------------------------------------------
@bp.get("/tips", endpoint="index")
def index():
    categories = services.list_categories(db.session)
    category_code = request.args.get("category") or None
    current = next((c for c in categories if c.code == category_code), None)
    if category_code and current is None:
        abort(404)
    page = request.args.get("page", 1, type=int)
    tips, total = services.list_published(db.session, category_code=category_code, page=page)
    pages = max(1, ceil(total / services.PAGE_SIZE))
    if page < 1 or page > pages:
        abort(404)
    return render_template("tips/index.html", tips=tips, categories=categories, current=current,
                           page=page, pages=pages, total=total)


@bp.get("/tips/<slug>", endpoint="show")
def show(slug: str):
    tip = services.get_published(db.session, slug)
    if tip is None:
        abort(404)
    return _render_article(tip, preview=False)


@bp.get("/tips/images/<name>", endpoint="image")
def image(name: str):
    staff = current_staff()
    may_preview = staff is not None and staff.has_role(*EDITOR_ROLES)
    found = images.cover_for_name(db.session, name, include_unpublished=may_preview)
    if found is None:
        abort(404)
    key, content_type = found
    from portal.gateways.storage import storage

    try:
        data = storage().open(key)
    except GatewayError:
        abort(404)
    response = Response(data, mimetype=content_type or "application/octet-stream")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    # An image never runs anything, even if opened on its own.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _render_article(tip: Tip, *, preview: bool):
    related = services.related_tips(db.session, tip)
    return render_template("tips/show.html", tip=tip, body_html=render_markdown(tip.body_md),
                           related=related, preview=preview)


# --- editor -----------------------------------------------------------------------
def _staff_id() -> int:
    staff = current_staff()
    assert staff is not None  # staff_required ran first
    return staff.id


def _tip_or_404(tip_id: int) -> Tip:
    tip = db.session.get(Tip, tip_id)
    if tip is None:
        abort(404)
    return tip


def _tip_form(**kwargs) -> TipForm:
    form = TipForm(**kwargs)
    form.category_id.choices = [(c.id, c.name) for c in services.list_categories(db.session)]
    return form


def _input_from(form: TipForm) -> TipInput:
    upload = form.cover.data
    cover = upload.read(images.MAX_IMAGE_BYTES + 1) if upload and getattr(upload, "filename", "") else None
    return TipInput(title=form.title.data or "", slug=form.slug.data or "", summary=form.summary.data or "",
                    body_md=form.body_md.data or "", category_id=form.category_id.data,
                    audience=form.audience.data or "everyone", cover=cover or None,
                    remove_cover=bool(form.remove_cover.data))


def _show_error(form, error: TipError) -> None:
    if not show_on_form(form, error):
        flash(error.message, "error")


@staff_bp.get("/staff/tips", endpoint="index")
@staff_required(*EDITOR_ROLES)
def staff_index():
    status = request.args.get("status")
    tips = services.staff_list(db.session, status if status in TIP_STATUSES else None)
    return render_template("tips/staff_index.html", tips=tips, status=status, statuses=STATUS_LABELS,
                           is_admin=current_staff().has_role("admin"))


@staff_bp.route("/staff/tips/new", methods=["GET", "POST"], endpoint="new")
@staff_required(*EDITOR_ROLES)
def new():
    form = _tip_form()
    if form.validate_on_submit():
        try:
            tip = services.create_tip(db.session, _input_from(form), staff_id=_staff_id())
        except TipError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.commit()
            flash("下書きを保存しました。", "success")
            return redirect(url_for("staff_tips.edit", tip_id=tip.id))
    return render_template("tips/editor.html", form=form, tip=None), 422 if request.method == "POST" else 200


@staff_bp.route("/staff/tips/<int:tip_id>/edit", methods=["GET", "POST"], endpoint="edit")
@staff_required(*EDITOR_ROLES)
def edit(tip_id: int):
    tip = _tip_or_404(tip_id)
    form = _tip_form(obj=tip) if request.method == "GET" else _tip_form()
    if request.method == "GET":
        form.version.data = tip.version
    if form.validate_on_submit():
        version = form.version.data
        try:
            services.update_tip(db.session, tip.id, _input_from(form), staff_id=_staff_id(),
                                expected_version=int(version) if (version or "").isdigit() else None)
        except TipError as error:
            db.session.rollback()
            tip = _tip_or_404(tip_id)
            _show_error(form, error)
        else:
            db.commit()
            flash("保存しました。" + ("公開中の記事にすぐ反映されます。" if tip.status == "published" else ""), "success")
            return redirect(url_for("staff_tips.edit", tip_id=tip.id))
    return _editor(form, tip), 422 if request.method == "POST" else 200


def _editor(form: TipForm, tip: Tip, schedule_form: ScheduleForm | None = None):
    if schedule_form is None:
        schedule_form = ScheduleForm()
        if tip.publish_at:
            schedule_form.publish_at.data = to_tokyo(tip.publish_at).replace(tzinfo=None)
    revisions = db.session.query(TipRevision).filter_by(tip_id=tip.id).order_by(TipRevision.number.desc()).all()
    return render_template("tips/editor.html", form=form, tip=tip, schedule_form=schedule_form,
                           revisions=revisions, transitions=sorted(services.TRANSITIONS[tip.status]))


STATUS_MESSAGES = {
    "published": "公開しました。",
    "scheduled": "公開を予約しました。",
    "draft": "下書きに戻しました。",
    "archived": "アーカイブしました。組合員には表示されません。",
}


@staff_bp.post("/staff/tips/<int:tip_id>/status", endpoint="status")
@staff_required(*EDITOR_ROLES)
def change_status(tip_id: int):
    tip = _tip_or_404(tip_id)
    target = request.form.get("target", "")
    publish_at = None
    if target == "scheduled":
        schedule_form = ScheduleForm()
        if not schedule_form.validate():
            schedule_form.publish_at.errors = ["公開日時を正しく入力してください。"]
            form = _tip_form(obj=tip)
            form.version.data = tip.version
            return _editor(form, tip, schedule_form), 422
        publish_at = schedule_form.publish_at.data.replace(tzinfo=TOKYO)
    commit_or_flash(lambda: services.change_status(db.session, tip.id, target, staff_id=_staff_id(), publish_at=publish_at),
                    STATUS_MESSAGES.get(target, "変更しました。"))
    return redirect(url_for("staff_tips.edit", tip_id=tip_id))


@staff_bp.get("/staff/tips/<int:tip_id>/preview", endpoint="preview")
@staff_required(*EDITOR_ROLES)
def preview(tip_id: int):
    return _render_article(_tip_or_404(tip_id), preview=True)


@staff_bp.get("/staff/tips/<int:tip_id>/revisions/<int:revision_id>", endpoint="revision")
@staff_required(*EDITOR_ROLES)
def revision(tip_id: int, revision_id: int):
    tip = _tip_or_404(tip_id)
    rev = db.session.get(TipRevision, revision_id)
    if rev is None or rev.tip_id != tip.id:
        abort(404)
    return render_template("tips/revision.html", tip=tip, revision=rev, body_html=render_markdown(rev.body_md),
                           audience_labels=AUDIENCE_LABELS)


@staff_bp.post("/staff/tips/<int:tip_id>/revisions/<int:revision_id>/restore", endpoint="restore")
@staff_required(*EDITOR_ROLES)
def restore(tip_id: int, revision_id: int):
    _tip_or_404(tip_id)
    commit_or_flash(lambda: services.restore_revision(db.session, tip_id, revision_id, staff_id=_staff_id()),
                    "以前の版を復元しました。内容を確認してください。")
    return redirect(url_for("staff_tips.edit", tip_id=tip_id))


@staff_bp.route("/staff/tips/categories", methods=["GET", "POST"], endpoint="categories")
@staff_required("admin")
def categories():
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            category = services.add_category(db.session, form.name.data, form.code.data)
        except TipError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.commit()
            flash(f"カテゴリ「{category.name}」を追加しました。", "success")
            return redirect(url_for("staff_tips.categories"))
    return render_template("tips/categories.html", form=form, categories=services.list_categories(db.session)), \
        422 if request.method == "POST" else 200
