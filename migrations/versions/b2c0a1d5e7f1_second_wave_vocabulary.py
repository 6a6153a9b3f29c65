"""second wave vocabulary: procedure kinds and statuses, office and claims roles

Revision ID: b2c0a1d5e7f1
Revises: 9798bd25950d
Create Date: 2026-11-30 18:40:00
"""
from alembic import op

from portal.db import sql_in

revision = 'b2c0a1d5e7f1'
down_revision = '9798bd25950d'
branch_labels = None
depends_on = None

OLD_KINDS = ('address_change', 'phone_change', 'email_change', 'bank_account_change', 'certificate_mail',
             'certificate_pdf', 'enrollment', 'shop_order', 'subscription', 'notification_settings')
OLD_STATUSES = ('received', 'reviewing', 'under_review', 'completed', 'approved', 'declined',
                'awaiting_payment', 'paid', 'shipped', 'cancelled', 'failed', 'active')
OLD_ROLES = ('support', 'cs', 'marketing', 'admin')
NEW_KINDS = ('address_change', 'phone_change', 'email_change', 'bank_account_change', 'certificate_mail', 'certificate_pdf', 'enrollment', 'shop_order', 'subscription', 'notification_settings', 'claim', 'damage_report', 'paper_forms', 'contract_certificate', 'property_rerating', 'name_change', 'cancellation', 'cooling_off', 'withdrawal', 'beneficiary_change', 'proxy_claimant', 'contract_change', 'inquiry', 'other')
NEW_STATUSES = ('received', 'reviewing', 'under_review', 'completed', 'approved', 'declined', 'awaiting_payment', 'paid', 'shipped', 'cancelled', 'failed', 'active', 'checking_documents', 'awaiting_documents', 'returned', 'withdrawn', 'preparing_shipment', 'visit_proposed', 'visit_scheduled', 'not_payable')
NEW_ROLES = OLD_ROLES + ('office', 'claims')


def _replace_checks(kinds, statuses, roles) -> None:
    with op.batch_alter_table('procedure_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_procedure_requests_kind'), type_='check')
        batch_op.drop_constraint(op.f('ck_procedure_requests_status'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN {sql_in(kinds)}")
        batch_op.create_check_constraint('status', f"status IN {sql_in(statuses)}")
    with op.batch_alter_table('staff_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_staff_roles_role'), type_='check')
        batch_op.create_check_constraint('role', f"role IN {sql_in(roles)}")


def upgrade() -> None:
    _replace_checks(NEW_KINDS, NEW_STATUSES, NEW_ROLES)


def downgrade() -> None:
    _replace_checks(OLD_KINDS, OLD_STATUSES, OLD_ROLES)
