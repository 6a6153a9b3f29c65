"""Account security forms: shape only. Password strength is the auth service's rule."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.formfields import code_channel_field, code_field
from portal.jp.text import normalize


def _nfkc(value):
    return normalize(value) if isinstance(value, str) else value


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("現在のパスワード", validators=[
        DataRequired("現在のパスワードを入力してください"), Length(max=128)])
    new_password = PasswordField("新しいパスワード", validators=[
        DataRequired("新しいパスワードを入力してください"), Length(max=128, message="128文字以内で入力してください")],
        description="10文字以上。組合員番号・生年月日・電話番号を含むものや、よく使われるものは使えません")
    confirm = PasswordField("新しいパスワード（確認）", validators=[
        DataRequired("確認のため、もう一度入力してください"), Length(max=128)])


class PasskeyNameForm(FlaskForm):
    name = StringField("パスキーの名前", filters=[_nfkc], validators=[Optional(), Length(max=40, message="40文字以内で入力してください")],
                       description="どの端末のパスキーかわかる名前（例：わたしのiPhone）。空欄なら端末名が入ります")


class ActionForm(FlaskForm):
    """The buttons on the security page: CSRF only."""


class StepUpSendForm(FlaskForm):
    channel = code_channel_field()


class StepUpCodeForm(FlaskForm):
    code = code_field("ご登録の電話番号に届いた6桁の数字")


class StaffPasskeyDeleteForm(FlaskForm):
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください"), Length(max=128)],
                             description="削除には、確認のためパスワードが必要です")
