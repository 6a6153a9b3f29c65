"""The forms an office action may ask for (the work page renders them from the registry)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length


class ReasonForm(FlaskForm):
    reason = TextAreaField("理由（組合員に通知されます）",
                           validators=[DataRequired("理由を入力してください。"), Length(max=300, message="理由は300文字以内で入力してください。")],
                           render_kw={"rows": 3})


class ShipmentForm(FlaskForm):
    shipped_on = DateField("発送日", validators=[InputRequired("発送日を入力してください。")])
    tracking_no = StringField("お問い合わせ番号（追跡番号）",
                              validators=[DataRequired("お問い合わせ番号を入力してください。"), Length(max=40)],
                              render_kw={"inputmode": "numeric", "autocomplete": "off"})


class TrackingForm(FlaskForm):
    tracking_no = StringField("お問い合わせ番号（追跡番号）",
                              validators=[DataRequired("お問い合わせ番号を入力してください。"), Length(max=40)],
                              render_kw={"inputmode": "numeric", "autocomplete": "off"})
