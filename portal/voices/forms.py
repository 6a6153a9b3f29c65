"""Forms check shape only; the rules (limits, contacts, workflow) live in services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DateField, DateTimeLocalField, HiddenField, RadioField, SelectField, StringField, TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.voices.models import (
    CHANNEL_LABELS, KIND_LABELS, PROGRESS_LABELS, STATUS_LABELS, TOPIC_LABELS, VOICE_CHANNELS, VOICE_KINDS,
    VOICE_STATUSES, VOICE_TOPICS,
)
from portal.voices.services import MAX_BODY_CHARS

KIND_CHOICES = [(k, KIND_LABELS[k]) for k in VOICE_KINDS]
TOPIC_CHOICES = [(t, TOPIC_LABELS[t]) for t in VOICE_TOPICS]
CHANNEL_CHOICES = [(c, CHANNEL_LABELS[c]) for c in VOICE_CHANNELS]
STATUS_CHOICES = [(s, STATUS_LABELS[s]) for s in VOICE_STATUSES]
# A generous cap before normalisation (browsers send line breaks as CRLF); the
# service checks the real 4,000-character limit after normalising.
RAW_BODY_CAP = MAX_BODY_CHARS * 2


class VoiceForm(FlaskForm):
    kind = RadioField("ご意見の種類", choices=KIND_CHOICES, validators=[InputRequired("種類を選んでください。")])
    topic = SelectField("内容の分類", choices=[("", "選んでください")] + TOPIC_CHOICES,
                        validators=[DataRequired("内容の分類を選んでください。")])
    body = TextAreaField("内容", validators=[DataRequired("内容を入力してください。"), Length(max=RAW_BODY_CAP)],
                         description=f"{MAX_BODY_CHARS:,}文字以内でご記入ください。",
                         render_kw={"rows": 10, "data-voice-counter": "body-count",
                                    "data-max-chars": str(MAX_BODY_CHARS)})
    wants_reply = BooleanField("回答を希望する（苦情には必ず回答いたします）")
    contract = SelectField("関連するご契約（任意）", choices=[("", "選択しない")], validate_choice=False)
    contact_name = StringField("お名前", validators=[Optional(), Length(max=60)])
    contact_email = StringField("メールアドレス", validators=[Optional(), Length(max=254)],
                                description="メールアドレスか電話番号のどちらかをご記入ください。")
    contact_phone = StringField("電話番号", validators=[Optional(), Length(max=20)],
                                description="携帯電話番号にはSMS、固定電話には音声でご連絡します。")
    submit_token = HiddenField()


class InboxFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    kind = SelectField("種類", choices=[("", "すべて")] + KIND_CHOICES, validators=[Optional()])
    topic = SelectField("分類", choices=[("", "すべて")] + TOPIC_CHOICES, validators=[Optional()])
    status = SelectField("状況", choices=[("", "すべて")] + STATUS_CHOICES, validators=[Optional()])
    channel = SelectField("受付経路", choices=[("", "すべて")] + CHANNEL_CHOICES, validators=[Optional()])
    date_from = DateField("受付日（から）", validators=[Optional()])
    date_to = DateField("受付日（まで）", validators=[Optional()])
    overdue = BooleanField("回答期限を過ぎた苦情のみ")


class RegisterVoiceForm(FlaskForm):
    channel = SelectField("受付経路", choices=[("", "選んでください")] + CHANNEL_CHOICES,
                          validators=[DataRequired("受付経路を選んでください。")])
    received_at = DateTimeLocalField("受付日時", format="%Y-%m-%dT%H:%M",
                                     validators=[InputRequired("受付日時を入力してください。")])
    kind = RadioField("種類", choices=KIND_CHOICES, validators=[InputRequired("種類を選んでください。")])
    topic = SelectField("分類", choices=[("", "選んでください")] + TOPIC_CHOICES,
                        validators=[DataRequired("分類を選んでください。")])
    body = TextAreaField("内容", validators=[DataRequired("内容を入力してください。"), Length(max=RAW_BODY_CAP)],
                         render_kw={"rows": 8, "data-voice-counter": "register-body-count",
                                    "data-max-chars": str(MAX_BODY_CHARS)})
    wants_reply = BooleanField("回答を希望している（苦情は常に回答します）")
    member_no = StringField("組合員番号（わかる場合）", validators=[Optional(), Length(max=20)])
    contact_name = StringField("お名前", validators=[Optional(), Length(max=60)])
    contact_email = StringField("メールアドレス", validators=[Optional(), Length(max=254)])
    contact_phone = StringField("電話番号", validators=[Optional(), Length(max=20)])


class StatusForm(FlaskForm):
    status = SelectField("状況", choices=STATUS_CHOICES, validators=[DataRequired()])
    version = HiddenField()


class AssignForm(FlaskForm):
    assignee = SelectField("担当者", choices=[("", "未割り当て")], validate_choice=False)
    version = HiddenField()


class NoteForm(FlaskForm):
    note = TextAreaField("社内メモ（お客さまには表示されません）",
                         validators=[DataRequired("メモを入力してください。"), Length(max=4000)])


class ReplyForm(FlaskForm):
    reply = TextAreaField("回答", validators=[DataRequired("回答を入力してください。"), Length(max=RAW_BODY_CAP)],
                          description="組合員の方にはご希望の連絡方法で送り、マイページにも表示します。",
                          render_kw={"rows": 6, "data-voice-counter": "reply-count",
                                     "data-max-chars": str(MAX_BODY_CHARS)})
    version = HiddenField()


class LinkItemForm(FlaskForm):
    item = SelectField("改善課題", choices=[("", "関連付けない")], validate_choice=False)


class ItemForm(FlaskForm):
    title = StringField("課題名", validators=[DataRequired("課題名を入力してください。"), Length(max=120)])
    description = TextAreaField("内容", validators=[Optional(), Length(max=4000)])
    owner = SelectField("責任者", choices=[("", "未定")], validate_choice=False)
    due_on = DateField("期限", validators=[Optional()])
    progress = SelectField("進捗", choices=list(PROGRESS_LABELS.items()), validators=[DataRequired()])
    progress_note = TextAreaField("進捗メモ", validators=[Optional(), Length(max=4000)])
