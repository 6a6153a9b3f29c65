"""Contract-change forms: shape only; the rules live in services."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.changes.models import BENEFICIARY_RELATIONS, PROXY_RELATIONS
from portal.changes.services import NAME_CHANGE_REASONS
from portal.jp.text import normalize
from portal.profile.forms import OneTimeForm


def _nfkc(value):
    return normalize(value) if isinstance(value, str) else value


class CancellationForm(OneTimeForm):
    end_date = DateField("解約日", validators=[Optional()],
                         description="年払いのご契約は、今日から契約年度の終わりまでの日を選べます")
    reason = TextAreaField("解約の理由（任意）", filters=[_nfkc], validators=[Optional(), Length(max=200)])


class SimpleConfirmForm(OneTimeForm):
    """Cooling-off and 脱退: nothing to type, only the confirmation."""


class CoolingOffForm(OneTimeForm):
    application = RadioField("取り消すお申込み", coerce=int, validate_choice=False,
                             validators=[DataRequired("取り消すお申込みを選んでください")])


def _person_fields(relations: dict[str, str]):
    return (
        StringField("お名前", filters=[_nfkc], validators=[DataRequired("お名前を入力してください"), Length(max=60)]),
        StringField("フリガナ", filters=[_nfkc],
                    validators=[DataRequired("フリガナを入力してください"), Length(max=120)]),
        SelectField("続柄", choices=[("", "選んでください")] + list(relations.items()),
                    validators=[DataRequired("続柄を選んでください")]),
    )


class BeneficiaryForm(OneTimeForm):
    name, name_kana, relation = _person_fields(BENEFICIARY_RELATIONS)
    consent = BooleanField("被共済者本人として、この受取人の指定に同意します")
    consent_name = StringField("被共済者ご本人のお名前", filters=[_nfkc], validators=[Optional(), Length(max=60)],
                               description="被共済者ご本人が入力してください")


class ProxyClaimantForm(OneTimeForm):
    name, name_kana, relation = _person_fields(PROXY_RELATIONS)
    birth_date = DateField("生年月日", validators=[DataRequired("生年月日を入力してください")])
    phone = StringField("電話番号", filters=[_nfkc],
                        validators=[DataRequired("電話番号を入力してください"), Length(max=20)])
    lives_with_member = BooleanField("同居している、または生計を一にしている")


class NameChangeForm(OneTimeForm):
    new_name = StringField("新しいお名前", filters=[_nfkc],
                           validators=[DataRequired("新しいお名前を入力してください"), Length(max=60)])
    new_name_kana = StringField("新しいフリガナ", filters=[_nfkc],
                                validators=[DataRequired("フリガナを入力してください"), Length(max=120)])
    reason = SelectField("変更の理由", choices=[("", "選んでください")] + list(NAME_CHANGE_REASONS.items()),
                         validators=[DataRequired("変更の理由を選んでください")])
    document = FileField("新しいお名前が確認できる書類",
                         description="運転免許証・健康保険証・戸籍抄本などの写真（JPEG・PNG）またはPDF、10MBまで")
