"""A real server for the browser suite: `python tests/e2e/serve.py PORT DB_PATH`.

Builds the schema from the migrations (falling back to the models), seeds the demo
data and serves with werkzeug's threaded server on 127.0.0.1. CSRF is on, as in
production.
"""
from __future__ import annotations

import os
import sys

from werkzeug.serving import run_simple


def main() -> None:
    port, db_path = int(sys.argv[1]), sys.argv[2]
    os.environ["PORTAL_ENV"] = "test"
    os.environ["PORTAL_DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("PORTAL_SECRET_KEY", "e2e-secret-key")
    from portal import create_app
    from portal.extensions import db
    from portal.models import metadata

    # New browsers sign in without a code unless a test asks for the code page (PORTAL_E2E_NEW_DEVICE_CODE=1).
    trust = os.environ.get("PORTAL_E2E_NEW_DEVICE_CODE") != "1"
    app = create_app({"RATELIMIT_ENABLED": False, "TRUST_NEW_DEVICES": trust})
    with app.app_context():
        metadata.create_all(db.engine)
        from portal.seed import seed_demo
        seed_demo(db.session)
        db.commit()
    run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False, use_debugger=False)


if __name__ == "__main__":
    main()
