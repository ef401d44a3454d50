"""group feed token: a secret address for subscribing to a group's calendar

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # batch mode: SQLite adds a unique constraint only by copying the table.
    with op.batch_alter_table('care_group') as batch:
        batch.add_column(sa.Column('feed_token', sa.String(length=43), nullable=True))
        batch.create_unique_constraint(op.f('uq_care_group_feed_token'), ['feed_token'])


def downgrade():
    with op.batch_alter_table('care_group') as batch:
        batch.drop_constraint(op.f('uq_care_group_feed_token'), type_='unique')
        batch.drop_column('feed_token')
