"""Settings, read once from PORTAL_* environment variables.

Every variable is optional in development; production refuses to start without
a secret key and a database URL, because a guessed key forges every session.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "test", "production")


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot run the portal."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept in instance/ so development sessions survive restarts."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    env = overrides.get("PORTAL_ENV") or _env("PORTAL_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)} (got {env!r})")
    production = env == "production"

    secret_key = overrides.get("SECRET_KEY") or _env("PORTAL_SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("PORTAL_SECRET_KEY is required when PORTAL_ENV=production")
        secret_key = _dev_secret_key(instance_path)

    database_url = _env("PORTAL_DATABASE_URL")
    if not database_url:
        if production:
            raise ConfigError("PORTAL_DATABASE_URL is required when PORTAL_ENV=production")
        database_url = f"sqlite:///{instance_path / 'portal.db'}"

    config: dict[str, Any] = {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "REDIS_URL": _env("PORTAL_REDIS_URL"),
        "SMS_BACKEND": _env("PORTAL_SMS_BACKEND", "outbox"),
        "MAIL_BACKEND": _env("PORTAL_MAIL_BACKEND", "outbox"),
        "MAIL_FROM": _env("PORTAL_MAIL_FROM", "mypage@example.jp"),
        "AWS_REGION": _env("PORTAL_AWS_REGION", "ap-northeast-1"),
        "AWS_ENDPOINT_URL": _env("PORTAL_AWS_ENDPOINT_URL"),
        # The origination identity (number or pool) voice calls are made from.
        "AWS_VOICE_ORIGINATION": _env("PORTAL_AWS_VOICE_ORIGINATION"),
        # Benchmarks and other features' tests sign in with the password alone; a new
        # device is always asked for a code in production, whatever this says.
        "TRUST_NEW_DEVICES": not production and _env("PORTAL_TRUST_NEW_DEVICES") == "1",
        "STORAGE": _env("PORTAL_STORAGE", "local"),
        "STORAGE_DIR": _env("PORTAL_STORAGE_DIR", str(instance_path / "files")),
        "S3_BUCKET": _env("PORTAL_S3_BUCKET", "mypage-files"),
        "STRIPE_SECRET_KEY": _env("PORTAL_STRIPE_SECRET_KEY"),
        "STRIPE_PUBLISHABLE_KEY": _env("PORTAL_STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_WEBHOOK_SECRET": _env("PORTAL_STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": _env("PORTAL_STRIPE_API_BASE"),
        # Sessions: see SECURITY.md. Cookies are Secure everywhere but development
        # and test, where the portal is served over plain http on 127.0.0.1.
        "SESSION_COOKIE_NAME": "mypage_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "MEMBER_IDLE_MINUTES": 30,
        "MEMBER_ABSOLUTE_HOURS": 12,
        "STAFF_IDLE_MINUTES": 15,
        "WTF_CSRF_TIME_LIMIT": None,  # the session's own lifetime bounds the token
        "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": _env("PORTAL_REDIS_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "TESTING": env == "test",
    }
    config.update(overrides)
    if config["PORTAL_ENV"] == "production" and config["SMS_BACKEND"] == "outbox":
        # Outbox in production would silently swallow every sign-up code.
        raise ConfigError("PORTAL_SMS_BACKEND=outbox is not allowed in production; use aws")
    return config
