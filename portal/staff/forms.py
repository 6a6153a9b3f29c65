"""Staff console forms: shape only; the rules live in services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.staff.acting import ACT_REASONS


class StaffLoginForm(FlaskForm):
    email = StringField("メールアドレス", validators=[DataRequired("メールアドレスを入力してください"), Length(max=254)])
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください"), Length(max=128)])


class TotpForm(FlaskForm):
    code = StringField("確認コード（6桁）", validators=[DataRequired("確認コードを入力してください"), Length(max=20)],
                       description="認証アプリに表示されている6桁の数字")


class MemberSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("組合員番号・証書番号・電話番号・フリガナ", validators=[Optional(), Length(max=60)],
                    description="番号はハイフンあり・全角でも検索できます。フリガナは一部だけでも検索できます。")


class ActForm(FlaskForm):
    reason_code = SelectField("代理操作の理由", choices=[("", "選んでください")] + list(ACT_REASONS.items()),
                              validators=[DataRequired("代理操作の理由を選んでください")])
    reason_text = TextAreaField("理由の詳細", validators=[DataRequired("理由の詳細を入力してください"), Length(max=200)],
                                description="例：住所変更の画面操作が分からないとのお電話（受付番号など）")


class EndActForm(FlaskForm):
    pass


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    staff_id = SelectField("スタッフ", choices=[], validators=[Optional()])
    member_no = StringField("組合員番号", validators=[Optional(), Length(max=20)])
    action = SelectField("操作", choices=[], validators=[Optional()])
    date_from = DateField("期間（から）", validators=[Optional()])
    date_to = DateField("期間（まで）", validators=[Optional()])


class StaffCreateForm(FlaskForm):
    email = StringField("メールアドレス", validators=[DataRequired("メールアドレスを入力してください"), Length(max=254)])
    name = StringField("氏名", validators=[DataRequired("氏名を入力してください"), Length(max=60)])
    role_support = BooleanField("サポート")
    role_cs = BooleanField("CS推進")
    role_marketing = BooleanField("マーケティング")
    role_admin = BooleanField("管理者")

    def selected_roles(self) -> list[str]:
        return [role for role in ("support", "cs", "marketing", "admin") if getattr(self, f"role_{role}").data]
