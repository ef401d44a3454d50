"""credit minutes: time in treatment from individual sessions and make-ups counts toward hours

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # batch mode: SQLite adds a check constraint only by copying the table.
    with op.batch_alter_table('credit') as batch:
        batch.add_column(sa.Column('minutes', sa.Integer(), server_default='0', nullable=False))
        batch.create_check_constraint(op.f('ck_credit_minutes_range'), 'minutes BETWEEN 0 AND 480')


def downgrade():
    with op.batch_alter_table('credit') as batch:
        batch.drop_constraint(op.f('ck_credit_minutes_range'), type_='check')
        batch.drop_column('minutes')
