"""Claim forms: shape only. Dates, limits, cover and accounts are checked in services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (FieldList, HiddenField, MultipleFileField, RadioField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.claims.models import BENEFIT_LABELS, BENEFITS, CAUSE_LABELS, CAUSES, DAMAGE_CAUSE_LABELS, DAMAGE_CAUSES
from portal.claims.services import MAX_OUTPATIENT_DATES
from portal.formfields import JapaneseDateField
from portal.jp.text import normalize
from portal.profile.forms import ACCOUNT_TYPE_CHOICES, OneTimeForm

ACCEPT = "image/jpeg,image/png,application/pdf"  # iPhones convert HEIC photos to JPEG for this list


def _nfkc(value):
    return normalize(value) if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DraftForm(FlaskForm):
    """Steps after the first carry the claim so far, signed, in one hidden field."""

    draft = HiddenField()


class WhatForm(FlaskForm):
    person_id = RadioField("どなたのご請求ですか", validators=[DataRequired("被共済者を選んでください")],
                           validate_choice=False)
    benefits = MultiCheckboxField("ご請求の内容（複数選べます）", choices=[(b, BENEFIT_LABELS[b]) for b in BENEFITS],
                                  validate_choice=False)
    cause = RadioField("原因", choices=[(c, CAUSE_LABELS[c]) for c in CAUSES],
                       validators=[DataRequired("原因を選んでください")], validate_choice=False)


def _day(label: str, **kwargs) -> JapaneseDateField:
    return JapaneseDateField(label, validators=[Optional()], default=None,
                             invalid_message=f"{label}を正しく入力してください（例：2026年11月30日）", **kwargs)


OUTPATIENT_ROWS = 3  # empty rows shown at first; 「通院日を追加」 adds one at a time


class DateListField(FieldList):
    """Several days, each as 年・月・日 boxes. A message about the list as a whole
    (none typed, too many) goes in `list_errors`; each row keeps its own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.list_errors: list[str] = []

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        for entry in self.entries:
            if entry.raw_parts and not entry.raw_parts.get("day"):  # added but not used: 年・月 come prefilled
                entry.process_errors = []
                entry.data = None

    def _add_entry(self, *args, **kwargs):
        entry = super()._add_entry(*args, **kwargs)
        entry.label.text = f"{len(self.entries)}日目"
        return entry

    def days(self) -> list:
        return [entry.data for entry in self.entries if entry.data and not entry.process_errors]

    def add_row(self) -> None:
        """One more empty row, its 年 and 月 taken from the last row typed (visits are
        mostly in the same month)."""
        last = next((e for e in reversed(self.entries) if any(e.raw_parts.values()) or e.data), None)
        entry = self.append_entry()
        if last is not None:
            entry.raw_parts = {"year": last.part_value("year"), "month": last.part_value("month"), "day": ""}


class DetailsForm(DraftForm):
    hospital_from = _day("入院日")
    hospital_to = _day("退院日", description="入院中の場合は、本日までの日付でご請求いただけます")
    outpatient_dates = DateListField(_day("通院日"), label="通院した日", min_entries=OUTPATIENT_ROWS,
                                     max_entries=MAX_OUTPATIENT_DATES,
                                     description="1日ずつ入力してください。足りないときは「通院日を追加」を押してください（日が空欄の行は数えません）")
    surgery_date = _day("手術日")
    surgery_name = StringField("手術名", filters=[_nfkc], validators=[Optional(), Length(max=100)],
                               description="領収書・診療明細書に書かれている名前（例：腹腔鏡下胆嚢摘出術）")
    surgery_in_hospital = RadioField("手術のとき", choices=[("yes", "入院中"), ("no", "外来（日帰り）")],
                                     default="yes", validators=[Optional()], validate_choice=False)
    fracture_date = _day("骨折した日")
    advanced_care_date = _day("先進医療を受けた日")
    advanced_care_fee = StringField("先進医療の技術料（円）", filters=[_nfkc], validators=[Optional(), Length(max=20)],
                                    description="病院の領収書の「先進医療」の金額")
    hospital_name = StringField("病院名", filters=[_nfkc],
                                validators=[DataRequired("病院名を入力してください"), Length(max=100)])


class PayeeFields:
    """The other-account fields, named as on the debit-account form."""

    bank_code = StringField("金融機関コード（4桁）", filters=[_nfkc], validators=[Optional(), Length(max=8)],
                            description="例：0001（みずほ銀行）、9900（ゆうちょ銀行）")
    branch_code = StringField("支店コード（3桁）", filters=[_nfkc], validators=[Optional(), Length(max=8)])
    account_type = RadioField("預金種目", choices=ACCOUNT_TYPE_CHOICES, validators=[Optional()], validate_choice=False)
    account_number = StringField("口座番号（7桁以内）", filters=[_nfkc], validators=[Optional(), Length(max=12)])
    kigo = StringField("記号（5桁・ゆうちょ銀行）", filters=[_nfkc], validators=[Optional(), Length(max=8)])
    bangou = StringField("番号（8桁以内・ゆうちょ銀行）", filters=[_nfkc], validators=[Optional(), Length(max=12)])
    holder_name = StringField("口座名義（カナ）", filters=[_nfkc], validators=[Optional(), Length(max=60)],
                              description="組合員ご本人の名義の口座に限ります")


class DocumentsForm(DraftForm, PayeeFields):
    files = MultipleFileField("領収書・診療明細書などの写真またはPDF",
                              description="カメラで撮影した写真、またはPDF。複数選べます（1つ10MBまで）")
    payee = RadioField("お振込先", choices=[("debit", "掛金の振替口座"), ("other", "別の口座（ご本人名義）")],
                       default="debit", validators=[Optional()], validate_choice=False)


class SubmitForm(DraftForm):
    pass


class DamageForm(OneTimeForm):
    contract_no = RadioField("対象のご契約", validators=[DataRequired("対象のご契約を選んでください")],
                             validate_choice=False)
    cause = RadioField("損害の原因", choices=[(c, DAMAGE_CAUSE_LABELS[c]) for c in DAMAGE_CAUSES],
                       validators=[DataRequired("損害の原因を選んでください")], validate_choice=False)
    day = JapaneseDateField("損害が起きた日", validators=[DataRequired("損害が起きた日を入力してください")],
                            invalid_message="損害が起きた日を正しく入力してください（例：2026年9月5日）")
    description = TextAreaField("損害の内容", filters=[_nfkc],
                                validators=[DataRequired("損害の内容を入力してください"), Length(max=2000)],
                                description="どこが、どのように壊れたか（例：台風で屋根瓦が飛び、2階の天井から雨漏り）")
    files = MultipleFileField("損害の写真", description="壊れた箇所の写真（複数選べます、1つ10MBまで）")


class PhoneDamageForm(DamageForm):
    member_no = StringField("組合員番号", filters=[_nfkc],
                            validators=[DataRequired("組合員番号を入力してください"), Length(max=20)])
    contract_no = StringField("契約番号（住まいる共済）", filters=[_nfkc],
                              validators=[DataRequired("契約番号を入力してください"), Length(max=20)])


class PaperFormsForm(OneTimeForm):
    person_id = RadioField("被共済者", validators=[DataRequired("被共済者を選んでください")], validate_choice=False)
    what = RadioField("ご請求の内容", choices=[("death", "死亡"), ("disability", "重度障害")],
                      validators=[DataRequired("ご請求の内容を選んでください")], validate_choice=False)
    note = TextAreaField("連絡事項（任意）", filters=[_nfkc], validators=[Optional(), Length(max=500)])


class AddFilesForm(FlaskForm):
    files = MultipleFileField("追加の書類（写真またはPDF）")


class VisitAnswerForm(FlaskForm):
    answer = RadioField("ご提案の日時", choices=[("accept", "この日時で了承します"), ("other", "別の日時を希望します")],
                        validators=[DataRequired("どちらかを選んでください")], validate_choice=False)
    note = TextAreaField("ご希望の日時・ご連絡事項", filters=[_nfkc], validators=[Optional(), Length(max=300)])


class ConfirmForm(FlaskForm):
    pass


# ---------------------------------------------------------------- staff

class MessageForm(FlaskForm):
    message = TextAreaField("組合員へのメッセージ（お願いする書類）", filters=[_nfkc],
                            validators=[DataRequired("お願いする書類を入力してください"), Length(max=400)])


class ReasonForm(FlaskForm):
    reason = TextAreaField("お支払いできない理由", filters=[_nfkc],
                           validators=[DataRequired("理由を入力してください"), Length(max=400)])


class VisitForm(FlaskForm):
    starts_at = StringField("調査日時", filters=[_nfkc],
                            validators=[DataRequired("調査日時を入力してください"), Length(max=20)],
                            description="例：2026-12-03 10:00")


class RunForm(FlaskForm):
    transfer_date = StringField("振込日", filters=[_nfkc],
                                validators=[DataRequired("振込日を入力してください"), Length(max=20)],
                                description="銀行の営業日（例：2026-12-04）")
