"""attendance status retired: a flag instead of positions from 1000 on

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

RETIRED_FROM = 1000  # how 0001-0003 marked a retired status


def upgrade():
    op.add_column('attendance_status', sa.Column('retired', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text(f"UPDATE attendance_status SET retired = true, position = position - {RETIRED_FROM} "
                       f"WHERE position >= {RETIRED_FROM}"))


def downgrade():
    op.execute(sa.text(f"UPDATE attendance_status SET position = position + {RETIRED_FROM} WHERE retired"))
    with op.batch_alter_table('attendance_status') as batch:
        batch.drop_column('retired')
