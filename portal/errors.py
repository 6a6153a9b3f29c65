"""Japanese error pages for 400, 401, 403, 404, 405, 429 and 500."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("リクエストを処理できませんでした", "入力内容をご確認のうえ、もう一度お試しください。"),
    401: ("ログインが必要です", "お手数ですが、ログインしてからもう一度お試しください。"),
    403: ("このページを表示する権限がありません", "ご不明な点はお問い合わせください。"),
    404: ("ページが見つかりません", "URLが正しいかご確認ください。"),
    405: ("この操作はできません", "画面のボタンから操作してください。"),
    409: ("ほかの画面で内容が変更されました", "最新の内容を表示してから、もう一度お試しください。"),
    413: ("ファイルが大きすぎます", "5MB以下のファイルを選んでください。"),
    429: ("アクセスが集中しています", "しばらく時間をおいてからもう一度お試しください。"),
    500: ("システムエラーが発生しました", "ご迷惑をおかけしております。しばらくしてからもう一度お試しください。"),
}


def render_error(status: int, detail: str | None = None, retry_after: str | None = None):
    title, text = MESSAGES.get(status, MESSAGES[500])
    body = render_template("errors/error.html", status=status, title=title,
                           text=detail or text, retry_after=retry_after)
    return body, status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(400, "画面の有効期限が切れました。ページを再読み込みしてから、もう一度送信してください。")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith("/stripe/") or request.path.endswith(".json"):
            return {"error": error.name}, error.code
        retry_after = None
        if error.code == 429:
            retry_after = (error.get_response().headers.get("Retry-After")
                           or getattr(error, "retry_after", None))
            limit = getattr(error, "limit", None)
            if retry_after is None and limit is not None:
                retry_after = str(limit.limit.get_expiry())
        response = render_error(error.code or 500, retry_after=retry_after)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            return response[0], 405, {"Allow": ", ".join(error.valid_methods)}
        if retry_after:
            return response[0], 429, {"Retry-After": str(retry_after)}
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        from portal.extensions import db
        try:
            db.session.rollback()
        except Exception:  # the database may be the thing that failed
            pass
        return render_error(500)
