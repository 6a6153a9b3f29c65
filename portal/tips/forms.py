"""Editor forms: shape only (the rules live in services)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateTimeLocalField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.tips.models import AUDIENCE_LABELS


class TipForm(FlaskForm):
    title = StringField("タイトル", validators=[DataRequired("タイトルを入力してください。"), Length(max=120)])
    slug = StringField("スラッグ（URL）", validators=[Optional(), Length(max=80)],
                       description="半角英小文字・数字・ハイフン。空欄ならタイトルから自動で作成します。")
    category_id = SelectField("カテゴリ", coerce=int, validators=[InputRequired("カテゴリを選んでください。")])
    summary = TextAreaField("概要", validators=[DataRequired("概要を入力してください。"), Length(max=300)],
                            description="一覧に表示される紹介文です（300文字以内）。")
    body_md = TextAreaField("本文（Markdown）", validators=[DataRequired("本文を入力してください。"),
                                                         Length(max=50_000)],
                            description="見出しは「## 」、箇条書きは「- 」、リンクは [文字](https://…) で書けます。HTMLは使えません。")
    audience = RadioField("対象", choices=list(AUDIENCE_LABELS.items()), default="everyone",
                          validators=[InputRequired("対象を選んでください。")])
    cover = FileField("カバー画像", description="JPEG・PNG・WebP、5MBまで。横1600pxを超える画像は縮小します。")
    remove_cover = BooleanField("カバー画像を外す")
    version = HiddenField()


class ScheduleForm(FlaskForm):
    publish_at = DateTimeLocalField("公開日時（日本時間）", format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                    validators=[InputRequired("公開日時を入力してください。")])


class CategoryForm(FlaskForm):
    name = StringField("カテゴリ名", validators=[DataRequired("カテゴリ名を入力してください。"), Length(max=30)])
    code = StringField("コード（URL用）", validators=[Optional(), Length(max=40)],
                       description="半角英小文字・数字・ハイフン。空欄なら自動で作成します。")
