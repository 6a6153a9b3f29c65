"""My Page (マイページ): the member portal of a mutual-aid co-operative."""
from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask

from portal.config import load_config

ROOT = Path(__file__).resolve().parent.parent

# Feature packages, each with views.bp. Order matters only for the menu.
FEATURES = ("auth", "mypage", "contracts", "profile", "procedures", "claims", "certificates", "enrollment",
            "shop", "voices", "staff", "tips", "account", "backoffice", "changes", "documents", "help", "dev")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(Path(app.instance_path), config))
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    configure_logging(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal import gateways, ops, security
    from portal.extensions import csrf, db, limiter, login_manager

    ops.init_app(app)  # first: the request id exists before any other hook runs
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # server-side sessions do this job
    limiter.init_app(app)
    gateways.init_app(app)
    security.init_app(app)


def register_blueprints(app: Flask) -> None:
    from portal import core_views

    app.register_blueprint(core_views.bp)
    for feature in FEATURES:
        if feature == "dev" and app.config["PORTAL_ENV"] == "production":
            continue
        module = importlib.import_module(f"portal.{feature}.views")
        app.register_blueprint(module.bp)
        # A feature's staff pages live in a second blueprint named staff_<feature>.
        if hasattr(module, "staff_bp"):
            app.register_blueprint(module.staff_bp)


def register_errorhandlers(app: Flask) -> None:
    from portal.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from portal import static_files
    from portal.templating import register

    register(app)
    static_files.init_app(app)


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)


def configure_logging(app: Flask) -> None:
    """Every log record, whoever creates it, has phone numbers, codes and long
    digit runs masked (logs never hold a code or a full number)."""
    from portal.logredact import install_record_factory

    install_record_factory()
