"""person revision: a number per person for the rows of a table that are each one person's (attendance),
so a page of one person is kept while attendance is saved for others

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # No rows now: a person without one stands at 0 until their rows first change. A process that kept
    # pages before the upgrade is restarted by it, so nothing it kept is compared with these.
    op.create_table(
        'person_revision',
        sa.Column('name', sa.String(length=64), primary_key=True),
        sa.Column('participant_id', sa.Integer(), primary_key=True),
        sa.Column('number', sa.BigInteger(), nullable=False),
    )


def downgrade():
    op.drop_table('person_revision')
