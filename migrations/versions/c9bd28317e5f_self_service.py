"""self-service: contract changes, cover-end notices, help

Revision ID: c9bd28317e5f
Revises: c7e5a9d31f42
Create Date: 2026-11-30 18:47:40
"""
import sqlalchemy as sa
from alembic import op

import portal.db
from portal.db import sql_in


revision = 'c9bd28317e5f'
down_revision = 'c7e5a9d31f42'
branch_labels = None
depends_on = None

# Cooling-off withdraws an online application.
OLD_APPLICATION_STATUSES = ('received', 'under_review', 'approved', 'declined')
NEW_APPLICATION_STATUSES = OLD_APPLICATION_STATUSES + ('withdrawn',)


def _application_statuses(statuses) -> None:
    with op.batch_alter_table('enrollment_applications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_enrollment_applications_status'), type_='check')
        batch_op.create_check_constraint('status', f"status IN {sql_in(statuses)}")


def upgrade() -> None:
    _application_statuses(NEW_APPLICATION_STATUSES)
    op.create_table('faq_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('answer_markdown', sa.Text(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('updated_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_staff_id'], ['staff_users.id'], name=op.f('fk_faq_entries_updated_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_entries'))
    )
    op.create_table('inquiries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('procedure_request_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('response_due_on', sa.Date(), nullable=False),
    sa.Column('is_waiting_for_staff', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("topic IN ('contract', 'claim', 'procedure', 'payment', 'mypage', 'other')", name=op.f('ck_inquiries_topic')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_inquiries_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procedure_request_id'], ['procedure_requests.id'], name=op.f('fk_inquiries_procedure_request_id_procedure_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiries')),
    sa.UniqueConstraint('procedure_request_id', name=op.f('uq_inquiries_procedure_request_id'))
    )
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiries_member_id'), ['member_id'], unique=False)

    op.create_table('proxy_claimants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('procedure_request_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_kana', sa.String(length=120), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("relation IN ('spouse', 'child', 'parent', 'grandchild', 'grandparent', 'sibling', 'relative3')", name=op.f('ck_proxy_claimants_relation')),
    sa.CheckConstraint("status IN ('pending', 'active', 'replaced', 'withdrawn')", name=op.f('ck_proxy_claimants_status')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_proxy_claimants_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procedure_request_id'], ['procedure_requests.id'], name=op.f('fk_proxy_claimants_procedure_request_id_procedure_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_claimants')),
    sa.UniqueConstraint('procedure_request_id', name=op.f('uq_proxy_claimants_procedure_request_id'))
    )
    with op.batch_alter_table('proxy_claimants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_claimants_member_id'), ['member_id'], unique=False)
        batch_op.create_index('uq_proxy_claimants_active', ['member_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('beneficiary_designations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('procedure_request_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_kana', sa.String(length=120), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('consent_name', sa.String(length=60), nullable=False),
    sa.Column('consented_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("relation IN ('spouse', 'child', 'parent', 'grandchild', 'grandparent', 'sibling', 'other_relative')", name=op.f('ck_beneficiary_designations_relation')),
    sa.CheckConstraint("status IN ('pending', 'active', 'replaced', 'withdrawn')", name=op.f('ck_beneficiary_designations_status')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_beneficiary_designations_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procedure_request_id'], ['procedure_requests.id'], name=op.f('fk_beneficiary_designations_procedure_request_id_procedure_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary_designations')),
    sa.UniqueConstraint('procedure_request_id', name=op.f('uq_beneficiary_designations_procedure_request_id'))
    )
    with op.batch_alter_table('beneficiary_designations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_designations_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index('uq_beneficiary_designations_active', ['contract_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('cover_end_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('cover_ends_on', sa.Date(), nullable=False),
    sa.Column('sent_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_cover_end_notices_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cover_end_notices')),
    sa.UniqueConstraint('contract_id', name=op.f('uq_cover_end_notices_contract_id'))
    )
    op.create_table('inquiry_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('author_member_id', sa.Integer(), nullable=True),
    sa.Column('author_staff_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(author_staff_id IS NULL) <> (author_member_id IS NULL)', name=op.f('ck_inquiry_messages_one_author')),
    sa.ForeignKeyConstraint(['author_member_id'], ['members.id'], name=op.f('fk_inquiry_messages_author_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_staff_id'], ['staff_users.id'], name=op.f('fk_inquiry_messages_author_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['inquiry_id'], ['inquiries.id'], name=op.f('fk_inquiry_messages_inquiry_id_inquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inquiry_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_inquiry_messages_idempotency_key'))
    )
    with op.batch_alter_table('inquiry_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inquiry_messages_inquiry_id'), ['inquiry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inquiry_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiry_messages_inquiry_id'))

    op.drop_table('inquiry_messages')
    op.drop_table('cover_end_notices')
    with op.batch_alter_table('beneficiary_designations', schema=None) as batch_op:
        batch_op.drop_index('uq_beneficiary_designations_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_beneficiary_designations_contract_id'))

    op.drop_table('beneficiary_designations')
    with op.batch_alter_table('proxy_claimants', schema=None) as batch_op:
        batch_op.drop_index('uq_proxy_claimants_active', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_proxy_claimants_member_id'))

    op.drop_table('proxy_claimants')
    with op.batch_alter_table('inquiries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inquiries_member_id'))

    op.drop_table('inquiries')
    op.drop_table('faq_entries')
    op.execute("UPDATE enrollment_applications SET status = 'declined' WHERE status = 'withdrawn'")
    _application_statuses(OLD_APPLICATION_STATUSES)
