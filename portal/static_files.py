"""Static files under fingerprinted names, cached for a year.

``static_url('css/portal.css')`` in a template (or ``url_for('static', filename=...)``)
gives ``/static/3f9c2a1b7d/css/portal.css``: the name changes whenever the content
does, so browsers and proxies may keep a file forever (``immutable``) and still
never show an old stylesheet after a release. The unfingerprinted name keeps
working, with a short cache.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask, request

ONE_YEAR = 365 * 24 * 3600
_FINGERPRINT = re.compile(r"^(?P<digest>[0-9a-f]{10})/(?P<plain>.+)$")


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "")
    digests: dict[str, tuple[float, str]] = {}

    def digest(filename: str) -> str | None:
        path = folder / filename
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        cached = digests.get(filename)
        if cached is None or cached[0] != mtime:
            cached = (mtime, hashlib.sha256(path.read_bytes()).hexdigest()[:10])
            digests[filename] = cached
        return cached[1]

    def static_url(filename: str) -> str:
        """The fingerprinted URL of a static file, without building it through the URL
        map (every page links five of them)."""
        found = digest(filename)
        return f"{request.script_root}/static/{found + '/' if found else ''}{filename}"

    app.add_template_global(static_url)

    @app.url_defaults
    def fingerprint(endpoint: str, values: dict) -> None:
        if endpoint != "static" or "filename" not in values:
            return
        found = digest(values["filename"])
        if found:
            values["filename"] = f"{found}/{values['filename']}"

    serve = app.view_functions["static"]

    def static(filename: str):
        match = _FINGERPRINT.match(filename)
        if match:
            plain = match["plain"]
            if digest(plain) == match["digest"]:
                response = serve(filename=plain)
                response.cache_control.no_cache = None
                response.cache_control.public = True
                response.cache_control.max_age = ONE_YEAR
                response.cache_control.immutable = True
                return response
        if match:
            # An old fingerprint, or a path relative to a fingerprinted stylesheet
            # (url("../img/x.svg")): today's file, briefly cached.
            filename = match["plain"]
        response = serve(filename=filename)
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = 300
        return response

    app.view_functions["static"] = static
