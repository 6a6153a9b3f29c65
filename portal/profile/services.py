"""Member details: address, phone, email, debit account and notice preferences.

Every change is one transaction: the member row (guarded by its version column),
a ProcedureRequest the member sees on /requests (idempotent on the form's
one-time token), the notice, and an audit row with before/after (masked).
Services only flush; the view or CLI command commits.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from portal import audit
from portal.auth import codes
from portal.auth.passwords import verify_password
from portal.clock import today
from portal.contracts.models import STRUCTURE_LABELS, STRUCTURES, Contract, Product
from portal.contracts.rerating import start_rerating
from portal.gateways import GatewayError, mail_gateway
from portal.jp import bank as jpbank
from portal.jp.dates import add_business_days, add_months, first_debit_date, format_date_jp
from portal.jp.errors import JpValueError
from portal.jp.masking import mask_digits
from portal.jp.phone import Phone, parse_phone
from portal.jp.postal import PostalAddress, format_postal, lookup
from portal.jp.text import normalize
from portal.members.models import ACCOUNT_TYPES, DebitAccount, Member
from portal.messaging import preferences
from portal.messaging.services import queue_message, queue_notice
from portal.procedures import services as procedures
from portal.procedures.models import ProcedureRequest
from portal.service_errors import ServiceError
from portal.messaging.models import CHANNEL_LABELS, TOPIC_LABELS, TOPICS

EMAIL_LINK_MAX_AGE = 24 * 60 * 60
EMAIL_TOKEN_SALT = "profile.email-change"
MSG_CHANGED_ELSEWHERE = ("ほかの画面で内容が変更されました。最新の登録内容をご確認のうえ、"
                         "もう一度入力してください。（入力内容は保存されていません）")


class ProfileError(ServiceError):
    """A change that cannot be made. `errors` maps form fields to Japanese messages
    (several at once for the notice settings)."""

    def __init__(self, message: str, *, field_name: str | None = None,
                 errors: dict[str, str] | None = None) -> None:
        super().__init__(message, field_name)
        self._errors = dict(errors or ({field_name: message} if field_name else {}))

    @property
    def errors(self) -> dict[str, str]:
        return self._errors


class ConcurrentEditError(ProfileError):
    def __init__(self) -> None:
        super().__init__(MSG_CHANGED_ELSEWHERE)


def _existing(session: Session, member: Member, key: str | None) -> ProcedureRequest | None:
    """The request a repeated form token already created (a double submit)."""
    found = procedures.find_by_key(session, key)
    if found is not None and found.member_id != member.id:
        raise ProfileError("この申込はすでに処理されています。")
    return found


def replayed_request(session: Session, member: Member, key: str | None) -> ProcedureRequest | None:
    """After a conflict: the request a duplicate of this very form (same token) stored meanwhile.

    A double click sent to two workers makes two requests that both pass the check for
    the token; the second then finds the member changed. It is the same submission, so it
    gets the first one's result page rather than a conflict."""
    found = procedures.find_by_key(session, key)
    return found if found is not None and found.member_id == member.id else None


def _flush_guarded(session: Session) -> None:
    """Flush; a row changed by another request since we read it is a refusal, not an overwrite."""
    try:
        session.flush()
    except StaleDataError:
        raise ConcurrentEditError() from None


def _check_version(member: Member, expected_version: int | None) -> None:
    if expected_version is None or member.version != expected_version:
        raise ConcurrentEditError()


# ===================================================================== address

@dataclass(frozen=True)
class AddressInput:
    postal_code: str
    prefecture: str = ""
    city: str = ""
    street: str = ""
    building: str | None = None

    @property
    def full(self) -> str:
        return f"{self.prefecture}{self.city}{self.street}{(' ' + self.building) if self.building else ''}"

    @property
    def formatted_postal(self) -> str:
        return format_postal(self.postal_code)


@dataclass
class AddressChangeResult:
    request: ProcedureRequest
    moved_contracts: list[str] = field(default_factory=list)
    replayed: bool = False
    move: PropertyMove | None = None  # a move of the insured property still to come on its date


@dataclass(frozen=True)
class PropertyMove:
    """When the insured building and goods move, and the structure of the building they move to."""
    moved_on: date
    structure: str
    address: str | None = None  # with the postal code, once the move is stored
    postal_code: str | None = None
    structure_label = property(lambda self: STRUCTURE_LABELS[self.structure])


MOVE_MONTHS_BACK = 3
MOVE_MONTHS_AHEAD = 3


def move_window(on: date) -> tuple[date, date]:
    """The moving dates a member can give online: a move up to three months ago or three months ahead."""
    return add_months(on, -MOVE_MONTHS_BACK), add_months(on, MOVE_MONTHS_AHEAD)


def check_property_move(moved_on: date | None, structure: str | None) -> PropertyMove:
    """Both answers at once, each message next to its field."""
    errors: dict[str, str] = {}
    earliest, latest = move_window(today())
    if not isinstance(moved_on, date):
        errors["moved_on"] = "転居日（建物・家財が新しいご住所に移る日）を入力してください"
    elif not earliest <= moved_on <= latest:
        errors["moved_on"] = (f"転居日は{format_date_jp(earliest)}から{format_date_jp(latest)}までの日付で入力してください。"
                              "それ以外の場合はサービスセンターにご連絡ください")
    if structure not in STRUCTURES:
        errors["structure"] = "新しい建物の構造を選んでください"
    if errors:
        raise ProfileError(next(iter(errors.values())), errors=errors)
    assert isinstance(moved_on, date) and structure is not None
    return PropertyMove(moved_on, structure)


def lookup_home_postal(code: str | None) -> PostalAddress:
    """A postal code for a home address; business and PO-box codes are refused."""
    try:
        found = lookup(code)
    except JpValueError as error:
        raise ProfileError(error.message, field_name="postal_code") from None
    if found.is_business:
        raise ProfileError("事業所・私書箱の郵便番号はご自宅の住所には使えません。ご自宅の郵便番号を入力してください",
                           field_name="postal_code")
    return found


def postal_suggestion(code: str) -> dict[str, Any]:
    """What /profile/postal/<code>.json answers (progressive fill in the browser)."""
    found = lookup_home_postal(code)
    return {
        "postal_code": found.postal_code, "formatted": found.formatted_code,
        "prefecture": found.prefecture, "city": found.city, "town": found.town,
        "towns": [found.town] + [alt.town for alt in found.alternatives if alt.town],
    }


def _compact(text: str | None) -> str:
    return re.sub(r"\s+", "", normalize(text))


def normalize_address(raw: AddressInput) -> AddressInput:
    """NFKC every part, fill prefecture and city from Japan Post's data, check they match.

    Raises ProfileError with every field's message at once.
    """
    errors: dict[str, str] = {}
    try:
        found = lookup_home_postal(raw.postal_code)
    except ProfileError as error:
        found = None
        errors.update(error.errors)
    prefecture = normalize(raw.prefecture)
    city = normalize(raw.city)
    street = normalize(raw.street)
    building = normalize(raw.building) or None
    if found is not None:
        prefecture = prefecture or found.prefecture
        city = city or found.city
        if _compact(prefecture) != found.prefecture:
            errors["prefecture"] = f"郵便番号{found.formatted_code}は{found.prefecture}の番号です。都道府県をお確かめください"
        elif _compact(city) != _compact(found.city):
            errors["city"] = f"郵便番号{found.formatted_code}は{found.city}の番号です。市区町村をお確かめください"
        prefecture, city = found.prefecture, found.city
    if not street:
        errors["street"] = "町名・番地を入力してください"
    elif len(street) > 120:
        errors["street"] = "町名・番地は120文字以内で入力してください"
    elif not re.search(r"[0-9０-９一二三四五六七八九十]", street):
        errors["street"] = "番地（例：1-2-3）まで入力してください"
    if building and len(building) > 120:
        errors["building"] = "建物名・部屋番号は120文字以内で入力してください"
    if errors:
        raise ProfileError(next(iter(errors.values())), errors=errors)
    assert found is not None
    return AddressInput(found.postal_code, prefecture, city, street, building)


def property_contracts_at_home(session: Session, member: Member) -> list[Contract]:
    """住まいる共済 contracts in force whose insured property is the member's home address."""
    home = _compact(member.address)
    rows = session.scalars(
        select(Contract).join(Product, Contract.product_id == Product.id)
        .where(Contract.member_id == member.id, Product.kind == "sumairu",
               Contract.status.in_(("in_force", "pending")))
        .order_by(Contract.id)
    )
    return [c for c in rows if c.property_address and _compact(c.property_address) == home]


def active_contract_count(session: Session, member: Member) -> int:
    return len(list(session.scalars(
        select(Contract.id).where(Contract.member_id == member.id, Contract.status.in_(("in_force", "pending")))
    )))


def address_effective_date(received: date) -> date:
    """Mail is addressed the business day before it is sent: the new address is on
    everything sent from the next business day."""
    return add_business_days(received, 1)


def change_address(session: Session, member: Member, address: AddressInput, *, expected_version: int | None,
                   move_property: bool | None, idempotency_key: str | None, staff_id: int | None = None,
                   property_move: PropertyMove | None = None) -> AddressChangeResult:
    """Move the member (every contract at once) and, if asked, the insured property too.

    The property moves on its moving date: at once when that day has come, otherwise
    the move waits in the request and `apply_due_property_moves` makes it on the day.
    """
    existing = _existing(session, member, idempotency_key)
    if existing is not None:
        return AddressChangeResult(existing, procedures.detail_of(existing).get("moved_contracts", []), True)
    _check_version(member, expected_version)
    properties = property_contracts_at_home(session, member)
    if properties and move_property is None:
        raise ProfileError("住まいる共済の対象の建物・家財も移るかどうかを選んでください", field_name="property_moved")
    if properties and move_property and property_move is None:
        raise ProfileError("転居日（建物・家財が新しいご住所に移る日）を入力してください", field_name="moved_on")
    before = {"postal_code": member.postal_code, "address": member.address}
    if _compact(before["address"]) == _compact(address.full) and member.postal_code == address.postal_code:
        raise ProfileError("現在のご住所と同じです。新しいご住所を入力してください", field_name="street")
    member.postal_code = address.postal_code
    member.prefecture, member.city = address.prefecture, address.city
    member.street, member.building = address.street, address.building
    _flush_guarded(session)
    moving = [c.contract_no for c in properties] if move_property else []
    move = property_move if moving else None
    due = move is not None and move.moved_on <= today()
    effective = address_effective_date(today())
    summary = f"新しいご住所：〒{address.formatted_postal} {member.address}"
    if move is not None:
        summary += (f"（住まいる共済の対象物件は{format_date_jp(move.moved_on)}の転居日に新しい所在地・"
                    f"構造（{move.structure_label}）に変わり、掛金を再計算します）")
    detail: dict[str, Any] = {"moved_contracts": [], "property_question": bool(properties)}
    if move is not None:
        detail.update(move_pending=True, property_move={
            "moved_on": move.moved_on.isoformat(), "structure": move.structure, "contracts": moving,
            "postal_code": address.postal_code, "address": member.address})
    request = procedures.start(
        session, member, "address_change", summary, status="completed", effective_date=effective,
        detail=detail, idempotency_key=idempotency_key, staff_id=staff_id, notify=False,
    )
    moved = _apply_property_move(session, request) if due else []
    text = (f"{member.name}様 住所変更を承りました（受付番号 {request.receipt_no}）。"
            f"{format_date_jp(effective)}以降に発送する郵送物から新しいご住所でお届けします。")
    if move is not None:
        text += property_move_sentence(move, done=due)
    queue_notice(session, member, "【完了】住所変更", text)
    audit.record("profile.address_change", target_type="member", target_id=member.id,
                 detail={"receipt_no": request.receipt_no,
                         "before": before,
                         "after": {"postal_code": member.postal_code, "address": member.address},
                         "property_moved": moved,
                         "property_move": detail.get("property_move")})
    return AddressChangeResult(request, moved, move=move if move is not None and not due else None)


def address_change_message(result: AddressChangeResult) -> str:
    """What the member reads once the change is saved."""
    message = (f"住所を変更しました。{format_date_jp(result.request.effective_date)}以降に発送する郵送物から"
               "新しいご住所でお届けします。")
    if result.moved_contracts:
        message += property_move_sentence(None, done=True)
    elif result.move is not None:
        message += property_move_sentence(result.move, done=False)
    return message


def property_move_sentence(move: PropertyMove | None, *, done: bool) -> str:
    """The one wording of a 住まいる共済 property move, for the page and the notice alike."""
    what = ("住まいる共済の対象物件の所在地と建物の構造も変更しました。" if done or move is None else
            f"住まいる共済の対象物件の所在地と建物の構造は、転居日の{format_date_jp(move.moved_on)}に変わります。")
    return what + "掛金は担当者が転居日から再計算し、変わる場合はご連絡します。"


def _apply_property_move(session: Session, request: ProcedureRequest) -> list[str]:
    """Move the insured property of an address change to its new address and structure, and
    queue the re-rating from the moving date. Returns the contract numbers moved."""
    detail = procedures.detail_of(request)
    move = detail["property_move"]
    moved_on = date.fromisoformat(move["moved_on"])
    contracts = session.scalars(select(Contract).where(
        Contract.member_id == request.member_id, Contract.contract_no.in_(move["contracts"]),
        Contract.status.in_(("in_force", "pending"))).order_by(Contract.id))
    moved: list[str] = []
    for contract in contracts:
        start_rerating(session, contract, moved_on)  # records the structure the premium was rated with
        contract.property_postal_code = move["postal_code"]
        contract.property_address = move["address"]
        contract.property_structure = move["structure"]
        contract.needs_rerating = True
        moved.append(contract.contract_no)
    detail.update(move_pending=False, moved_contracts=moved)
    request.detail = json.dumps(detail, ensure_ascii=False)
    session.flush()
    return moved


# The pending flag as procedures.start writes it into the detail JSON.
_MOVE_PENDING = '%"move_pending": true%'


def apply_due_property_moves(session: Session, on: date) -> list[ProcedureRequest]:
    """The scheduled job: every property move whose moving date has come (a day missed is caught up)."""
    waiting = session.scalars(select(ProcedureRequest).where(
        ProcedureRequest.kind == "address_change", ProcedureRequest.detail.like(_MOVE_PENDING))
        .order_by(ProcedureRequest.id))
    done: list[ProcedureRequest] = []
    for request in waiting:
        detail = procedures.detail_of(request)
        move = detail.get("property_move") or {}
        if not detail.get("move_pending") or date.fromisoformat(move["moved_on"]) > on:
            continue
        moved = _apply_property_move(session, request)
        note = (f"転居日（{format_date_jp(date.fromisoformat(move['moved_on']))}）になりましたので、"
                f"住まいる共済の対象物件の所在地と建物の構造（{STRUCTURE_LABELS[move['structure']]}）を変更しました。"
                "掛金は担当者が再計算し、変わる場合はご連絡します。") if moved else None
        procedures.change_status(session, request, request.status, note, notify=bool(moved))
        audit.record("profile.property_move_applied", target_type="member", target_id=request.member_id,
                     member_id=request.member_id,
                     detail={"receipt_no": request.receipt_no, "moved_on": move["moved_on"],
                             "structure": move["structure"], "contracts": moved})
        done.append(request)
    return done


def pending_property_move(request: ProcedureRequest) -> PropertyMove | None:
    """The move of an address change still to come (for the pages that show it)."""
    detail = procedures.detail_of(request)
    move = detail.get("property_move")
    if request.kind != "address_change" or not detail.get("move_pending") or not move:
        return None
    return PropertyMove(date.fromisoformat(move["moved_on"]), move["structure"], move["address"],
                        format_postal(move["postal_code"]))


def pending_move_of(session: Session, contract: Contract) -> PropertyMove | None:
    """The move still to come for this contract's insured property (the contract page shows it)."""
    waiting = session.scalars(select(ProcedureRequest).where(
        ProcedureRequest.member_id == contract.member_id, ProcedureRequest.kind == "address_change",
        ProcedureRequest.detail.like(_MOVE_PENDING)).order_by(ProcedureRequest.id.desc()))
    for request in waiting:
        if contract.contract_no in (procedures.detail_of(request).get("property_move") or {}).get("contracts", []):
            return pending_property_move(request)
    return None


# ===================================================================== step-up

def check_password_again(member: Member, password: str | None) -> bool:
    """The password re-entered before a sensitive change; a success is audited."""
    if not verify_password(member.password_hash, password or ""):
        return False
    audit.record("member.reauthenticated", target_type="member", target_id=member.id)
    return True


# ===================================================================== phone

def prepare_phone_change(member: Member, raw_phone: str | None, channel: str) -> Phone:
    """Check the new number before a code is sent to it."""
    try:
        phone = parse_phone(raw_phone)
    except JpValueError as error:
        raise ProfileError(error.message, field_name="phone") from None
    if phone.national == member.phone:
        raise ProfileError("現在ご登録の電話番号と同じです", field_name="phone")
    if channel == "sms" and not phone.can_receive_sms:
        raise ProfileError("この番号ではSMSを受け取れません。固定電話の場合は「音声通話」を選んでください",
                           field_name="phone")
    if channel == "voice" and not phone.can_receive_voice:
        raise ProfileError("この番号には音声通話で認証コードをお届けできません", field_name="phone")
    if channel not in ("sms", "voice"):
        raise ProfileError("受け取り方法を選んでください", field_name="channel")
    return phone


class AttemptCounted(ProfileError):
    """A refused code request or code whose attempt still counts (throttles, wrong codes):
    the caller commits what the attempt wrote instead of rolling it back."""


class PhoneChallengeMismatch(ProfileError):
    """The code was right but for another number or member than this change (a forged state)."""

    def __init__(self) -> None:
        super().__init__("認証コードの確認に失敗しました。もう一度お試しください。")


@dataclass(frozen=True)
class PhoneChallenge:
    challenge_id: int
    phone: str  # national digits of the new number


def send_phone_change_code(session: Session, member: Member, raw_phone: str | None, channel: str, *,
                           ip: str | None) -> PhoneChallenge:
    """Check the new number and send a code to it; the change waits for that code."""
    phone = prepare_phone_change(member, raw_phone, channel)
    sent = codes.just_sent(session, purpose="phone_change", phone=phone.national, channel=channel,
                           member_id=member.id)
    if sent is not None:
        return PhoneChallenge(sent.id, phone.national)
    try:
        challenge = codes.send_code(session, purpose="phone_change", phone=phone.national, channel=channel,
                                    member_id=member.id, ip=ip)
    except codes.CodeError as error:
        raise AttemptCounted(error.message, field_name="phone") from None
    return PhoneChallenge(challenge.id, phone.national)


def confirm_phone_change(session: Session, member: Member, challenge: PhoneChallenge, code: str | None, *,
                         idempotency_key: str | None) -> ProcedureRequest:
    """The code sent to the new number was entered: make the change."""
    try:
        verified = codes.verify_code(session, challenge.challenge_id, code or "", purpose="phone_change")
    except codes.CodeError as error:
        raise AttemptCounted(error.message, field_name="code") from None
    if verified.phone != challenge.phone or verified.member_id != member.id:
        raise PhoneChallengeMismatch()
    return change_phone(session, member, parse_phone(challenge.phone), idempotency_key=idempotency_key)


def change_phone(session: Session, member: Member, new_phone: Phone, *, idempotency_key: str | None,
                 staff_id: int | None = None) -> ProcedureRequest:
    """Replace the phone once the code sent to it was entered; tell the OLD number."""
    existing = _existing(session, member, idempotency_key)
    if existing is not None:
        return existing
    old = parse_phone(member.phone)
    # Queued before the change so it goes to the number being replaced.
    queue_message(
        session, member_id=member.id, channel="sms" if old.can_receive_sms else "voice",
        recipient=old.e164, subject="【重要】電話番号の変更",
        body=(f"{member.name}様 マイページでご登録の電話番号が変更されました（新しい番号 {new_phone.masked}）。"
              "お心当たりがない場合は、すぐにサービスセンターへご連絡ください。"),
    )
    member.phone = new_phone.national
    _flush_guarded(session)
    request = procedures.start(
        session, member, "phone_change", f"新しい電話番号：{new_phone.masked}", status="completed",
        effective_date=today(), idempotency_key=idempotency_key, staff_id=staff_id, notify=False,
    )
    audit.record("profile.phone_change", target_type="member", target_id=member.id,
                 detail={"receipt_no": request.receipt_no,
                         "before": {"phone": old.masked}, "after": {"phone": new_phone.masked}})
    return request


# ===================================================================== email

def mask_email(email: str | None) -> str:
    if not email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _email_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=EMAIL_TOKEN_SALT)


def normalize_new_email(member: Member, raw: str | None) -> str:
    text = normalize(raw)
    if not text:
        raise ProfileError("メールアドレスを入力してください", field_name="email")
    try:
        email = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ProfileError("メールアドレスの形式が正しくありません（例：taro@example.jp）", field_name="email") from None
    if len(email) > 254:
        raise ProfileError("メールアドレスが長すぎます", field_name="email")
    if member.email and email.lower() == member.email.lower():
        raise ProfileError("現在ご登録のメールアドレスと同じです", field_name="email")
    return email


def make_email_token(secret_key: str, member: Member, new_email: str) -> str:
    """Signed; carries the current email and version, so it works once (any later change voids it)."""
    return _email_serializer(secret_key).dumps(
        {"m": member.id, "e": new_email, "o": member.email or "", "v": member.version})


def send_email_confirmation(member: Member, raw_email: str | None, *, secret_key: str,
                            link_for: Callable[[str], str]) -> str:
    """Mail a confirmation link to the new address (at once, like a one-time code)."""
    email = normalize_new_email(member, raw_email)
    link = link_for(make_email_token(secret_key, member, email))
    body = (f"{member.name}様\n\nマイページでメールアドレスの変更を受け付けました。\n"
            f"24時間以内に次のリンクを開き、変更を確定してください。\n\n{link}\n\n"
            "お心当たりがない場合は、このメールを破棄してください。登録内容は変わりません。\n"
            "みらい共済生活協同組合")
    try:
        mail_gateway().send_mail(email, "【マイページ】メールアドレス変更の確認", body)
    except GatewayError as error:
        raise ProfileError(error.message, field_name="email") from None
    audit.record("profile.email_change_requested", target_type="member", target_id=member.id,
                 detail={"to": mask_email(email)}, member_id=member.id)
    return email


@dataclass(frozen=True)
class EmailChangeClaim:
    member: Member
    new_email: str


def read_email_token(session: Session, secret_key: str, token: str,
                     max_age: int = EMAIL_LINK_MAX_AGE) -> EmailChangeClaim:
    try:
        data = _email_serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ProfileError("確認リンクの有効期限（24時間）が切れています。お手数ですが、もう一度変更をお申し込みください。") from None
    except BadSignature:
        raise ProfileError("確認リンクが正しくありません。メールのリンクをそのまま開いてください。") from None
    member = session.get(Member, data.get("m")) if isinstance(data, dict) else None
    if member is None or (member.email or "") != data.get("o") or member.version != data.get("v"):
        raise ProfileError("この確認リンクはすでに使われたか、無効になっています。必要な場合はもう一度お申し込みください。")
    return EmailChangeClaim(member, data["e"])


def confirm_email_change(session: Session, secret_key: str, token: str) -> ProcedureRequest:
    claim = read_email_token(session, secret_key, token)
    member, old = claim.member, claim.member.email
    if old:  # a notice to the address being replaced
        queue_message(
            session, member_id=member.id, channel="mail", recipient=old, subject="【重要】メールアドレスの変更",
            body=(f"{member.name}様 マイページでご登録のメールアドレスが {mask_email(claim.new_email)} に変更されました。"
                  "お心当たりがない場合は、すぐにサービスセンターへご連絡ください。"),
        )
    member.email = claim.new_email
    _flush_guarded(session)
    request = procedures.start(
        session, member, "email_change", f"新しいメールアドレス：{mask_email(claim.new_email)}",
        status="completed", effective_date=today(), notify=False,
        idempotency_key="email:" + hashlib.sha256(token.encode()).hexdigest()[:50],
    )
    audit.record("profile.email_change", target_type="member", target_id=member.id, member_id=member.id,
                 detail={"receipt_no": request.receipt_no,
                         "before": {"email": mask_email(old)}, "after": {"email": mask_email(claim.new_email)}})
    return request


# ===================================================================== debit account

@dataclass(frozen=True)
class BankAccountInput:
    bank_code: str | None = None
    branch_code: str | None = None
    account_type: str | None = None
    account_number: str | None = None
    holder_name: str | None = None
    kigo: str | None = None
    bangou: str | None = None


@dataclass(frozen=True)
class ValidAccount:
    bank: jpbank.Bank
    branch: jpbank.Branch
    account_type: int
    account_number: str
    holder_name: str

    @property
    def bank_label(self) -> str:
        return bank_display_name(self.bank)

    @property
    def branch_label(self) -> str:
        return branch_display_name(self.branch)

    @property
    def account_type_label(self) -> str:
        return ACCOUNT_TYPES[self.account_type]

    @property
    def masked_number(self) -> str:
        return mask_digits(self.account_number)

    @property
    def masked(self) -> str:
        return f"{self.bank_label} {self.branch_label} {self.account_type_label} {self.masked_number}"


def bank_display_name(bank: jpbank.Bank) -> str:
    """zengin-code leaves 銀行 off bank names ('みずほ'); members know them as 'みずほ銀行'."""
    name = normalize(bank.name)
    if (bank.code < "1000" or bank.code == jpbank.YUCHO_BANK_CODE) and not name.endswith("銀行"):
        return name + "銀行"
    return name


def branch_display_name(branch: jpbank.Branch) -> str:
    name = normalize(branch.name)
    if branch.bank_code == jpbank.YUCHO_BANK_CODE:
        return name + "店"
    if name.endswith(("支店", "本店", "営業部", "出張所", "営業所", "支所", "本所")):
        return name
    return name + "支店"


def validate_bank_account(raw: BankAccountInput) -> ValidAccount:
    """Zengin validation of every field at once (ゆうちょ as 記号・番号)."""
    errors: dict[str, str] = {}
    bank = branch = None
    account_type: int | None = None
    number = ""
    try:
        bank = jpbank.find_bank(raw.bank_code)
    except JpValueError as error:
        errors["bank_code"] = error.message
    if bank is not None and bank.code == jpbank.YUCHO_BANK_CODE:
        try:
            yucho = jpbank.yucho_to_branch_account(raw.kigo, raw.bangou)
            branch = jpbank.find_branch(bank.code, yucho.branch_code)
            account_type, number = int(yucho.account_type), yucho.account_number
        except JpValueError as error:
            errors["bangou" if "番号" in error.message and "記号" not in error.message else "kigo"] = error.message
    elif bank is not None:
        try:
            branch = jpbank.find_branch(bank.code, raw.branch_code)
        except JpValueError as error:
            errors["branch_code"] = error.message
        try:
            account_type = int(jpbank.parse_account_type(raw.account_type))
        except JpValueError as error:
            errors["account_type"] = error.message
        try:
            number = jpbank.normalize_account_number(raw.account_number)
        except JpValueError as error:
            errors["account_number"] = error.message
    try:
        holder = jpbank.normalize_holder_name(raw.holder_name)
    except JpValueError as error:
        errors["holder_name"] = error.message
    if errors:
        raise ProfileError(next(iter(errors.values())), errors=errors)
    assert bank is not None and branch is not None and account_type is not None
    return ValidAccount(bank, branch, account_type, number, holder)


def current_debit_account(session: Session, member: Member) -> DebitAccount | None:
    return session.scalar(select(DebitAccount).where(DebitAccount.member_id == member.id,
                                                     DebitAccount.is_current.is_(True))
                          .order_by(DebitAccount.id.desc()).limit(1))


@dataclass(frozen=True)
class BankChangeCheck:
    """What the confirmation page shows, and the stored account row if the member had it before."""
    account: ValidAccount
    first_debit: date
    known_row: DebitAccount | None


def check_bank_change(session: Session, member: Member, raw: BankAccountInput) -> BankChangeCheck:
    """Every rule of a debit-account change, without changing anything (the confirmation page)."""
    account = validate_bank_account(raw)
    row = session.scalar(select(DebitAccount).where(
        DebitAccount.member_id == member.id, DebitAccount.bank_code == account.bank.code,
        DebitAccount.branch_code == account.branch.code, DebitAccount.account_type == account.account_type,
        DebitAccount.account_number == account.account_number))
    if row is not None and row.is_current:
        raise ProfileError("現在の振替口座と同じ口座です", field_name="account_number")
    pending = session.scalar(select(ProcedureRequest).where(
        ProcedureRequest.member_id == member.id, ProcedureRequest.kind == "bank_account_change",
        ProcedureRequest.status.in_(("received", "reviewing"))).limit(1))
    if pending is not None:
        raise ProfileError(f"振替口座の変更をお手続き中です（受付番号 {pending.receipt_no}）。完了までお待ちください。")
    return BankChangeCheck(account, first_debit_date(today()), row)


def request_bank_change(session: Session, member: Member, raw: BankAccountInput, *,
                        idempotency_key: str | None, staff_id: int | None = None) -> ProcedureRequest:
    """A new debit account, not used until staff (or the CLI) complete the request."""
    existing = _existing(session, member, idempotency_key)
    if existing is not None:
        return existing
    checked = check_bank_change(session, member, raw)
    account, row = checked.account, checked.known_row
    if row is None:
        row = DebitAccount(member_id=member.id, bank_code=account.bank.code, bank_name=account.bank_label,
                           branch_code=account.branch.code, branch_name=account.branch_label,
                           account_type=account.account_type, account_number=account.account_number,
                           holder_name=account.holder_name, is_current=False)
        session.add(row)
    else:
        row.holder_name = account.holder_name
    session.flush()
    received = today()
    effective = first_debit_date(received)
    current = current_debit_account(session, member)
    request = procedures.start(
        session, member, "bank_account_change",
        f"新しい振替口座：{row.masked}（{format_date_jp(effective)}の口座振替から）",
        effective_date=effective, idempotency_key=idempotency_key, staff_id=staff_id,
        detail={"debit_account_id": row.id, "received_on": received.isoformat()},
    )
    audit.record("profile.bank_account_change_requested", target_type="member", target_id=member.id,
                 detail={"receipt_no": request.receipt_no,
                         "before": {"account": current.masked if current else None},
                         "after": {"account": row.masked},
                         "effective_date": effective.isoformat()})
    return request


def find_bank_request(session: Session, receipt_no: str) -> ProcedureRequest:
    request = session.scalar(select(ProcedureRequest).where(ProcedureRequest.receipt_no == receipt_no))
    if request is None or request.kind != "bank_account_change":
        raise ProfileError(f"振替口座変更の受付番号 {receipt_no} が見つかりません")
    return request


def review_bank_change(session: Session, request: ProcedureRequest) -> ProcedureRequest:
    if request.status != "received":
        raise ProfileError("受付済の申込だけを確認中にできます")
    return procedures.change_status(session, request, "reviewing", "金融機関に口座を確認しています")


def complete_bank_change(session: Session, request: ProcedureRequest) -> ProcedureRequest:
    """Switch every debit contract of the member to the new account and make it current."""
    if request.kind != "bank_account_change":
        raise ProfileError("振替口座変更の申込ではありません")
    if request.status not in ("received", "reviewing"):
        raise ProfileError(f"この申込（{request.receipt_no}）はすでに「{request.status_label}」です")
    account = session.get(DebitAccount, procedures.detail_of(request).get("debit_account_id"))
    if account is None or account.member_id != request.member_id:
        raise ProfileError("申込の口座が見つかりません")
    if request.status == "received":
        procedures.change_status(session, request, "reviewing", notify=False)
    # Debit data already sent to the banks cannot change: a late acceptance moves
    # the first debit from the new account to the next one that can still change.
    earliest = first_debit_date(today())
    if request.effective_date is None or request.effective_date < earliest:
        request.effective_date = earliest
    previous = [a for a in session.scalars(select(DebitAccount).where(
        DebitAccount.member_id == request.member_id, DebitAccount.is_current.is_(True))) if a.id != account.id]
    for old in previous:
        old.is_current = False
    account.is_current = True
    contracts = list(session.scalars(select(Contract).where(
        Contract.member_id == request.member_id, Contract.payment_method == "debit",
        Contract.status.in_(("in_force", "pending")))))
    for contract in contracts:
        contract.debit_account_id = account.id
    session.flush()
    note = (f"{format_date_jp(request.effective_date)}の口座振替から新しい口座（{mask_digits(account.account_number)}）になります"
            if request.effective_date else None)
    procedures.change_status(session, request, "completed", note)
    audit.record("profile.bank_account_change_completed", target_type="member", target_id=request.member_id,
                 member_id=request.member_id,
                 detail={"receipt_no": request.receipt_no,
                         "before": {"accounts": [a.masked for a in previous]},
                         "after": {"account": account.masked},
                         "contracts": [c.contract_no for c in contracts]})
    return request


def return_bank_change(session: Session, request: ProcedureRequest, reason: str) -> ProcedureRequest:
    """Send the request back with a reason the member reads; the current account stays in use."""
    if request.kind != "bank_account_change":
        raise ProfileError("振替口座変更の申込ではありません")
    if request.status not in ("received", "reviewing"):
        raise ProfileError(f"この申込（{request.receipt_no}）はすでに「{request.status_label}」です")
    text = normalize(reason).strip()
    if not text:
        raise ProfileError("差し戻しの理由を入力してください", field_name="reason")
    current = current_debit_account(session, session.get(Member, request.member_id))
    note = f"理由：{text[:300]}"
    if current is not None:
        note += f" 引き続き現在の口座（{mask_digits(current.account_number)}）から振り替えます。"
    procedures.change_status(session, request, "returned", note)
    audit.record("profile.bank_account_change_returned", target_type="member", target_id=request.member_id,
                 member_id=request.member_id, detail={"receipt_no": request.receipt_no, "reason": text[:300]})
    return request


def bank_change_facts(session: Session, request: ProcedureRequest) -> dict[str, Any]:
    """What the office needs to check a bank-account change: the accounts (masked) and the first debit."""
    account = session.get(DebitAccount, procedures.detail_of(request).get("debit_account_id"))
    member = session.get(Member, request.member_id)
    current = current_debit_account(session, member) if member else None
    return {"new_account": account if account and account.member_id == request.member_id else None,
            "current_account": current, "first_debit": request.effective_date}


# ===================================================================== notices

LEGAL_NOTICES = (
    "ご契約内容・更新のお知らせ（共済契約証書を含む）",
    "共済掛金の振替不能・未払いのお知らせ",
    "共済約款・規約の変更、総代会のお知らせ",
)


def save_preferences(session: Session, member: Member, choices: dict[str, str], *,
                     idempotency_key: str | None, staff_id: int | None = None) -> ProcedureRequest:
    existing = _existing(session, member, idempotency_key)
    if existing is not None:
        return existing
    errors = preferences.check_choices(member, choices)
    if errors:
        raise ProfileError(next(iter(errors.values())), errors=errors)
    before = preferences.store_preferences(session, member, choices)
    summary = "、".join(f"{TOPIC_LABELS[t].split('（')[0]}：{CHANNEL_LABELS[choices[t]]}" for t in TOPICS)
    request = procedures.start(session, member, "notification_settings", summary, status="completed",
                               effective_date=today(), idempotency_key=idempotency_key, staff_id=staff_id,
                               notify=False)
    audit.record("profile.notification_settings", target_type="member", target_id=member.id,
                 detail={"receipt_no": request.receipt_no, "before": before, "after": dict(choices)})
    return request


def pending_changes(session: Session, member: Member) -> list[ProcedureRequest]:
    """Requests not finished yet, or finished but not yet in effect (for the /requests banner)."""
    rows = procedures.for_member(session, member.id)
    day = today()
    return [r for r in rows if r.is_open or (r.effective_date is not None and r.effective_date > day
                                             and r.status == "completed") or pending_property_move(r)]

