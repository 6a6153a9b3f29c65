"""account security centre: passkeys, WebAuthn challenges, sign-in history; step-up code purpose

Revision ID: dd34d603f2fb
Revises: b2c0a1d5e7f1
Create Date: 2026-11-30 18:41:08.941956
"""
from alembic import op
import sqlalchemy as sa
import portal.db
from portal.db import sql_in


revision = 'dd34d603f2fb'
down_revision = 'b2c0a1d5e7f1'
branch_labels = None
depends_on = None

OLD_PURPOSES = ('signup', 'login', 'reset', 'phone_change')
NEW_PURPOSES = OLD_PURPOSES + ('reauth',)


def _code_purposes(purposes) -> None:
    with op.batch_alter_table('code_challenges', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_code_challenges_purpose'), type_='check')
        batch_op.create_check_constraint('purpose', f"purpose IN {sql_in(purposes)}")


def upgrade() -> None:
    _code_purposes(NEW_PURPOSES)
    op.create_table('passkeys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('credential_id', sa.String(length=1400), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('transports', sa.String(length=100), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(member_id IS NULL) <> (staff_id IS NULL)', name=op.f('ck_passkeys_one_owner')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_passkeys_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_passkeys_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passkeys')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_passkeys_credential_id'))
    )
    with op.batch_alter_table('passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passkeys_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_passkeys_staff_id'), ['staff_id'], unique=False)

    op.create_table('sign_in_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('is_success', sa.Boolean(), nullable=False),
    sa.Column('is_new_device', sa.Boolean(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('occurred_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("method IN ('password', 'passkey', 'code')", name=op.f('ck_sign_in_events_method')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_sign_in_events_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_events'))
    )
    with op.batch_alter_table('sign_in_events', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_events_member_occurred', ['member_id', 'occurred_at'], unique=False)

    op.create_table('webauthn_challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('register', 'login', 'step_up', 'staff_login')", name=op.f('ck_webauthn_challenges_purpose')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_webauthn_challenges_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_webauthn_challenges_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webauthn_challenges')),
    sa.UniqueConstraint('challenge', name=op.f('uq_webauthn_challenges_challenge'))
    )
    with op.batch_alter_table('webauthn_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webauthn_challenges_expires_at'), ['expires_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webauthn_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webauthn_challenges_expires_at'))

    op.drop_table('webauthn_challenges')
    with op.batch_alter_table('sign_in_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_events_member_occurred')

    op.drop_table('sign_in_events')
    with op.batch_alter_table('passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passkeys_staff_id'))
        batch_op.drop_index(batch_op.f('ix_passkeys_member_id'))

    op.drop_table('passkeys')
    _code_purposes(OLD_PURPOSES)
