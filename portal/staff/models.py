"""Staff accounts (separate from members) and the append-only audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime, sql_in

STAFF_ROLES = ("support", "cs", "marketing", "admin", "office", "claims")
ROLE_LABELS = {"support": "サポート", "cs": "CS推進", "marketing": "マーケティング", "admin": "管理者",
               "office": "事務センター", "claims": "共済金担当"}


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str] = mapped_column(String(64))
    # The last TOTP time step accepted: a code is never accepted twice.
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    roles: Mapped[list[StaffRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names & set(roles))

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    def get_id(self) -> str:
        return f"staff:{self.id}"


class StaffRole(Base):
    __tablename__ = "staff_roles"
    __table_args__ = (
        CheckConstraint(f"role IN {sql_in(STAFF_ROLES)}", name="role"),
        UniqueConstraint("staff_id", "role", name="uq_staff_roles_staff_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(12))


class AuditLog(Base):
    """Who, as whom, did what, to what, when, from where. Never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint("actor_type IN ('member', 'staff', 'system', 'anonymous')", name="actor_type"),
        Index("ix_audit_log_staff_time", "actor_staff_id", "occurred_at"),
        Index("ix_audit_log_member_time", "acting_as_member_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The member whose data is touched: the member themself, or the one a staff user acts for.
    acting_as_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON, already masked
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(32))


# --- append-only audit log ------------------------------------------------------
# The application may only add audit rows. Mapper events stop an ORM update or
# delete of a loaded row; the session event stops bulk UPDATE/DELETE statements
# aimed at the table through the ORM (session.execute(update(AuditLog)...)).
class AuditLogImmutableError(RuntimeError):
    """Raised when code tries to change or remove an audit row."""


from sqlalchemy import event  # noqa: E402  (kept next to the listeners it serves)
from sqlalchemy.orm import Session  # noqa: E402


@event.listens_for(AuditLog, "before_update")
def _refuse_audit_update(_mapper, _connection, target: AuditLog) -> None:
    raise AuditLogImmutableError(f"audit log rows are append-only (row {target.id})")


@event.listens_for(AuditLog, "before_delete")
def _refuse_audit_delete(_mapper, _connection, target: AuditLog) -> None:
    raise AuditLogImmutableError(f"audit log rows are append-only (row {target.id})")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_arguments.get("mapper")
    table = getattr(state.statement, "table", None)
    if (mapper is not None and mapper.class_ is AuditLog) or getattr(table, "name", None) == "audit_log":
        raise AuditLogImmutableError("audit log rows are append-only (bulk update/delete refused)")
