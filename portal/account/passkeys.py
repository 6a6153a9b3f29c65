"""Passkeys (WebAuthn) with py_webauthn: registration, sign-in, step-up, staff second factor.

Rules: relying-party ID and origin from configuration; user
verification required; challenges random, single-use and at most 5 minutes old;
the sign counter must grow when either side is non-zero; one credential is
registered once. Services flush only; the view commits.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, AuthenticatorTransport,
                                      PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)

from portal import audit
from portal.account.models import Passkey, WebAuthnChallenge
from portal.clock import utcnow
from portal.service_errors import ServiceError
from portal.users import parse_user_id

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_PASSKEYS = 10
NAME_MAX = 40
MSG_FAILED = "パスキーを確認できませんでした。もう一度お試しいただくか、パスワードでログインしてください。"
MSG_EXPIRED = "確認の有効期限が切れました。もう一度お試しください。"


class PasskeyError(ServiceError):
    """A rule said no (a Japanese message, and the field it belongs to)."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origin: str
    secret: str  # for the opaque user handle


@dataclass(frozen=True)
class Ceremony:
    """Options for the browser (JSON text) and the challenge the session must keep."""

    options_json: str
    challenge: str


def _owner_filter(owner) -> Any:
    kind, owner_id = _owner(owner)
    column = Passkey.member_id if kind == "member" else Passkey.staff_id
    return column == owner_id


def _owner(owner) -> tuple[str, int]:
    parsed = parse_user_id(owner.get_id())
    if parsed is None:
        raise PasskeyError("ログインし直してください。")
    return parsed


def _owner_ids(owner) -> dict[str, int | None]:
    kind, owner_id = _owner(owner)
    return {"member_id": owner_id if kind == "member" else None, "staff_id": owner_id if kind == "staff" else None}


def user_handle(rp: RelyingParty, owner_id: str) -> bytes:
    """An opaque, stable id for the authenticator ('member:12' in, no member number or e-mail out)."""
    return hmac.new(rp.secret.encode(), f"webauthn-user:{owner_id}".encode(), hashlib.sha256).digest()[:32]


def passkeys_of(session: Session, owner) -> list[Passkey]:
    return list(session.scalars(select(Passkey).where(_owner_filter(owner)).order_by(Passkey.created_at)))


def _new_challenge(session: Session, purpose: str, owner=None) -> bytes:
    raw = secrets.token_bytes(32)
    now = utcnow()
    # Every /login view asks for one (autofill): old ones go as new ones come (indexed on expires_at).
    session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at < now - timedelta(days=1))
                    .execution_options(synchronize_session=False))
    ids = _owner_ids(owner) if owner is not None else {}
    session.add(WebAuthnChallenge(challenge=bytes_to_base64url(raw), purpose=purpose, created_at=now,
                                  expires_at=now + CHALLENGE_LIFETIME, **ids))
    session.flush()
    return raw


def consume_challenge(session: Session, challenge: str | None, purpose: str, owner=None) -> bytes:
    """Mark the challenge used, once: a second use, an old one or another purpose is refused.

    A conditional UPDATE so two requests racing with the same challenge cannot both win.
    """
    if not challenge:
        raise PasskeyError(MSG_EXPIRED)
    now = utcnow()
    stmt = (update(WebAuthnChallenge)
            .where(WebAuthnChallenge.challenge == challenge, WebAuthnChallenge.purpose == purpose,
                   WebAuthnChallenge.used_at.is_(None), WebAuthnChallenge.expires_at > now)
            .values(used_at=now))
    if owner is not None:
        ids = _owner_ids(owner)
        stmt = stmt.where(WebAuthnChallenge.member_id.is_(None) if ids["member_id"] is None
                          else WebAuthnChallenge.member_id == ids["member_id"])
        stmt = stmt.where(WebAuthnChallenge.staff_id.is_(None) if ids["staff_id"] is None
                          else WebAuthnChallenge.staff_id == ids["staff_id"])
    if session.execute(stmt.execution_options(synchronize_session=False)).rowcount != 1:
        raise PasskeyError(MSG_EXPIRED)
    return base64url_to_bytes(challenge)


def clean_name(raw: str | None, fallback: str) -> str:
    """NFKC, no control characters, at most 40 characters; empty becomes `fallback`."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    if len(text) > NAME_MAX:
        raise PasskeyError(f"名前は{NAME_MAX}文字以内で入力してください。", field="name")
    return text or fallback


def default_name(user_agent: str | None) -> str:
    from portal.account.services import device_label

    label = device_label(user_agent)
    return "パスキー" if label == "不明な端末" else f"{label}のパスキー"[:NAME_MAX]


# --- registration ----------------------------------------------------------------
def registration_options(session: Session, rp: RelyingParty, owner, *, user_name: str,
                         display_name: str) -> Ceremony:
    existing = passkeys_of(session, owner)
    if len(existing) >= MAX_PASSKEYS:
        raise PasskeyError(f"パスキーは{MAX_PASSKEYS}個まで登録できます。使っていないものを削除してください。")
    challenge = _new_challenge(session, "register", owner)
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=user_handle(rp, owner.get_id()), user_name=user_name,
        user_display_name=display_name, challenge=challenge, timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                             for p in existing],
    )
    return Ceremony(options_to_json(options), bytes_to_base64url(challenge))


def _transports(credential: dict) -> str | None:
    raw = (credential.get("response") or {}).get("transports") if isinstance(credential, dict) else None
    if not isinstance(raw, list):
        return None
    known = {t.value for t in AuthenticatorTransport}
    return ",".join(t for t in raw if isinstance(t, str) and t in known)[:100] or None


def _parse(credential_json: str | dict) -> dict:
    try:
        data = json.loads(credential_json) if isinstance(credential_json, str) else credential_json
    except ValueError:
        raise PasskeyError(MSG_FAILED) from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or len(data["id"]) > 1400:
        raise PasskeyError(MSG_FAILED)
    return data


def finish_registration(session: Session, rp: RelyingParty, owner, *, credential_json: str | dict,
                        challenge: str | None, name: str | None, user_agent: str | None = None) -> Passkey:
    label = clean_name(name, default_name(user_agent))
    data = _parse(credential_json)
    expected = consume_challenge(session, challenge, "register", owner)
    try:
        verified = verify_registration_response(
            credential=data, expected_challenge=expected, expected_rp_id=rp.id, expected_origin=rp.origin,
            require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise PasskeyError("パスキーを登録できませんでした。もう一度お試しください。") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise PasskeyError("このパスキーはすでに登録されています。")
    row = Passkey(credential_id=credential_id, public_key=verified.credential_public_key,
                  sign_count=verified.sign_count, name=label, transports=_transports(data),
                  created_at=utcnow(), **_owner_ids(owner))
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the same credential sent twice at once
        raise PasskeyError("このパスキーはすでに登録されています。") from None
    ids = _owner_ids(owner)
    audit.record("passkey.register", target_type="passkey", target_id=row.id,
                 member_id=ids["member_id"], detail={"name": label})
    return row


# --- authentication ----------------------------------------------------------------
def authentication_options(session: Session, rp: RelyingParty, purpose: str, owner=None) -> Ceremony:
    """Sign-in offers any discoverable passkey; step-up and staff sign-in only the owner's."""
    allow = []
    if owner is not None:
        allow = [PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                 for p in passkeys_of(session, owner)]
        if not allow:
            raise PasskeyError("パスキーが登録されていません。")
    challenge = _new_challenge(session, purpose, owner)
    options = generate_authentication_options(
        rp_id=rp.id, challenge=challenge, timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
        allow_credentials=allow, user_verification=UserVerificationRequirement.REQUIRED)
    return Ceremony(options_to_json(options), bytes_to_base64url(challenge))


def finish_authentication(session: Session, rp: RelyingParty, *, credential_json: str | dict,
                          challenge: str | None, purpose: str, owner=None, ip: str | None = None,
                          user_agent: str | None = None) -> Passkey:
    """The passkey that signed this challenge. Refuses an unknown or removed credential,
    another owner's, a used or old challenge, another origin or RP, no user verification,
    and a sign counter that did not grow."""
    data = _parse(credential_json)
    expected = consume_challenge(session, challenge, purpose, owner)
    row = session.scalar(select(Passkey).where(Passkey.credential_id == data["id"]))
    if row is None or (owner is not None and _owner_ids(owner) != {"member_id": row.member_id,
                                                                   "staff_id": row.staff_id}):
        raise PasskeyError(MSG_FAILED)
    try:
        verified = verify_authentication_response(
            credential=data, expected_challenge=expected, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=row.public_key, credential_current_sign_count=row.sign_count,
            require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        if purpose == "login" and row.member_id is not None:
            # A known passkey that failed (replay, clone, another site) belongs in the member's history.
            from portal.auth.history import record_sign_in
            record_sign_in(session, row.member_id, "passkey", success=False, ip=ip, user_agent=user_agent)
        raise PasskeyError(MSG_FAILED) from None
    # WebAuthn §7.2: a user handle, when the authenticator returns one, must be the credential owner's.
    handle = (data.get("response") or {}).get("userHandle")
    owner_id = f"member:{row.member_id}" if row.member_id is not None else f"staff:{row.staff_id}"
    if handle and handle != bytes_to_base64url(user_handle(rp, owner_id)):
        raise PasskeyError(MSG_FAILED)
    # Conditional, so two sign-ins racing with one counter value cannot both pass.
    moved = session.execute(
        update(Passkey).where(Passkey.id == row.id, Passkey.sign_count == row.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise PasskeyError(MSG_FAILED)
    session.refresh(row)
    return row


def remove(session: Session, owner, passkey_id: int) -> Passkey:
    row = session.scalar(select(Passkey).where(Passkey.id == passkey_id, _owner_filter(owner)))
    if row is None:
        raise PasskeyError("このパスキーは見つかりません。すでに削除されています。")
    ids = _owner_ids(owner)
    audit.record("passkey.remove", target_type="passkey", target_id=row.id, member_id=ids["member_id"],
                 detail={"name": row.name})
    session.delete(row)
    session.flush()
    return row


def rename(session: Session, owner, passkey_id: int, name: str | None) -> Passkey:
    row = session.scalar(select(Passkey).where(Passkey.id == passkey_id, _owner_filter(owner)))
    if row is None:
        raise PasskeyError("このパスキーは見つかりません。すでに削除されています。")
    row.name = clean_name(name, row.name)
    session.flush()
    ids = _owner_ids(owner)
    audit.record("passkey.rename", target_type="passkey", target_id=row.id, member_id=ids["member_id"])
    return row


def relying_party(config: dict) -> RelyingParty:
    return RelyingParty(id=config["WEBAUTHN_RP_ID"], name=config["WEBAUTHN_RP_NAME"],
                        origin=config["WEBAUTHN_ORIGIN"], secret=config["SECRET_KEY"])
