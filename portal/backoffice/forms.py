"""Forms of the office console: shape only; the rules live in the services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class WorkFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    kind = SelectField("手続きの種類", choices=[("", "すべて")], validators=[Optional()], validate_choice=False)
    state = SelectField("絞り込み", choices=[("", "すべて"), ("overdue", "期限超過のみ"), ("mine", "自分が担当"),
                                          ("free", "担当者なし")], validators=[Optional()], validate_choice=False)
    q = StringField("受付番号・組合員番号", validators=[Optional(), Length(max=20)])


class ConfirmForm(FlaskForm):
    """A button: only the CSRF token."""


class NoteForm(FlaskForm):
    note = TextAreaField("メモ（組合員に通知されます・任意）",
                         validators=[Optional(), Length(max=300, message="300文字以内で入力してください。")],
                         render_kw={"rows": 2})


class CsvUploadForm(FlaskForm):
    file = FileField("印刷会社の発送CSV",
                     description="1行に 証書番号,発送日(YYYY-MM-DD),お問い合わせ番号。見出し行はあってもなくても構いません。")


class PhoneIntakeForm(FlaskForm):
    kind = SelectField("手続きの種類", choices=[], validators=[DataRequired("手続きの種類を選んでください。")])
    note = TextAreaField("お電話で伺った内容",
                         validators=[DataRequired("内容を入力してください。"), Length(max=1000)],
                         render_kw={"rows": 5},
                         description="組合員の「手続き状況」に表示されます（1,000文字以内）。")
    file = FileField("書類（任意）", description="JPEG・PNG・PDF、10MBまで。組合員には表示されません。")


