"""Running the portal in production: request ids, JSON-lines logs, Prometheus
metrics (readiness is /readyz in core_views; the client address behind a proxy
is security.py's PROXY_COUNT).

Shared infrastructure: features may call `portal.ops.metrics`, this package never
imports a feature at module level.
"""
from __future__ import annotations

import re
import secrets
import time

from flask import Flask, g, request

# An id handed in by the proxy (nginx's $request_id) is kept when it looks like one,
# so one id follows the request from the load balancer to the audit log.
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_app(app: Flask) -> None:
    from portal.ops import logs, metrics

    # Registered before every other hook (security.init_app runs after this), so the
    # id exists for anything those hooks log or audit.
    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _INCOMING_ID.match(incoming) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def request_id_header(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    logs.init_app(app)
    metrics.init_app(app)
