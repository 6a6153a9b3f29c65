"""`make prod-check`: the portal with production settings on this machine.

gunicorn (gunicorn.conf.py, 2 workers) with PORTAL_ENV=production on PostgreSQL
and Redis, a moto server standing in for AWS (SNS for codes, SES for mail, S3 for
files) and localstripe for Stripe. The check walks the main pages, signs a
member up with the code read back from SNS, browses as that member, signs out
and in again, scrapes /metrics, and fails on any error:
a status it did not expect, a 5xx anywhere, or an error line in the server log.

Environment: PROD_CHECK_DATABASE_URL (default: a database `portal_prodcheck`
made anew on the server of PORTAL_TEST_DATABASE_URL, or 127.0.0.1:5432),
PROD_CHECK_REDIS_URL (default redis://127.0.0.1:6379/14).
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.net import free_port, moto_server, wait_for  # noqa: E402

BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SIGNUP_MEMBER = {"identifier": "1000000002", "birth_date": "1975-10-10", "phone": "09012340002", "channel": "sms"}


class Failure(AssertionError):
    pass


def check(condition: bool, what: str, page: str = "") -> None:
    if not condition:
        # The page's own messages say why (errors next to fields, flashes).
        said = re.findall(r'class="(?:flash[^"]*|error[^"]*|field-error[^"]*)"[^>]*>([^<]+)<', page)
        raise Failure(what + (f" — the page says: {' / '.join(m.strip() for m in said)}" if said else ""))
    print(f"  ok  {what}")


def fresh_database() -> str:
    explicit = os.environ.get("PROD_CHECK_DATABASE_URL")
    if explicit:
        return explicit
    server = os.environ.get("PORTAL_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    from sqlalchemy import text

    from portal.db import make_engine
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS portal_prodcheck WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE portal_prodcheck"))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/portal_prodcheck"


class _BehindTls(http.cookiejar.DefaultCookiePolicy):
    """The check plays nginx terminating TLS: Secure cookies go back over loopback http."""

    def return_ok_secure(self, cookie, request):
        return True


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar(policy=_BehindTls())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers={
            "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7", **(headers or {})})
        try:
            response = self.opener.open(request, timeout=30)
            return response.status, response.geturl(), response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read(), dict(error.headers)

    def get(self, path: str, expect: int = 200, contains: str | None = None) -> str:
        status, url, body, headers = self.request(path)
        text = body.decode("utf-8", "replace")
        check(status == expect, f"GET {path} → {status} (expected {expect})")
        if contains is not None:
            check(contains in text, f"GET {path} shows {contains!r}")
        check(bool(headers.get("X-Request-ID")), f"GET {path} has a request id")
        return text

    def post_form(self, path: str, fields: dict, *, page: str | None = None) -> tuple[int, str, str]:
        form_page = page if page is not None else self.get(path)
        token = CSRF.search(form_page)
        check(token is not None, f"{path} form has a CSRF token")
        # Over HTTPS (X-Forwarded-Proto) Flask-WTF also wants a same-origin Referer, as a browser sends.
        referer = "https" + self.base[len("http"):] + path
        status, url, body, _ = self.request(path, {"csrf_token": token.group(1), **fields},
                                            headers={"Referer": referer})
        return status, url, body.decode("utf-8", "replace")


def sms_code(moto_url: str, number_e164: str) -> str:
    data = json.load(urllib.request.urlopen(moto_url + "/moto-api/data.json", timeout=5))
    messages = [m for m in data["sns"]["SMS"] if m["phone_number"] == number_e164]
    check(bool(messages), f"an SMS reached SNS for {number_e164[:-4]}****")
    return re.search(r"(\d{6})", messages[-1]["message"]).group(1)


def main() -> int:
    database_url = fresh_database()
    redis_url = os.environ.get("PROD_CHECK_REDIS_URL", "redis://127.0.0.1:6379/14")
    log_path = ROOT / "tests" / "artifacts" / "prod-check-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    with moto_server() as moto_url:
        stripe_port = free_port()
        stripe_url = f"http://127.0.0.1:{stripe_port}"
        processes.append(subprocess.Popen([str(BIN / "localstripe"), "--port", str(stripe_port), "--from-scratch"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        env = {
            **os.environ, "PYTHONPATH": str(ROOT),
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ap-northeast-1",
            "PORTAL_ENV": "production", "PORTAL_SECRET_KEY": secrets.token_hex(32),
            "PORTAL_DATABASE_URL": database_url, "PORTAL_REDIS_URL": redis_url,
            "PORTAL_SMS_BACKEND": "aws", "PORTAL_MAIL_BACKEND": "aws", "PORTAL_AWS_ENDPOINT_URL": moto_url,
            "PORTAL_AWS_VOICE_ORIGINATION": "+815012345678",
            "PORTAL_STORAGE": "s3", "PORTAL_S3_BUCKET": "mypage-prodcheck",
            "PORTAL_STRIPE_API_BASE": stripe_url, "PORTAL_STRIPE_SECRET_KEY": "sk_test_prodcheck",
            "PORTAL_STRIPE_PUBLISHABLE_KEY": "pk_test_prodcheck", "PORTAL_STRIPE_WEBHOOK_SECRET": "whsec_prodcheck",
            # The browser-facing policy names the real hosts; the stand-ins are reached server-side only.
            "PORTAL_CSP_STRIPE_HOSTS": "https://js.stripe.com https://api.stripe.com",
            "PORTAL_CSP_STORAGE_HOSTS": "https://mypage-prodcheck.s3.ap-northeast-1.amazonaws.com",
            "PORTAL_WEBAUTHN_RP_ID": "mypage.example.jp", "PORTAL_WEBAUTHN_ORIGIN": "https://mypage.example.jp",
            "PORTAL_PROXY_COUNT": "1", "PORTAL_METRICS_TOKEN": "prodcheck-metrics-token",
            "PORTAL_METRICS_ALLOW": "192.0.2.1",
            "GUNICORN_WORKERS": "2",
        }
        import boto3
        s3 = boto3.client("s3", region_name="ap-northeast-1", endpoint_url=moto_url,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="mypage-prodcheck",
                         CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
        ses = boto3.client("ses", region_name="ap-northeast-1", endpoint_url=moto_url,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        ses.verify_email_identity(EmailAddress=env.get("PORTAL_MAIL_FROM", "mypage@example.jp"))

        flask = [str(BIN / "flask"), "--app", "wsgi"]
        print("prod-check: migrating and loading the demo data (seed-demo runs in development mode: "
              "production refuses it)")
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
        subprocess.run([*flask, "seed-demo"], cwd=ROOT, env={**env, "PORTAL_ENV": "development",
                                                            "PORTAL_STORAGE": "local"}, check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        log = open(log_path, "wb")
        server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
                                   "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(server)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/healthz", server, timeout=60)
            wait_for(stripe_url + "/v1/customers", processes[0], timeout=30)
            walk(base, moto_url)
        finally:
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [line for line in lines if '"level": "error"' in line or '"level": "critical"' in line
              or "Traceback" in line]
    check(not errors, f"no error in the server log ({len(lines)} lines)" + (f": {errors[0][:300]}" if errors else ""))
    statuses = [json.loads(line).get("status") for line in lines if '"logger": "portal.access"' in line]
    check(bool(statuses) and all(s < 500 for s in statuses), f"{len(statuses)} JSON access lines, none 5xx")
    print("prod-check: passed")
    return 0


def walk(base: str, moto_url: str) -> None:
    anonymous = Browser(base)
    print("public pages")
    health = json.loads(anonymous.get("/healthz"))
    check(health["status"] == "ok", "/healthz ok")
    ready = json.loads(anonymous.get("/readyz"))
    check(ready == {"status": "ok", "database": "ok", "redis": "ok", "storage": "ok"}, f"/readyz all ok: {ready}")
    anonymous.get("/", contains="マイページ")
    anonymous.get("/login", contains="ログインID")
    anonymous.get("/tips")
    anonymous.get("/shop")
    anonymous.get("/voices/new")
    anonymous.get("/dev/outbox", expect=404)  # development only
    for path in ("/mypage", "/bench/bare"):
        status, url, _, _ = anonymous.request(path)
        check(status == 200 and url.endswith("/login"), f"GET {path} signed out → the sign-in page")
    anonymous.get("/metrics", expect=404)  # not from this address, no token
    status, _, body, _ = anonymous.request("/metrics", headers={"Authorization": "Bearer prodcheck-metrics-token"})
    check(status == 200 and b"portal_request_duration_seconds" in body, "/metrics with the token")
    status, _, body, headers = anonymous.request("/healthz")
    check("Strict-Transport-Security" in headers, "HSTS on answers")

    print("signup of member 1000000002 with an SMS code through SNS (moto)")
    member = Browser(base)
    status, url, text = member.post_form("/signup", SIGNUP_MEMBER)
    check(status == 200 and url.endswith("/signup/code"), f"identity accepted → {url}", text)
    code = sms_code(moto_url, "+819012340002")
    status, url, text = member.post_form("/signup/code", {"code": code}, page=text)
    check(status == 200 and url.endswith("/signup/credentials"), f"code accepted → {url}", text)
    password = "Prod-check-" + secrets.token_hex(4)
    status, url, text = member.post_form("/signup/credentials", {
        "login_id": "prodcheck", "password": password, "password_confirm": password}, page=text)
    check(status == 200 and url.endswith("/mypage"), f"signed up and on /mypage → {url}", text)
    check("ご登録が完了しました" in text, "welcome message")

    print("the member's pages")
    for path, words in (("/mypage", "ご家族の保障"), ("/contracts", "ご契約一覧"), ("/coverage", "保障内容"),
                        ("/requests", "手続き"), ("/profile/address", "住所"), ("/certificates", "証明書"),
                        ("/shop", "健康チェック"), ("/tips", "お役立ち"), ("/voices/new", "ご意見")):
        member.get(path, contains=words)

    print("sign out and in again (the device is remembered)")
    status, url, _, _ = member.request("/logout")
    check(status == 200, f"signed out → {url}")
    status, url, text = member.post_form("/login", {"login_id": "prodcheck", "password": password})
    check(status == 200 and url.endswith("/mypage"), f"signed in again → {url}", text)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as failure:
        print(f"prod-check FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
