"""member kana search keys: stored, indexed keys of the フリガナ for the staff search

Revision ID: c7e5a9d31f42
Revises: 81600a694e25
Create Date: 2026-11-30 19:15:00
"""
from alembic import op
import sqlalchemy as sa

from portal.jp.text import SMALL_TO_LARGE_KANA


revision = 'c7e5a9d31f42'
down_revision = '81600a694e25'
branch_labels = None
depends_on = None

KanaKey = sa.String(length=120).with_variant(sa.String(length=120, collation='C'), 'postgresql')


def _key_sql(expr: str) -> str:
    """The SQL form of kana_search_key for stored フリガナ (already full-width katakana)."""
    for old, new in [(' ', ''), ('\u3000', ''), ('・', '')] + list(SMALL_TO_LARGE_KANA.items()):
        expr = f"replace({expr}, '{old}', '{new}')"
    return expr


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_kana_key', KanaKey, nullable=False, server_default=''))
        batch_op.add_column(sa.Column('given_kana_key', KanaKey, nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        given = "NULLIF(split_part(replace(name_kana, '\u3000', ' '), ' ', 2), '')"
    else:
        spaced = "replace(name_kana, '\u3000', ' ')"
        given = f"CASE WHEN instr({spaced}, ' ') > 0 THEN NULLIF(substr({spaced}, instr({spaced}, ' ') + 1), '') END"
    op.execute(f"UPDATE members SET name_kana_key = {_key_sql('name_kana')}, given_kana_key = {_key_sql(given)}")
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.alter_column('name_kana_key', server_default=None)
        batch_op.create_index('ix_members_name_kana_key', ['name_kana_key', 'member_no'], unique=False)
        batch_op.create_index('ix_members_given_kana_key', ['given_kana_key', 'name_kana_key', 'member_no'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_given_kana_key')
        batch_op.drop_index('ix_members_name_kana_key')
        batch_op.drop_column('given_kana_key')
        batch_op.drop_column('name_kana_key')
