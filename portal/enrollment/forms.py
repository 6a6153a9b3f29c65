from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired

from portal.enrollment.services import DECLARATION_QUESTIONS


class PlanForm(FlaskForm):
    plan = RadioField("お申し込みになるプラン", validators=[InputRequired("プランを選んでください。")], choices=[])


class DeclarationForm(FlaskForm):
    """告知: each question must be answered; the answers are stored with the application
    (a 'yes' stops the online route and keeps nothing but that fact)."""


for index, question in enumerate(DECLARATION_QUESTIONS, start=1):
    setattr(DeclarationForm, f"q{index}", RadioField(
        f"質問{index}　{question}", choices=[("no", "いいえ"), ("yes", "はい")],
        validators=[InputRequired("「はい」か「いいえ」を選んでください。")]))


class MattersForm(FlaskForm):
    confirmed = BooleanField("「契約概要」と「注意喚起情報」を読み、内容を確認しました",
                             validators=[DataRequired("内容をご確認のうえ、チェックを入れてください。")])


class PaymentForm(FlaskForm):
    method = RadioField("掛金のお支払い方法", choices=[],
                        validators=[InputRequired("掛金のお支払い方法を選んでください。")])


class ConfirmForm(FlaskForm):
    idempotency_key = HiddenField()


class ReceiptForm(FlaskForm):
    receipt_no = StringField("受付番号", validators=[DataRequired()])
