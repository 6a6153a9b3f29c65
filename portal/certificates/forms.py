from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Regexp


class CertificateRequestForm(FlaskForm):
    """No visible fields: the button is the request. The hidden one-time token
    makes a double click or a resent form one request."""

    form_token = HiddenField(validators=[DataRequired("画面を再読み込みしてから、もう一度お申し込みください。"),
                                         Length(min=16, max=48),
                                         Regexp(r"^[A-Za-z0-9_-]+$")])
