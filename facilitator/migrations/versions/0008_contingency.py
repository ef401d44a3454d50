"""contingency management: protocol versions per program, missed tests, draws with their random
number and the prize given, the prize cabinet, voucher exchanges

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cm_prize',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('value_cents', sa.Integer(), nullable=False),
    sa.Column('in_stock', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("size IN ('small', 'large', 'jumbo')", name=op.f('ck_cm_prize_size_allowed')),
    sa.CheckConstraint('in_stock >= 0', name=op.f('ck_cm_prize_stock_not_negative')),
    sa.CheckConstraint('value_cents >= 0', name=op.f('ck_cm_prize_value_not_negative')),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], name=op.f('fk_cm_prize_program_id_program'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cm_prize')),
    sa.UniqueConstraint('program_id', 'name', name=op.f('uq_cm_prize_program_id_name'))
    )
    op.create_index(op.f('ix_cm_prize_program_id'), 'cm_prize', ['program_id'])

    op.create_table('cm_missed_test',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('missed_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_cm_missed_test_participant_id_participant')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_cm_missed_test_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cm_missed_test')),
    sa.UniqueConstraint('participant_id', 'missed_on', name=op.f('uq_cm_missed_test_participant_id_missed_on'))
    )
    op.create_index(op.f('ix_cm_missed_test_participant_id'), 'cm_missed_test', ['participant_id'])

    op.create_table('cm_protocol',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('yearly_cap_cents', sa.Integer(), nullable=False),
    sa.Column('budget_cents', sa.Integer(), nullable=False),
    sa.Column('year_starts_month', sa.Integer(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('off', 'prize', 'voucher')", name=op.f('ck_cm_protocol_kind_allowed')),
    sa.CheckConstraint('budget_cents >= 0', name=op.f('ck_cm_protocol_budget_not_negative')),
    sa.CheckConstraint('year_starts_month BETWEEN 1 AND 12', name=op.f('ck_cm_protocol_year_month_range')),
    sa.CheckConstraint('yearly_cap_cents > 0', name=op.f('ck_cm_protocol_cap_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_cm_protocol_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['program_id'], ['program.id'], name=op.f('fk_cm_protocol_program_id_program'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cm_protocol'))
    )
    op.create_index(op.f('ix_cm_protocol_program_id'), 'cm_protocol', ['program_id'])

    op.create_table('cm_voucher_exchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('exchanged_on', sa.Date(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=120), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_cm_voucher_exchange_amount_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_cm_voucher_exchange_approved_by_id_user_account')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_cm_voucher_exchange_participant_id_participant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cm_voucher_exchange'))
    )
    op.create_index(op.f('ix_cm_voucher_exchange_participant_id'), 'cm_voucher_exchange', ['participant_id'])

    op.create_table('cm_draw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('drug_test_id', sa.Integer(), nullable=True),
    sa.Column('attendance_id', sa.Integer(), nullable=True),
    sa.Column('drawn_on', sa.Date(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=False),
    sa.Column('drawn_by_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('slips', sa.Integer(), nullable=False),
    sa.Column('bowl', sa.JSON(), nullable=False),
    sa.Column('size', sa.String(length=8), nullable=False),
    sa.Column('size_cents', sa.Integer(), nullable=False),
    sa.Column('prize_id', sa.Integer(), nullable=True),
    sa.Column('prize_cents', sa.Integer(), nullable=True),
    sa.Column('given_at', sa.DateTime(), nullable=True),
    sa.Column('given_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("size IN ('good_job', 'small', 'large', 'jumbo')", name=op.f('ck_cm_draw_size_allowed')),
    sa.CheckConstraint('(drug_test_id IS NULL) <> (attendance_id IS NULL)', name=op.f('ck_cm_draw_test_or_attendance')),
    sa.CheckConstraint('(prize_id IS NULL) = (given_at IS NULL)', name=op.f('ck_cm_draw_prize_has_time')),
    sa.CheckConstraint('number >= 0 AND number < slips', name=op.f('ck_cm_draw_number_in_bowl')),
    sa.ForeignKeyConstraint(['attendance_id'], ['attendance.id'], name=op.f('fk_cm_draw_attendance_id_attendance')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['user_account.id'], name=op.f('fk_cm_draw_drawn_by_id_user_account')),
    sa.ForeignKeyConstraint(['drug_test_id'], ['drug_test.id'], name=op.f('fk_cm_draw_drug_test_id_drug_test')),
    sa.ForeignKeyConstraint(['given_by_id'], ['user_account.id'], name=op.f('fk_cm_draw_given_by_id_user_account')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_cm_draw_participant_id_participant')),
    sa.ForeignKeyConstraint(['prize_id'], ['cm_prize.id'], name=op.f('fk_cm_draw_prize_id_cm_prize')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cm_draw'))
    )
    op.create_index(op.f('ix_cm_draw_attendance_id'), 'cm_draw', ['attendance_id'])
    op.create_index(op.f('ix_cm_draw_drug_test_id'), 'cm_draw', ['drug_test_id'])
    op.create_index(op.f('ix_cm_draw_participant_id'), 'cm_draw', ['participant_id'])


def downgrade():
    op.drop_index(op.f('ix_cm_draw_participant_id'), table_name='cm_draw')
    op.drop_index(op.f('ix_cm_draw_drug_test_id'), table_name='cm_draw')
    op.drop_index(op.f('ix_cm_draw_attendance_id'), table_name='cm_draw')
    op.drop_table('cm_draw')
    op.drop_index(op.f('ix_cm_voucher_exchange_participant_id'), table_name='cm_voucher_exchange')
    op.drop_table('cm_voucher_exchange')
    op.drop_index(op.f('ix_cm_protocol_program_id'), table_name='cm_protocol')
    op.drop_table('cm_protocol')
    op.drop_index(op.f('ix_cm_missed_test_participant_id'), table_name='cm_missed_test')
    op.drop_table('cm_missed_test')
    op.drop_index(op.f('ix_cm_prize_program_id'), table_name='cm_prize')
    op.drop_table('cm_prize')
