from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    login_id = StringField("ログインID", validators=[DataRequired("ログインIDを入力してください"), Length(max=64)],
                           description="組合員番号（10桁）またはご自身で決めたID")
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください"), Length(max=128)])
