"""Form fields shared by every feature."""
from __future__ import annotations

from datetime import date

from wtforms import Field, RadioField, StringField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Regexp, StopValidation

from portal.jp.dates import format_wareki, parse_year
from portal.jp.text import normalize

PARTS = ("year", "month", "day")


class JapaneseDateField(Field):
    """A date typed as 年・月・日 in three numeric boxes (templates/_macros.html).

    Not the browser's date widget, whose order and format follow the phone's
    locale (mm/dd/yyyy). Accepts full-width digits and an era year (昭和50, S50);
    a single value ``name=1975-10-10`` (or 1975/10/10, 19751010) is read too, so
    scripts, old links and assistive tools that post one field keep working.
    """

    renders_as = "date_parts"  # the field macro draws the three boxes

    def __init__(self, label=None, validators=None, invalid_message="日付を正しく入力してください", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message
        self.raw_parts: dict[str, str] = {}

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        # A FieldList passes unset_value for a row it adds empty.
        if data is None or data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.data = data
        self.raw_parts = {}
        if formdata is None:
            return
        parts = {p: formdata.get(f"{self.name}-{p}") for p in PARTS}
        whole = formdata.get(self.name)
        if all(v is None for v in parts.values()) and whole is None:
            return
        self.raw_parts = {p: normalize(v or "").strip() for p, v in parts.items()}
        self.data = None
        try:
            if whole is not None and not any(self.raw_parts.values()):
                self.data = _parse_whole(normalize(whole).strip())
                self.raw_parts = {}
            elif any(self.raw_parts.values()):
                self.data = _parse_parts(self.raw_parts)
        except (ValueError, OverflowError):
            self.data = None
            self.process_errors.append(self.invalid_message)

    def pre_validate(self, form) -> None:
        # A typed but impossible date keeps its own message (DataRequired would
        # replace it with "please enter").
        if self.process_errors:
            raise StopValidation()

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def part_value(self, part: str) -> str:
        if self.raw_parts:
            return self.raw_parts.get(part, "")
        if isinstance(self.data, date):
            return str(getattr(self.data, part))
        return ""

    def era_text(self) -> str:
        """The date in 和暦 (昭和50年10月10日), shown under the boxes once known."""
        if isinstance(self.data, date) and not self.process_errors:
            try:
                return format_wareki(self.data)
            except ValueError:
                return ""
        return ""


def _parse_parts(parts: dict[str, str]) -> date:
    year = parse_year(parts["year"])
    month = int(parts["month"].removesuffix("月").strip())
    day = int(parts["day"].removesuffix("日").strip())
    return date(year, month, day)


def _parse_whole(text: str) -> date:
    for sep in ("-", "/", ".", "年"):
        if sep in text:
            pieces = text.replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
            y, m, d = (p.strip() for p in pieces.split("-")[:3])
            return date(parse_year(y), int(m), int(d))
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    raise ValueError(text)


def code_field(description: str) -> StringField:
    """The six-digit code sent by SMS or voice; full-width digits are read as digits."""
    return StringField("認証コード", filters=[lambda v: normalize(v) if isinstance(v, str) else v],
                       validators=[DataRequired("認証コードを入力してください"),
                                   Regexp(r"^[0-9]{6}$", message="認証コードは6桁の数字で入力してください")],
                       description=description)


def code_channel_field(sms: str = "SMS（ショートメッセージ）", voice: str = "音声通話（自動音声）") -> RadioField:
    """How a code is sent: the labels say what kind of phone each channel reaches."""
    return RadioField("認証コードの受け取り方法", default="sms", choices=[("sms", sms), ("voice", voice)],
                      validators=[DataRequired("受け取り方法を選んでください")])
