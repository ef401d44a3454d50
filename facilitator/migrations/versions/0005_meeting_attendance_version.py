"""meeting attendance version: a save made from an older page is refused, not silently applied

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Existing meetings start at 0, as a new one does; pages open during the upgrade carry no
    # version and are asked to reload.
    op.add_column('meeting', sa.Column('attendance_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    # batch mode: SQLite drops a column only by copying the table.
    with op.batch_alter_table('meeting') as batch:
        batch.drop_column('attendance_version')
