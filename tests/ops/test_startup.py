"""The app starts in a fresh interpreter the way gunicorn loads it (wsgi:app), so
nothing at import time depends on which models happen to be imported first."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wsgi_imports_and_serves_in_a_fresh_process(tmp_path):
    code = ("from wsgi import app\n"
            "client = app.test_client()\n"
            "print(client.get('/healthz').status_code, client.get('/login').status_code)\n")
    env = {**os.environ, "PORTAL_ENV": "development", "PORTAL_SECRET_KEY": "x" * 40,
           "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", "from portal import create_app\nfrom portal.extensions import db\n"
                    "from portal.models import metadata\napp = create_app()\n"
                    "with app.app_context(): metadata.create_all(db.engine)"], cwd=ROOT, env=env, check=True)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["200", "200"]
