"""/documents: product documents (PDF) and the letters the co-op sent."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from portal.certificates.services import CO_OP_NAME
from portal.documents import services
from portal.extensions import db
from portal.users import current_member

bp = Blueprint("documents", __name__)


@bp.get("/documents", endpoint="index")
def index():
    member = current_member()
    years = services.letter_years(db.session, member)
    year = request.args.get("year", type=int)
    if year is not None and year not in years:
        year = None
    query = (request.args.get("q") or "").strip()[:50]
    page = request.args.get("page", 1, type=int)
    letters = services.letters(db.session, member, year=year, query=query or None, page=page)
    args = {k: v for k, v in (("year", year), ("q", query)) if v}
    return render_template(
        "documents/index.html", products=services.product_documents(db.session, member),
        letters=letters, args=args, years=years, year=year, query=query, title_of=services.letter_title)


@bp.get("/documents/products/<code>/<kind>.pdf", endpoint="product_pdf")
def product_pdf(code: str, kind: str):
    member = current_member()
    document = services.product_document(db.session, member, code, kind)
    if document is None:
        abort(404)
    data = services.render_product_pdf(document, CO_OP_NAME)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{document.filename}"'})


@bp.get("/documents/letters/<int:letter_id>", endpoint="letter")
def letter(letter_id: int):
    member = current_member()
    message = services.letter_for(db.session, member, letter_id)
    if message is None:
        abort(404)
    return render_template("documents/letter.html", letter=message, title=services.letter_title(message))
