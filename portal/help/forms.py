"""Help forms: shape only."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.help.models import INQUIRY_TOPICS
from portal.jp.text import normalize
from portal.profile.forms import OneTimeForm


def _nfkc(value):
    return normalize(value) if isinstance(value, str) else value


class InquiryForm(OneTimeForm):
    topic = SelectField("お問い合わせの種類", choices=[("", "選んでください")] + list(INQUIRY_TOPICS.items()),
                        validators=[DataRequired("お問い合わせの種類を選んでください")])
    subject = StringField("件名", filters=[_nfkc], validators=[DataRequired("件名を入力してください"), Length(max=100)])
    body = TextAreaField("お問い合わせ内容", filters=[_nfkc],
                         validators=[DataRequired("お問い合わせ内容を入力してください"), Length(max=2000)],
                         description="2,000文字まで。回答はマイページのこの画面でお読みいただけます")


class ReplyForm(OneTimeForm):
    body = TextAreaField("メッセージ", filters=[_nfkc],
                         validators=[DataRequired("メッセージを入力してください"), Length(max=2000)])


class FaqForm(FlaskForm):
    question = StringField("質問", filters=[_nfkc], validators=[DataRequired("質問を入力してください"), Length(max=200)])
    answer_markdown = TextAreaField("回答（Markdown）", validators=[DataRequired("回答を入力してください"),
                                                                  Length(max=5000)])
    sort_order = IntegerField("表示順", default=100,
                              validators=[Optional(), NumberRange(0, 9999, "0から9999で入力してください")])
    is_published = BooleanField("公開する", default=True)
