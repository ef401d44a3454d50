"""accounts: invitations and resets, two-factor sign-in, sign-in attempts, session epochs, program
contact and logoff settings; on PostgreSQL the audit table refuses UPDATE and DELETE

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

PROGRAM_CHECKS = (
    ('idle_staff_range', 'idle_minutes_staff BETWEEN 5 AND 60'),
    ('idle_participant_range', 'idle_minutes_participant BETWEEN 5 AND 60'),
    ('portal_days_range', 'portal_days_after_discharge BETWEEN 0 AND 365'),
)


def upgrade():
    with op.batch_alter_table('user_account') as batch:
        batch.alter_column('password_hash', existing_type=sa.String(length=256), nullable=True)
        batch.add_column(sa.Column('deactivated_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('mfa_enabled_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('program') as batch:
        batch.add_column(sa.Column('address', sa.String(length=200), server_default='', nullable=False))
        batch.add_column(sa.Column('phone', sa.String(length=40), server_default='', nullable=False))
        batch.add_column(sa.Column('idle_minutes_staff', sa.Integer(), server_default='15', nullable=False))
        batch.add_column(sa.Column('idle_minutes_participant', sa.Integer(), server_default='15', nullable=False))
        batch.add_column(sa.Column('require_mfa_staff', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('portal_days_after_discharge', sa.Integer(), server_default='30', nullable=False))
        for name, condition in PROGRAM_CHECKS:
            batch.create_check_constraint(name, condition)
    op.create_table(
        'account_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=10), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name=op.f('ck_account_token_purpose_allowed')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_account_token_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE',
                                name=op.f('fk_account_token_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash')),
    )
    op.create_index(op.f('ix_account_token_user_id'), 'account_token', ['user_id'])
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=128), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE',
                                name=op.f('fk_recovery_code_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    )
    op.create_index(op.f('ix_recovery_code_user_id'), 'recovery_code', ['user_id'])
    op.create_table(
        'sign_in_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('succeeded', sa.Boolean(), nullable=False),
        sa.Column('remote_addr', sa.String(length=45), nullable=False),
        sa.Column('user_agent', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE',
                                name=op.f('fk_sign_in_attempt_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempt')),
    )
    op.create_index(op.f('ix_sign_in_attempt_user_id'), 'sign_in_attempt', ['user_id'])
    op.create_index(op.f('ix_sign_in_attempt_at'), 'sign_in_attempt', ['at'])
    if op.get_bind().dialect.name == 'postgresql':
        # The audit trail is append-only: no role the app connects as can rewrite history.
        op.execute("""
            CREATE FUNCTION audit_event_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit events cannot be changed or deleted';
            END $$;
        """)
        op.execute("""
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only();
        """)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_is_append_only()")
    op.drop_table('sign_in_attempt')
    op.drop_table('recovery_code')
    op.drop_table('account_token')
    with op.batch_alter_table('program') as batch:
        for name, _ in PROGRAM_CHECKS:
            batch.drop_constraint(name, type_='check')
        for column in ('portal_days_after_discharge', 'require_mfa_staff', 'idle_minutes_participant',
                       'idle_minutes_staff', 'phone', 'address'):
            batch.drop_column(column)
    with op.batch_alter_table('user_account') as batch:
        for column in ('mfa_enabled_at', 'totp_secret', 'session_epoch', 'deactivated_at'):
            batch.drop_column(column)
        batch.alter_column('password_hash', existing_type=sa.String(length=256), nullable=False)
