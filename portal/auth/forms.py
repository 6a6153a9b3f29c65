"""Auth forms: shape only. Whether the data match a member is the services' business."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from portal.clock import today
from portal.formfields import JapaneseDateField
from portal.jp.errors import JpValueError
from portal.jp.phone import parse_phone
from portal.jp.text import digits_only, normalize

CHANNEL_CHOICES = [("sms", "SMS（ショートメッセージ）で受け取る"),
                   ("voice", "音声通話（自動音声が読み上げます）で受け取る")]


class LoginForm(FlaskForm):
    login_id = StringField("ログインID", validators=[DataRequired("ログインIDを入力してください"), Length(max=64)],
                           description="組合員番号（10桁）またはご自身で決めたID")
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください"), Length(max=128)])


class BirthDateField(JapaneseDateField):
    """生年月日: 年・月・日 boxes; １９７５, 昭和50 and a single 1975-10-10 all work."""

    def __init__(self, label: str, **kwargs):
        kwargs.setdefault("invalid_message", "生年月日を正しく入力してください（例：1975年10月10日、昭和50年10月10日）")
        super().__init__(label, **kwargs)


def _identifier(form, field) -> None:
    try:
        digits = digits_only(field.data)
    except JpValueError:
        digits = ""
    if len(digits) not in (10, 12):
        raise ValidationError("組合員番号（10桁）または証書番号（12桁）を数字で入力してください")
    field.data = digits


def _phone(form, field) -> None:
    try:
        field.data = parse_phone(field.data).national
    except JpValueError as error:
        raise ValidationError(error.message) from None


def _past_date(form, field) -> None:
    if field.data and (field.data > today() or field.data.year < 1900):
        raise ValidationError("生年月日を正しく入力してください")


class IdentityForm(FlaskForm):
    """Step 1 of signup and of password reset: who you are, and where the code goes."""

    identifier = StringField("組合員番号または証書番号",
                             validators=[DataRequired("組合員番号または証書番号を入力してください"), _identifier],
                             description="組合員番号は10桁、証書番号（共済契約証書の番号）は12桁です。ハイフンや全角数字でも入力できます。")
    birth_date = BirthDateField("生年月日", validators=[DataRequired("生年月日を入力してください"), _past_date],
                                description="組合員ご本人の生年月日。西暦（1975）または和暦（昭和50・S50）で入力できます。")
    phone = StringField("ご登録の電話番号", validators=[DataRequired("電話番号を入力してください"), _phone],
                        description="共済にお届けの電話番号（例：090-1234-5678）。固定電話の方は音声通話をお選びください。")
    channel = RadioField("認証コードの受け取り方法", choices=CHANNEL_CHOICES, default="sms",
                         validators=[DataRequired("受け取り方法を選んでください")])


class CodeForm(FlaskForm):
    code = StringField("認証コード", validators=[DataRequired("認証コードを入力してください"), Length(max=20)],
                       description="届いた6桁の数字を入力してください")


class ResendForm(FlaskForm):
    flow = HiddenField(validators=[DataRequired()])
    channel = HiddenField()


def _login_id_shape(form, field) -> None:
    value = normalize(field.data or "")
    field.data = value
    if not value:
        return
    if not re.fullmatch(r"[A-Za-z0-9._@-]{4,32}", value):
        raise ValidationError("ログインIDは半角英数字と . _ @ - の4〜32文字で入力してください")


class PasswordForm(FlaskForm):
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください"),
                                                   Length(min=10, max=128, message="パスワードは10文字以上128文字以内で入力してください")],
                             description="10文字以上。組合員番号・生年月日・電話番号や、よく使われるパスワードは使えません。")
    password_confirm = PasswordField("パスワード（確認）", validators=[
        DataRequired("確認のため、もう一度パスワードを入力してください"),
        EqualTo("password", message="パスワードが一致しません")])


class CredentialsForm(PasswordForm):
    login_id = StringField("ログインID（任意）", validators=[Optional(), _login_id_shape],
                           description="半角英数字4〜32文字。空欄の場合は組合員番号でログインします。")
