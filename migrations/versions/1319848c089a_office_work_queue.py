"""office work queue: holds, certificate and kit tracking numbers, premium
adjustments, the enrolment's payment method and stored health declaration

Revision ID: 1319848c089a
Revises: dd34d603f2fb
Create Date: 2026-11-30 18:45:08.132938
"""
from alembic import op
import sqlalchemy as sa
import portal.db


revision = '1319848c089a'
down_revision = 'dd34d603f2fb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('work_holds',
    sa.Column('procedure_request_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['procedure_request_id'], ['procedure_requests.id'], name=op.f('fk_work_holds_procedure_request_id_procedure_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_work_holds_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('procedure_request_id', name=op.f('pk_work_holds'))
    )
    with op.batch_alter_table('work_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_holds_staff_id'), ['staff_id'], unique=False)

    op.create_table('premium_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('procedure_request_id', sa.Integer(), nullable=False),
    sa.Column('amount_yen', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_premium_adjustments_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procedure_request_id'], ['procedure_requests.id'], name=op.f('fk_premium_adjustments_procedure_request_id_procedure_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_premium_adjustments')),
    sa.UniqueConstraint('procedure_request_id', name=op.f('uq_premium_adjustments_procedure_request_id'))
    )
    with op.batch_alter_table('premium_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_premium_adjustments_contract_id'), ['contract_id'], unique=False)

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_tracking_no', sa.String(length=40), nullable=True))

    with op.batch_alter_table('enrollment_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_method', sa.String(length=10), server_default='debit', nullable=False))
        batch_op.add_column(sa.Column('declaration', sa.Text(), nullable=True))
        batch_op.create_check_constraint('payment_method', "payment_method IN ('debit', 'transfer')")

    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking_no', sa.String(length=40), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('shop_orders', schema=None) as batch_op:
        batch_op.drop_column('tracking_no')

    with op.batch_alter_table('enrollment_applications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_enrollment_applications_payment_method'), type_='check')
        batch_op.drop_column('declaration')
        batch_op.drop_column('payment_method')

    with op.batch_alter_table('contracts', schema=None) as batch_op:
        batch_op.drop_column('certificate_tracking_no')

    with op.batch_alter_table('premium_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_premium_adjustments_contract_id'))

    op.drop_table('premium_adjustments')
    with op.batch_alter_table('work_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_holds_staff_id'))

    op.drop_table('work_holds')
