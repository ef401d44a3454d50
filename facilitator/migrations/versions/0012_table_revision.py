"""table revision: a number per table naming its committed state, so a figure read from a few tables is
reused until one of those changes (not until anything does)

Revision ID: 0012
Revises: 0011
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


# Not data figures are derived from: written on read paths, or the revisions themselves.
UNTRACKED = {'alembic_version', 'data_revision', 'table_revision', 'audit_event', 'sign_in_attempt'}


def upgrade():
    table = op.create_table(
        'table_revision',
        sa.Column('name', sa.String(length=64), primary_key=True),
        sa.Column('number', sa.BigInteger(), nullable=False),
    )
    # A number for every table now, so a figure read from tables never written since (prizes not yet
    # exchanged, say) is not recomputed after every change elsewhere. A table a later migration adds
    # gets its row when first written; until then the whole state's number stands in for it.
    names = sorted(set(sa.inspect(op.get_bind()).get_table_names()) - UNTRACKED)
    op.bulk_insert(table, [{'name': name, 'number': secrets.randbits(62) + 1} for name in names])


def downgrade():
    op.drop_table('table_revision')
