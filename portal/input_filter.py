"""One filter for odd input, in front of every view.

A request whose path, query, form fields or upload names hold control
characters (NUL, ESC, CR/LF outside a text area …) is refused with 400 before
any view runs: PostgreSQL refuses NUL in text (a 500 otherwise), CR/LF in a
`next` value would split a header, and no field of the portal needs them.
Tab, CR and LF stay allowed in form fields, where a text area sends them.

A page number or a numeric path segment too large for the database's integer
columns is a page that does not exist: 404 instead of an overflow error. A
field that is nothing but more than 18 digits is no number, id or code the
portal knows (the longest, a contract number, has 12) and would overflow a
64-bit integer wherever a view turns it into one: 400 as well.
"""
from __future__ import annotations

import re
import unicodedata

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter as WerkzeugIntegerConverter

# C0 controls but tab, LF and CR; DEL; C1 controls. Lone surrogates cannot come out of
# Werkzeug's UTF-8 decoding (it replaces undecodable bytes).
_FIELD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The largest value of PostgreSQL's `integer`, which every id column is.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000
MAX_NUMBER_DIGITS = 18
PAGE_ARGS = ("page",)


class IntegerConverter(WerkzeugIntegerConverter):
    """`<int:...>` that matches 0…2^31-1 only, so a huge id is a 404, not an overflow.

    Keeps Werkzeug's class name: URL-map walks tell converters apart by it."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (Werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def _huge_number(value: str) -> bool:
    value = value.strip()
    return len(value) > MAX_NUMBER_DIGITS and unicodedata.normalize("NFKC", value).isdigit()


def odd_input() -> str | None:
    """Where the request holds a character no field of the portal accepts, or None."""
    if _LINE_CONTROL.search(request.path):
        return "path"
    for name, value in request.args.items(multi=True):
        if _LINE_CONTROL.search(name) or _LINE_CONTROL.search(value):
            return f"query {name[:40]!r}"
        if name not in PAGE_ARGS and _huge_number(value):
            return f"query {name[:40]!r} (a number too large)"
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            # Single-line values (a `next`, a token, a name) have no business with CR/LF;
            # only text areas send them, and those are free text.
            pattern = _LINE_CONTROL if name in ("next", "csrf_token") else _FIELD_CONTROL
            if _LINE_CONTROL.search(name) or pattern.search(value):
                return f"field {name[:40]!r}"
            if _huge_number(value):
                return f"field {name[:40]!r} (a number too large)"
        for name, upload in request.files.items(multi=True):
            if _LINE_CONTROL.search(name) or _LINE_CONTROL.search(upload.filename or ""):
                return f"upload {name[:40]!r}"
    return None


def page_out_of_range() -> bool:
    for name in PAGE_ARGS:
        value = request.args.get(name)
        if value is None:
            continue
        digits = value.strip()
        if digits.isdigit() and (len(digits) > 9 or int(digits) > MAX_PAGE):
            return True
    return False


def init_app(app: Flask) -> None:
    # Before any blueprint is registered: rules bind their converters when added.
    app.url_map.converters["int"] = IntegerConverter

    @app.before_request
    def refuse_odd_input():
        where = odd_input()
        if where is not None:
            app.logger.info("request refused: odd input in the %s", where)
            abort(400)
        if page_out_of_range():
            abort(404)
        return None
