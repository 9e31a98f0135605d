"""cohort tables (cohorts, memberships, settings, partition groups, CSV upload reports)

Revision ID: enrollment_0002
Revises: enrollment_0001
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'enrollment_0002'
down_revision = 'enrollment_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('enrollment_cohort_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('assignment_type', sa.String(length=20), nullable=False),
    sa.Column('user_partition_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_cohort_group')),
    sa.UniqueConstraint('course_key', 'name', name=op.f('uq_enrollment_cohort_group_course_key'))
    )
    op.create_table('enrollment_cohort_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('is_cohorted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_cohort_settings')),
    sa.UniqueConstraint('course_key', name=op.f('uq_enrollment_cohort_settings_course_key'))
    )
    op.create_table('enrollment_cohort_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['enrollment_cohort_group.id'], name='fk_enrollment_cohort_membership_cohort', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_enrollment_cohort_membership_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_cohort_membership')),
    sa.UniqueConstraint('user_id', 'course_key', name=op.f('uq_enrollment_cohort_membership_user_id'))
    )
    with op.batch_alter_table('enrollment_cohort_membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_cohort_membership_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('enrollment_cohort_preassignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['enrollment_cohort_group.id'], name='fk_enrollment_cohort_preassignment_cohort', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_cohort_preassignment')),
    sa.UniqueConstraint('course_key', 'email', name=op.f('uq_enrollment_cohort_preassignment_course_key'))
    )
    with op.batch_alter_table('enrollment_cohort_preassignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrollment_cohort_preassignment_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index('ix_enrollment_cohort_preassignment_email', ['email'], unique=False)

    op.create_table('enrollment_cohort_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('task_state', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=64), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('attempted', sa.Integer(), nullable=False),
    sa.Column('succeeded', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('preassigned', sa.Integer(), nullable=False),
    sa.Column('report', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requester_id'], ['lms_user.id'], name=op.f('fk_enrollment_cohort_upload_requester_id_lms_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_cohort_upload')),
    sa.UniqueConstraint('task_id', name=op.f('uq_enrollment_cohort_upload_task_id'))
    )
    with op.batch_alter_table('enrollment_cohort_upload', schema=None) as batch_op:
        batch_op.create_index('ix_enrollment_cohort_upload_course_key_id', ['course_key', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrollment_cohort_upload_requester_id'), ['requester_id'], unique=False)


def downgrade():
    with op.batch_alter_table('enrollment_cohort_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollment_cohort_upload_requester_id'))
        batch_op.drop_index('ix_enrollment_cohort_upload_course_key_id')
    op.drop_table('enrollment_cohort_upload')
    with op.batch_alter_table('enrollment_cohort_preassignment', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollment_cohort_preassignment_email')
        batch_op.drop_index(batch_op.f('ix_enrollment_cohort_preassignment_cohort_id'))
    op.drop_table('enrollment_cohort_preassignment')
    with op.batch_alter_table('enrollment_cohort_membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrollment_cohort_membership_cohort_id'))
    op.drop_table('enrollment_cohort_membership')
    op.drop_table('enrollment_cohort_settings')
    op.drop_table('enrollment_cohort_group')
