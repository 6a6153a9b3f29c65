"""Shop forms: shape only (the rules are in services)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import DataRequired, Length, Regexp
from wtforms.widgets import HiddenInput


class OrderForm(FlaskForm):
    person_id = SelectField("検査を受ける方", coerce=int, validate_choice=False,  # the service checks the household
                            validators=[DataRequired("検査を受ける方を選んでください。")])
    token = HiddenField(validators=[Length(min=16, max=64)])


class PaymentForm(FlaskForm):
    # The id of the card Stripe.js saved (pm_…): never a card number.
    payment_method_id = HiddenField(validators=[
        DataRequired("カード情報を入力してください。"),
        Regexp(r"^pm_[A-Za-z0-9_]{1,60}$", message="カード情報を確認できませんでした。もう一度入力してください。"),
    ])


class ActionForm(FlaskForm):
    """A button that changes something: the CSRF token only."""


class SkipForm(FlaskForm):
    # The charge date shown on the confirmation page: the skip applies to that delivery only.
    charge_on = DateField(format="%Y-%m-%d", widget=HiddenInput(),
                          validators=[DataRequired("画面を読み込み直してからもう一度お手続きください。")])
