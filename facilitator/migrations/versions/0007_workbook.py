"""workbook: worksheet answers (participant x worksheet of the version answered on) and the
participant's private calendar feed token

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'worksheet_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('worksheet_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'reviewed')",
                           name=op.f('ck_worksheet_answer_status_allowed')),
        sa.CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL",
                           name=op.f('ck_worksheet_answer_submitted_has_date')),
        sa.CheckConstraint("(status = 'reviewed') = (reviewed_at IS NOT NULL AND reviewed_by_id IS NOT NULL)",
                           name=op.f('ck_worksheet_answer_reviewed_has_reviewer')),
        sa.ForeignKeyConstraint(['participant_id'], ['participant.id'],
                                name=op.f('fk_worksheet_answer_participant_id_participant')),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'],
                                name=op.f('fk_worksheet_answer_reviewed_by_id_user_account')),
        sa.ForeignKeyConstraint(['worksheet_id'], ['worksheet.id'],
                                name=op.f('fk_worksheet_answer_worksheet_id_worksheet')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_worksheet_answer')),
        sa.UniqueConstraint('participant_id', 'worksheet_id', name=op.f('uq_worksheet_answer_participant_id_worksheet_id')),
    )
    op.create_index(op.f('ix_worksheet_answer_participant_id'), 'worksheet_answer', ['participant_id'])
    op.create_index(op.f('ix_worksheet_answer_worksheet_id'), 'worksheet_answer', ['worksheet_id'])
    # batch mode: SQLite adds a unique constraint only by copying the table.
    with op.batch_alter_table('participant') as batch:
        batch.add_column(sa.Column('feed_token', sa.String(length=43), nullable=True))
        batch.create_unique_constraint(op.f('uq_participant_feed_token'), ['feed_token'])


def downgrade():
    with op.batch_alter_table('participant') as batch:
        batch.drop_constraint(op.f('uq_participant_feed_token'), type_='unique')
        batch.drop_column('feed_token')
    op.drop_index(op.f('ix_worksheet_answer_worksheet_id'), table_name='worksheet_answer')
    op.drop_index(op.f('ix_worksheet_answer_participant_id'), table_name='worksheet_answer')
    op.drop_table('worksheet_answer')
