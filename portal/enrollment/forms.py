from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.enrollment.services import DECLARATION_QUESTIONS


class PlanForm(FlaskForm):
    plan = RadioField("お申し込みになるプラン", validators=[InputRequired("プランを選んでください。")], choices=[])


class DeclarationForm(FlaskForm):
    """告知: each question must be answered; the answers are never stored."""


for index, question in enumerate(DECLARATION_QUESTIONS, start=1):
    setattr(DeclarationForm, f"q{index}", RadioField(
        f"質問{index}　{question}", choices=[("no", "いいえ"), ("yes", "はい")],
        validators=[InputRequired("「はい」か「いいえ」を選んでください。")]))


class MattersForm(FlaskForm):
    confirmed = BooleanField("「契約概要」と「注意喚起情報」を読み、内容を確認しました",
                             validators=[DataRequired("内容をご確認のうえ、チェックを入れてください。")])


class PaymentForm(FlaskForm):
    use_account = BooleanField("登録済みの振替口座で掛金を支払う",
                               validators=[DataRequired("掛金の支払方法を確認し、チェックを入れてください。")])


class ConfirmForm(FlaskForm):
    idempotency_key = HiddenField()


class DecisionForm(FlaskForm):
    reason = TextAreaField("不成立の理由（会員に通知されます）", validators=[Length(max=300)])


class ReceiptForm(FlaskForm):
    receipt_no = StringField("受付番号", validators=[DataRequired()])
