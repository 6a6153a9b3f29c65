"""The member (組合員), the insured persons of the household, debit accounts."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in
from portal.jp.masking import mask_account
from portal.jp.text import kana_search_key

# Search keys compare byte by byte on PostgreSQL (collation "C"), so that one btree
# index serves `LIKE 'key%'` and the order of the results.
KanaKey = String(120).with_variant(String(120, collation="C"), "postgresql")


def kana_keys(name_kana: str) -> tuple[str, str | None]:
    """(key of the whole フリガナ, key of the given name) for the staff member search:
    ﾔﾏﾀﾞ, やまだ and ヤマダ find ヤマダ キョウコ by the first, キョウコ by the second."""
    family, sep, given = name_kana.replace("\u3000", " ").partition(" ")
    return kana_search_key(name_kana), (kana_search_key(given) or None) if sep else None

MEMBER_STATUSES = ("active", "suspended", "withdrawn")
SEXES = ("male", "female")
RELATIONS = ("self", "spouse", "child", "parent")
RELATION_LABELS = {"self": "本人", "spouse": "配偶者", "child": "子", "parent": "親"}
ACCOUNT_TYPES = {1: "普通", 2: "当座", 4: "貯蓄"}


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(f"status IN {sql_in(MEMBER_STATUSES)}", name="status"),
        CheckConstraint(f"sex IN {sql_in(SEXES)}", name="sex"),
        CheckConstraint("shares >= 0", name="shares_non_negative"),
        CheckConstraint("length(member_no) = 10", name="member_no_length"),
        # The staff search: a range of keys, already in the order of the results.
        Index("ix_members_name_kana_key", "name_kana_key", "member_no"),
        Index("ix_members_given_kana_key", "given_kana_key", "name_kana_key", "member_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_no: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    name_kana: Mapped[str] = mapped_column(String(120), index=True)
    # Set with name_kana (see kana_keys); bulk loads fill them themselves.
    name_kana_key: Mapped[str] = mapped_column(KanaKey, default="")
    given_kana_key: Mapped[str | None] = mapped_column(KanaKey)
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(6))
    postal_code: Mapped[str] = mapped_column(String(7))
    prefecture: Mapped[str] = mapped_column(String(8))
    city: Mapped[str] = mapped_column(String(60))
    street: Mapped[str] = mapped_column(String(120))
    building: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(11), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    login_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="active")
    shares: Mapped[int] = mapped_column(Integer, default=10)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic locking: two tabs editing the address cannot silently overwrite.
    version: Mapped[int] = mapped_column(Integer, default=1)

    insured_persons: Mapped[list[InsuredPerson]] = relationship(
        back_populates="member", order_by="InsuredPerson.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @validates("name_kana")
    def _set_kana_keys(self, _key: str, value: str) -> str:
        self.name_kana_key, self.given_kana_key = kana_keys(value or "")
        return value

    @property
    def is_registered(self) -> bool:
        return self.password_hash is not None

    @property
    def is_active_member(self) -> bool:
        return self.status == "active"

    @property
    def address(self) -> str:
        return f"{self.prefecture}{self.city}{self.street}{(' ' + self.building) if self.building else ''}"

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def get_id(self) -> str:
        return f"member:{self.id}"


class InsuredPerson(Base):
    """A person of the household covered by a contract (被共済者)."""

    __tablename__ = "insured_persons"
    __table_args__ = (
        CheckConstraint(f"relation IN {sql_in(RELATIONS)}", name="relation"),
        CheckConstraint(f"sex IN {sql_in(SEXES)}", name="sex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(60))
    name_kana: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(6))

    member: Mapped[Member] = relationship(back_populates="insured_persons")

    @property
    def relation_label(self) -> str:
        return RELATION_LABELS[self.relation]


class DebitAccount(Base):
    """A premium debit account (口座振替). Only the last 4 digits are ever shown."""

    __tablename__ = "debit_accounts"
    __table_args__ = (
        CheckConstraint("account_type IN (1, 2, 4)", name="account_type"),
        CheckConstraint("length(bank_code) = 4", name="bank_code_length"),
        CheckConstraint("length(branch_code) = 3", name="branch_code_length"),
        CheckConstraint("length(account_number) = 7", name="account_number_length"),
        UniqueConstraint("member_id", "bank_code", "branch_code", "account_type", "account_number",
                         name="uq_debit_accounts_member_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    bank_code: Mapped[str] = mapped_column(String(4))
    bank_name: Mapped[str] = mapped_column(String(60))
    branch_code: Mapped[str] = mapped_column(String(3))
    branch_name: Mapped[str] = mapped_column(String(60))
    account_type: Mapped[int] = mapped_column(Integer)
    account_number: Mapped[str] = mapped_column(String(7))
    holder_name: Mapped[str] = mapped_column(String(60))
    is_current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def last4(self) -> str:
        return self.account_number[-4:]

    @property
    def masked(self) -> str:
        return mask_account(self.bank_name, self.branch_name, ACCOUNT_TYPES[self.account_type], self.account_number)
