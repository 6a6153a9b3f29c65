"""One-time codes sent by SMS or by an automated voice call.

- 6 digits from pyotp: each challenge gets a fresh random seed and the code is
  HOTP(key, 0) with key = HMAC(the app's secret key, seed). The database keeps
  the seed only, never the code nor the key, so a seed that reaches a log (an
  SQL error prints its parameters) or a database dump does not give the code.
- Valid 5 minutes, once, for the purpose it was issued for; a resend replaces
  the previous code; 3 wrong entries burn it; 10 failures in 24 hours lock code
  entry for 30 minutes, counted per member (real challenges only) and per
  throttle key.
- Sends are throttled before the gateway is called: 1 per key per 60 s, 5 per
  key per hour, 20 per IP per hour. The counters are the challenge rows
  themselves, so they hold across any number of servers and workers.
- The throttle key is the number together with who asked for the code: the
  identifier typed at signup or reset, or the signed-in member. A stranger who
  knows a member's number and types anything else fills buckets of their own
  (decoys included), so they can neither lock the member out nor use up the
  member's sends; and real and decoy challenges are counted alike, so the
  counting tells nothing about whether the data matched.
- When the gateway fails nothing is stored and the member sees its message.

- A decoy takes as long as a real send: it waits for a duration drawn from the
  real sends this worker timed lately (per channel), so a matching and a
  non-matching signup or reset answer in the same time even with a provider
  that takes 50 ms or more (no enumeration by timing). The code is
  still sent inside the request, so a provider failure is shown at once and
  nothing is stored.

Other features call `send_code` and `verify_code` (the profile's phone change).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import random
import threading
import time
from collections import deque
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.auth.models import CODE_CHANNELS, CODE_PURPOSES, CodeChallenge, CodeFailure
from portal.clock import to_tokyo, utcnow
from portal.gateways import GatewayError, sms_gateway
from portal.jp.errors import JpValueError
from portal.jp.phone import Phone, parse_phone
from portal.jp.text import digits_only
from portal.messaging.services import SMS_PREFIX, VOICE_OPENING
from portal.ops import metrics
from portal.service_errors import ServiceError

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
MAX_WRONG_ENTRIES = 3
LOCK_FAILURES = 10
LOCK_WINDOW = timedelta(hours=24)
LOCK_DURATION = timedelta(minutes=30)
# (how many, per how long) for one phone number; and for one IP address.
PHONE_SEND_LIMITS = ((1, timedelta(seconds=60)), (5, timedelta(hours=1)))
IP_SEND_LIMIT = (20, timedelta(hours=1))

PURPOSE_LABELS = {"signup": "新規登録", "login": "ログイン", "reset": "パスワードの再設定",
                  "phone_change": "電話番号の変更", "reauth": "本人確認"}
CHANNEL_LABELS = {"sms": "SMS", "voice": "音声通話"}

MSG_INVALID = "認証コードが正しくありません。"
MSG_EXPIRED = "認証コードの有効期限が切れました。もう一度送信してください。"
MSG_USED = "この認証コードはすでに使われています。もう一度送信してください。"
MSG_REPLACED = "新しい認証コードを送信したため、このコードは使えません。最後に届いたコードを入力してください。"
MSG_BURNED = "認証コードを3回間違えたため、このコードは使えなくなりました。もう一度送信してください。"


class CodeError(ServiceError):
    """Why a code could not be sent or accepted. `message` is Japanese, safe to show.

    kind: invalid, expired, used, replaced, burned, locked, throttled, channel, gateway.
    `retry_at` (UTC) is set for throttled and locked: the 429 page says when to retry.
    """

    def __init__(self, message: str, *, kind: str = "invalid", retry_at: datetime | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_at = retry_at

    @property
    def retry_after_seconds(self) -> int | None:
        if self.retry_at is None:
            return None
        return max(1, int((self.retry_at - utcnow()).total_seconds() + 0.999))


# --- the code itself -------------------------------------------------------------
def _new_secret() -> str:
    return pyotp.random_base32()


def _hotp(seed: str) -> pyotp.HOTP:
    server_key = str(current_app.config["SECRET_KEY"]).encode()
    key = hmac.new(server_key, b"one-time-code:" + seed.encode(), hashlib.sha256).digest()
    return pyotp.HOTP(base64.b32encode(key).decode(), digits=CODE_DIGITS)


def code_for(seed: str) -> str:
    """The code of the challenge whose stored seed this is."""
    return _hotp(seed).at(0)


def sms_text(code: str, purpose: str) -> str:
    return (f"{SMS_PREFIX}マイページ{PURPOSE_LABELS[purpose]}の認証コード：{code}\n"
            "有効期限は5分です。このコードは他の人に教えないでください。")


def voice_text(code: str, purpose: str) -> str:
    """Read twice, digit by digit with pauses; the aws backend also slows the voice (SSML)."""
    spoken = "、".join(code)
    return (f"{VOICE_OPENING}マイページ{PURPOSE_LABELS[purpose]}の認証コードをお知らせします。"
            f"認証コードは、{spoken}、です。"
            f"もう一度くりかえします。認証コードは、{spoken}、です。")


# --- limits ----------------------------------------------------------------------
def _hhmm(instant: datetime) -> str:
    return f"{to_tokyo(instant):%H:%M}"


def throttle_key(phone: str, subject: str) -> str:
    """The bucket for sends and failures: this number asked for by this subject
    ('id:<typed identifier>' or 'member:<id>'). Hashed: the row stays opaque."""
    return hashlib.sha256(f"{phone}|{subject}".encode()).hexdigest()


def check_send_allowed(session: Session, key: str, ip: str | None, now: datetime | None = None) -> None:
    """Raise CodeError(kind='throttled') when one more send would pass a limit."""
    now = now or utcnow()
    longest = max(window for _, window in PHONE_SEND_LIMITS)
    sent = list(session.scalars(
        select(CodeChallenge.created_at)
        .where(CodeChallenge.throttle_key == key, CodeChallenge.created_at > now - longest)
        .order_by(CodeChallenge.created_at.desc())
    ))
    retry_at: datetime | None = None
    short_wait = False
    for limit, window in PHONE_SEND_LIMITS:
        in_window = [t for t in sent if t > now - window]
        if len(in_window) >= limit:
            candidate = in_window[limit - 1] + window  # when the oldest counted one leaves the window
            if retry_at is None or candidate > retry_at:
                retry_at, short_wait = candidate, window <= timedelta(seconds=60)
    if ip:
        limit, window = IP_SEND_LIMIT
        from_ip = list(session.scalars(
            select(CodeChallenge.created_at)
            .where(CodeChallenge.ip == ip, CodeChallenge.created_at > now - window)
            .order_by(CodeChallenge.created_at.desc())
            .limit(limit)
        ))
        if len(from_ip) >= limit:
            candidate = from_ip[limit - 1] + window
            if retry_at is None or candidate > retry_at:
                retry_at, short_wait = candidate, False
    if retry_at is None:
        return
    if short_wait:
        seconds = max(1, int((retry_at - now).total_seconds() + 0.999))
        message = f"認証コードの再送信は60秒に1回までです。あと{seconds}秒お待ちください。"
    else:
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
        message = (f"認証コードの送信回数が上限に達しました。{_hhmm(retry_at)}以降（約{minutes}分後）に"
                   "もう一度お試しください。")
    log.info("code send throttled (key %s…)", key[:8])
    raise CodeError(message, kind="throttled", retry_at=retry_at)


def locked_until(session: Session, member_id: int | None, key: str, now: datetime | None = None) -> datetime | None:
    """When code entry unlocks for this member or throttle key, or None while it is open."""
    now = now or utcnow()
    since = now - LOCK_WINDOW
    # Both queries run even without a member, so a decoy does the same work as a real send.
    conditions = [CodeFailure.throttle_key == key,
                  CodeFailure.member_id == (member_id if member_id is not None else -1)]
    until: datetime | None = None
    for condition in conditions:
        count, latest = session.execute(
            select(func.count(), func.max(CodeFailure.occurred_at))
            .where(condition, CodeFailure.occurred_at > since)
        ).one()
        if count >= LOCK_FAILURES and latest is not None:
            candidate = latest + LOCK_DURATION
            if candidate > now and (until is None or candidate > until):
                until = candidate
    return until


def _raise_if_locked(session: Session, member_id: int | None, key: str, now: datetime) -> None:
    until = locked_until(session, member_id, key, now)
    if until is not None:
        raise CodeError(f"認証コードの入力誤りが続いたため、{_hhmm(until)}まで認証できません。"
                        "時間をおいてもう一度お試しください。", kind="locked", retry_at=until)


# --- pacing decoys like real sends ------------------------------------------------
class SendPace:
    """How long the provider took for the last real sends of this worker, per channel."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._samples: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._random = random.SystemRandom()

    def record(self, channel: str, seconds: float) -> None:
        with self._lock:
            self._samples.setdefault(channel, deque(maxlen=self._size)).append(seconds)

    def samples(self, channel: str) -> list[float]:
        with self._lock:
            return list(self._samples.get(channel, ()))

    def draw(self, channel: str, default: float) -> float:
        samples = self.samples(channel)
        return self._random.choice(samples) if samples else default

    def clear(self) -> None:
        with self._lock:
            self._samples.clear()


send_pace = SendPace()


def _wait_like_a_send(gateway, channel: str) -> None:
    time.sleep(send_pace.draw(channel, float(getattr(gateway, "typical_send_seconds", 0.0))))


# --- sending ---------------------------------------------------------------------
def _check_channel(parsed: Phone, channel: str) -> None:
    if channel not in CODE_CHANNELS:
        raise CodeError("送信方法を選んでください。", kind="channel")
    if channel == "sms" and not parsed.can_receive_sms:
        raise CodeError("この電話番号ではSMSを受け取れません。音声通話をお選びください。", kind="channel")
    if channel == "voice" and not parsed.can_receive_voice:
        raise CodeError("この電話番号には音声通話でお知らせできません。", kind="channel")


def _parse(phone: str) -> Phone:
    try:
        return parse_phone(phone)
    except JpValueError as error:
        raise CodeError(error.message, kind="channel") from None


def _issue(session: Session, *, purpose: str, phone: str, channel: str, member_id: int | None,
           ip: str | None, decoy: bool, subject: str | None, key: str | None) -> CodeChallenge:
    if purpose not in CODE_PURPOSES:
        raise ValueError(f"unknown code purpose {purpose!r}")
    parsed = _parse(phone)
    if not decoy:
        _check_channel(parsed, channel)
    elif channel not in CODE_CHANNELS:
        raise CodeError("送信方法を選んでください。", kind="channel")
    now = utcnow()
    key = key or throttle_key(parsed.national, subject or (f"member:{member_id}" if member_id else "anonymous"))
    _raise_if_locked(session, None if decoy else member_id, key, now)
    check_send_allowed(session, key, ip, now)
    secret = _new_secret()
    code = code_for(secret)  # computed for decoys too: both answers do the same work
    gateway = sms_gateway()
    if decoy:
        _wait_like_a_send(gateway, channel)
    else:
        started = time.perf_counter()
        try:
            if channel == "sms":
                gateway.send_sms(parsed.e164, sms_text(code, purpose))
            else:
                gateway.send_voice(parsed.e164, voice_text(code, purpose))
        except GatewayError as error:
            metrics.code_failed(channel)
            log.warning("code %s by %s to a number ending %s failed: %s", purpose, channel,
                        parsed.national[-4:], type(error).__name__)
            raise CodeError(error.message, kind="gateway") from error
        send_pace.record(channel, time.perf_counter() - started)
        metrics.code_sent(channel)
    # A resend replaces every code still open for this number and purpose.
    session.execute(
        update(CodeChallenge)
        .where(CodeChallenge.phone == parsed.national, CodeChallenge.purpose == purpose,
               CodeChallenge.status == "active")
        .values(status="replaced")
        .execution_options(synchronize_session="fetch")
    )
    row = CodeChallenge(purpose=purpose, channel=channel, phone=parsed.national, member_id=member_id,
                        throttle_key=key, secret=secret, is_decoy=decoy, status="active", wrong_attempts=0, ip=ip,
                        created_at=now, expires_at=now + CODE_LIFETIME)
    session.add(row)
    session.flush()
    log.info("code challenge %s issued: purpose=%s channel=%s number ending %s", row.id, purpose, channel,
             parsed.national[-4:])
    return row


def send_code(session: Session, *, purpose: str, phone: str, channel: str, member_id: int | None,
              ip: str | None, subject: str | None = None, key: str | None = None) -> CodeChallenge:
    """Send a fresh code to `phone` (national digits) by `channel` ('sms' or 'voice').

    `subject` says who asked ('id:<identifier typed>'; default: the member); `key` is a
    throttle key already made (a resend keeps its challenge's key).
    Raises CodeError for throttles, lockout, a channel the number cannot take, or
    a gateway failure (with the gateway's message); nothing is stored then.
    """
    return _issue(session, purpose=purpose, phone=phone, channel=channel, member_id=member_id, ip=ip,
                  decoy=False, subject=subject, key=key)


def issue_decoy(session: Session, *, purpose: str, phone: str, channel: str, member_id: int | None,
                ip: str | None, subject: str | None = None, key: str | None = None) -> CodeChallenge:
    """The neutral answer: throttled, stored and shown like a real send, but nothing is sent
    and it never verifies. `member_id` is kept when the member matched but the channel
    cannot reach the phone, so switching to voice then sends a real code."""
    return _issue(session, purpose=purpose, phone=phone, channel=channel, member_id=member_id, ip=ip,
                  decoy=True, subject=subject, key=key)


def resend_code(session: Session, challenge_id: int, *, purpose: str, channel: str | None,
                ip: str | None, can_send: bool) -> CodeChallenge:
    """A new code for the same number (the previous one is replaced), optionally by another channel.

    `can_send` is the caller's judgement whether the challenge's member may really get a
    code (for signup: matched and not yet registered); otherwise a decoy is issued again.
    """
    previous = session.get(CodeChallenge, challenge_id)
    if previous is None or previous.purpose != purpose:
        raise CodeError("最初からやり直してください。", kind="invalid")
    channel = channel or previous.channel
    real = can_send and previous.member_id is not None
    if real and channel in CODE_CHANNELS:
        parsed = _parse(previous.phone)
        if (channel == "sms" and not parsed.can_receive_sms) or (channel == "voice" and not parsed.can_receive_voice):
            real = purpose in ("login", "phone_change")  # let send_code explain; signup/reset stay neutral
    issue = send_code if real else issue_decoy
    return issue(session, purpose=purpose, phone=previous.phone, channel=channel,
                 member_id=previous.member_id, ip=ip, key=previous.throttle_key or None)


# --- verifying -------------------------------------------------------------------
def verify_code(session: Session, challenge_id: int, code: str, *, purpose: str) -> CodeChallenge:
    """Accept `code` for this challenge once, or raise CodeError.

    A wrong code is counted (the caller commits even on error so the count holds).
    """
    now = utcnow()
    row = session.get(CodeChallenge, challenge_id, populate_existing=True)
    if row is None or row.purpose != purpose:
        raise CodeError(MSG_INVALID, kind="invalid")
    counted_member = None if row.is_decoy else row.member_id  # decoys never count against a member
    _raise_if_locked(session, counted_member, row.throttle_key, now)
    if row.status == "used":
        raise CodeError(MSG_USED, kind="used")
    if row.status == "replaced":
        raise CodeError(MSG_REPLACED, kind="replaced")
    if row.status == "burned":
        raise CodeError(MSG_BURNED, kind="burned")
    if now >= row.expires_at:
        raise CodeError(MSG_EXPIRED, kind="expired")
    try:
        typed = digits_only(code)
    except JpValueError:
        typed = ""
    matches = _hotp(row.secret).verify(typed, 0) if len(typed) == CODE_DIGITS else False
    if not matches or row.is_decoy:
        row.wrong_attempts += 1
        session.add(CodeFailure(member_id=counted_member, phone=row.phone, throttle_key=row.throttle_key,
                                occurred_at=now))
        if row.wrong_attempts >= MAX_WRONG_ENTRIES:
            row.status = "burned"
        session.flush()
        log.info("wrong code for challenge %s (%s of %s)", row.id, row.wrong_attempts, MAX_WRONG_ENTRIES)
        _raise_if_locked(session, counted_member, row.throttle_key, now)
        if row.status == "burned":
            raise CodeError(MSG_BURNED, kind="burned")
        left = MAX_WRONG_ENTRIES - row.wrong_attempts
        raise CodeError(f"{MSG_INVALID}あと{left}回入力できます。", kind="invalid")
    # Single use even when two requests race: only one UPDATE finds the row active.
    result = session.execute(
        update(CodeChallenge)
        .where(CodeChallenge.id == row.id, CodeChallenge.status == "active")
        .values(status="used", used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise CodeError(MSG_USED, kind="used")
    session.flush()
    log.info("code challenge %s verified (purpose=%s)", row.id, purpose)
    return row


def just_sent(session: Session, *, purpose: str, phone: str, channel: str, member_id: int,
              now: datetime | None = None) -> CodeChallenge | None:
    """The unused code this member had sent to this number by this channel less than the
    resend interval ago: a form sent twice (a double click) waits for that code too, instead
    of being told to wait a minute."""
    now = now or utcnow()
    return session.scalars(
        select(CodeChallenge).where(
            CodeChallenge.purpose == purpose, CodeChallenge.phone == phone, CodeChallenge.channel == channel,
            CodeChallenge.member_id == member_id, CodeChallenge.is_decoy.is_(False),
            CodeChallenge.status == "active", CodeChallenge.expires_at > now,
            CodeChallenge.created_at > now - PHONE_SEND_LIMITS[0][1])
        .order_by(CodeChallenge.id.desc())).first()


def active_challenge(session: Session, challenge_id: int | None, purpose: str) -> CodeChallenge | None:
    if not challenge_id:
        return None
    row = session.get(CodeChallenge, challenge_id)
    if row is None or row.purpose != purpose:
        return None
    return row


def seconds_until_resend(row: CodeChallenge, now: datetime | None = None) -> int:
    now = now or utcnow()
    window = PHONE_SEND_LIMITS[0][1]
    return max(0, int((row.created_at + window - now).total_seconds() + 0.999))


__all__ = ["CodeError", "send_code", "verify_code", "issue_decoy", "resend_code", "check_send_allowed",
           "locked_until", "CODE_LIFETIME"]
