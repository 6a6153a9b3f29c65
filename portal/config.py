"""Settings, read once from PORTAL_* environment variables.

Every variable is optional in development; production refuses to start without
a secret key of at least 32 bytes and a database URL (a guessed key forges every
session), without Redis (in-memory rate limits count per worker, so 4 workers
allow 4 times the limit), and with a Content-Security-Policy that names a
development host (it would let a page load scripts from that host).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_KEY_BYTES = 32
STRIPE_HOSTS = ("https://js.stripe.com", "https://api.stripe.com")
# Names only a developer's network resolves; a production CSP naming one is refused.
DEV_DOMAIN_SUFFIXES = (".localhost", ".local", ".test", ".internal", ".invalid")


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot run the portal."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int_env(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {raw!r})") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative (got {value})")
    return value


def _dev_secret_key(instance_path: Path) -> str:
    """A random key kept in instance/ so development sessions survive restarts."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _hosts(name: str, default: list[str]) -> list[str]:
    """A space-separated list from the environment, else the default; duplicates dropped."""
    raw = _env(name)
    return list(dict.fromkeys(raw.split() if raw else [h for h in default if h]))


def content_security_policy(stripe_hosts: list[str], storage_hosts: list[str]) -> str:
    stripe = " ".join(stripe_hosts)
    img = " ".join(["'self'", "data:", *storage_hosts])
    return (f"default-src 'self'; script-src 'self' {stripe}; style-src 'self'; img-src {img}; "
            f"connect-src 'self' {stripe}; frame-src 'self' {stripe}; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'").replace("  ", " ")


def is_development_host(host: str) -> bool:
    """Plain http, loopback, or a name that only resolves on a developer's network."""
    parts = urlsplit(host if "://" in host else f"//{host}")
    name = (parts.hostname or "").lower()
    return (parts.scheme == "http" or name in ("localhost", "::1", "0.0.0.0") or name.startswith("127.")
            or name.endswith(DEV_DOMAIN_SUFFIXES))


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

    stripe_api_base = _env("PORTAL_STRIPE_API_BASE")
    storage = _env("PORTAL_STORAGE", "local")
    region = _env("PORTAL_AWS_REGION", "ap-northeast-1")
    bucket = _env("PORTAL_S3_BUCKET", "mypage-files")
    endpoint = _env("PORTAL_AWS_ENDPOINT_URL")
    s3_hosts = ([_origin(endpoint) or f"https://{bucket}.s3.{region}.amazonaws.com",
                 f"https://s3.{region}.amazonaws.com"] if storage == "s3" else [])
    # Stripe.js and its API, plus another Stripe API (localstripe in development);
    # the storage host serves presigned S3 URLs of tip images.
    csp_stripe_hosts = _hosts("PORTAL_CSP_STRIPE_HOSTS", [_origin(stripe_api_base), *STRIPE_HOSTS])
    csp_storage_hosts = _hosts("PORTAL_CSP_STORAGE_HOSTS", s3_hosts)

    config: dict[str, Any] = {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "REDIS_URL": _env("PORTAL_REDIS_URL"),
        "SMS_BACKEND": _env("PORTAL_SMS_BACKEND", "outbox"),
        "MAIL_BACKEND": _env("PORTAL_MAIL_BACKEND", "outbox"),
        "MAIL_FROM": _env("PORTAL_MAIL_FROM", "mypage@example.jp"),
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": _env("PORTAL_AWS_ENDPOINT_URL"),
        # The origination identity (number or pool) voice calls are made from.
        "AWS_VOICE_ORIGINATION": _env("PORTAL_AWS_VOICE_ORIGINATION"),
        # Benchmarks and other features' tests sign in with the password alone; a new
        # device is always asked for a code in production, whatever this says.
        "TRUST_NEW_DEVICES": not production and _env("PORTAL_TRUST_NEW_DEVICES") == "1",
        "STORAGE": storage,
        "STORAGE_DIR": _env("PORTAL_STORAGE_DIR", str(instance_path / "files")),
        "S3_BUCKET": bucket,
        "STRIPE_SECRET_KEY": _env("PORTAL_STRIPE_SECRET_KEY"),
        "STRIPE_PUBLISHABLE_KEY": _env("PORTAL_STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_WEBHOOK_SECRET": _env("PORTAL_STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": stripe_api_base,
        "CSP_STRIPE_HOSTS": csp_stripe_hosts,
        "CSP_STORAGE_HOSTS": csp_storage_hosts,
        # Passkeys: WebAuthn refuses an IP address as RP ID, so development uses localhost.
        "WEBAUTHN_RP_ID": _env("PORTAL_WEBAUTHN_RP_ID", "localhost"),
        "WEBAUTHN_ORIGIN": _env("PORTAL_WEBAUTHN_ORIGIN", "http://localhost:5000"),
        "WEBAUTHN_RP_NAME": "みらい共済生協 マイページ",
        # Load balancers in front of the portal, each adding one X-Forwarded-For entry:
        # with the right count, rate limits and the audit log see the client's address.
        "PROXY_COUNT": _int_env("PORTAL_PROXY_COUNT", 0),
        # Sessions: cookies are Secure everywhere but development
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
        # Operations (portal/ops): JSON-lines logs and the /metrics guard.
        "LOG_FORMAT": _env("PORTAL_LOG_FORMAT", "json" if production else "text"),
        "LOG_LEVEL": _env("PORTAL_LOG_LEVEL", "INFO"),
        "METRICS_TOKEN": _env("PORTAL_METRICS_TOKEN"),
        "METRICS_ALLOW": tuple(a.strip() for a in (_env("PORTAL_METRICS_ALLOW", "127.0.0.1,::1") or "").split(",")
                               if a.strip()),
    }
    # The co-op's paying account in claims transfer files (portal.claims.services.requester_from).
    for name in ("REQUESTER_CODE", "REQUESTER_NAME", "BANK_CODE", "BANK_NAME", "BRANCH_CODE", "BRANCH_NAME",
                 "ACCOUNT_TYPE", "ACCOUNT_NUMBER"):
        if _env(f"PORTAL_CLAIMS_{name}"):
            config[f"CLAIMS_{name}"] = _env(f"PORTAL_CLAIMS_{name}")
    config.update(overrides)
    config.setdefault("CONTENT_SECURITY_POLICY",
                      content_security_policy(config["CSP_STRIPE_HOSTS"], config["CSP_STORAGE_HOSTS"]))
    if config["PORTAL_ENV"] == "production":
        check_production(config)
    return config


def check_production(config: dict[str, Any]) -> None:
    """Refuse settings that are fine on a laptop and dangerous on the internet."""
    if config["SMS_BACKEND"] == "outbox":
        # Outbox in production would silently swallow every sign-up code.
        raise ConfigError("PORTAL_SMS_BACKEND=outbox is not allowed in production; use aws")
    if len(str(config["SECRET_KEY"]).encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(f"PORTAL_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes in production "
                          "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
    if str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        raise ConfigError("PORTAL_REDIS_URL is required in production: in-memory rate limits count per "
                          "worker, so every worker would allow the full limit again")
    rp_id, origin = str(config["WEBAUTHN_RP_ID"]), str(config["WEBAUTHN_ORIGIN"])
    host = (urlsplit(origin).hostname or "").lower()
    # Passkeys made for localhost or another origin would fail for every member on the real site.
    if (is_development_host(origin) or not origin.startswith("https://")
            or not (host == rp_id or host.endswith("." + rp_id))):
        raise ConfigError("set PORTAL_WEBAUTHN_RP_ID (the site's domain) and PORTAL_WEBAUTHN_ORIGIN "
                          "(https://… on that domain) in production")
    dev_hosts = [h for h in [*config["CSP_STRIPE_HOSTS"], *config["CSP_STORAGE_HOSTS"]] if is_development_host(h)]
    if dev_hosts:
        raise ConfigError(f"the Content-Security-Policy names development hosts in production: {' '.join(dev_hosts)} "
                          "(set PORTAL_CSP_STRIPE_HOSTS / PORTAL_CSP_STORAGE_HOSTS)")
