"""data revision: one number naming the committed state of the data, so derived figures can be reused until it changes

Revision ID: 0011
Revises: 0010
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'data_revision',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('number', sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{'id': 1, 'number': secrets.randbits(62) + 1}])


def downgrade():
    op.drop_table('data_revision')
