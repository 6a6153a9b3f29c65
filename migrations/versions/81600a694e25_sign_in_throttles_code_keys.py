"""sign-in throttles and per-(number, subject) code counters

Existing challenges and failures get an empty throttle key: they leave the 24-hour
windows within a day, and a resend of an old challenge makes its key afresh.

Revision ID: 81600a694e25
Revises: 1319848c089a
Create Date: 2026-11-30 18:44:37.532914
"""
import sqlalchemy as sa
from alembic import op

import portal.db


revision = '81600a694e25'
down_revision = '1319848c089a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_throttles')),
    sa.UniqueConstraint('key', name=op.f('uq_sign_in_throttles_key'))
    )
    with op.batch_alter_table('code_challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('throttle_key', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index('ix_code_challenges_throttle_key_created', ['throttle_key', 'created_at'], unique=False)

    with op.batch_alter_table('code_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('throttle_key', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_code_failures_throttle_key'), ['throttle_key'], unique=False)

    # The default only filled the rows already there; new rows always carry a key.
    for table in ('code_challenges', 'code_failures'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('throttle_key', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('code_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_failures_throttle_key'))
        batch_op.drop_column('throttle_key')

    with op.batch_alter_table('code_challenges', schema=None) as batch_op:
        batch_op.drop_index('ix_code_challenges_throttle_key_created')
        batch_op.drop_column('throttle_key')

    op.drop_table('sign_in_throttles')
