"""manual enrollment audit and embargo IP filter (upstream ManualEnrollmentAudit, IPFilter)

Revision ID: enrollment_0006
Revises: enrollment_0005
"""
import sqlalchemy as sa
from alembic import op

import lms.db

revision = 'enrollment_0006'
down_revision = 'enrollment_0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'enrollment_embargo_ip_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('change_date', lms.db.UTCDateTime(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('whitelist', sa.Text(), nullable=False),
        sa.Column('blacklist', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'enrollment_manual_audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrollment_id', sa.Integer(), nullable=True),
        sa.Column('enrolled_by_id', sa.Integer(), nullable=True),
        sa.Column('enrolled_email', sa.String(length=255), nullable=False),
        sa.Column('time_stamp', lms.db.UTCDateTime(), nullable=False),
        sa.Column('state_transition', sa.String(length=255), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('role', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['enrolled_by_id'], ['lms_user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment_enrollment.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('enrollment_manual_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_manual_audit_enrolled_by_id'),
                              ['enrolled_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrollment_manual_audit_enrolled_email'),
                              ['enrolled_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrollment_manual_audit_enrollment_id'),
                              ['enrollment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('enrollment_manual_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollment_manual_audit_enrollment_id'))
        batch_op.drop_index(batch_op.f('ix_enrollment_manual_audit_enrolled_email'))
        batch_op.drop_index(batch_op.f('ix_enrollment_manual_audit_enrolled_by_id'))
    op.drop_table('enrollment_manual_audit')
    op.drop_table('enrollment_embargo_ip_filter')
