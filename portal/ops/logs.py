"""JSON-lines logs: one object per line on stderr, each with the request id.

Every record already passes the redacting record factory (portal.logredact);
the access line is built here from the request, so its path and query are
redacted the same way before they are written.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

from portal.logredact import redact
from portal.users import user_kind

ACCESS_LOGGER = "portal.access"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is None and has_request_context():
            request_id = g.get("request_id")
        if request_id:
            line["request_id"] = request_id
        for key in ("method", "path", "status", "duration_ms", "remote_addr", "endpoint", "user"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def _user_kind() -> str:
    from flask_login import current_user

    try:
        if current_user.is_authenticated:
            return user_kind(current_user) or "unknown"
    except Exception:  # a broken session must not break the access line
        return "unknown"
    return "anonymous"


def init_app(app: Flask) -> None:
    """With LOG_FORMAT=json (the production default) the root logger writes JSON
    lines and every request writes one access line."""
    if app.config.get("LOG_FORMAT") != "json":
        return
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # Flask's own handler would write the same record a second time, as plain text.
    from flask.logging import default_handler
    app.logger.removeHandler(default_handler)
    access = logging.getLogger(ACCESS_LOGGER)

    @app.after_request
    def access_line(response):
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        access.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.full_path.rstrip("?"), "status": response.status_code,
            "duration_ms": duration, "remote_addr": request.remote_addr, "endpoint": request.endpoint,
            "user": _user_kind()})
        return response
