"""grades grading tables

Revision ID: grades_0002
Revises: grades_0001
Create Date: 2026-12-05 02:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'grades_0002'
down_revision = 'grades_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grades_recompute_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_recompute_job'))
    )
    with op.batch_alter_table('grades_recompute_job', schema=None) as batch_op:
        batch_op.create_index('ix_grades_recompute_job_course_key', ['course_key'], unique=False)

    op.create_table('grades_course_grade',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('percent', sa.Float(), nullable=False),
    sa.Column('letter_grade', sa.String(length=255), nullable=False),
    sa.Column('passed_timestamp', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('course_version', sa.String(length=255), nullable=False),
    sa.Column('grading_policy_hash', sa.String(length=255), nullable=False),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_course_grade_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_course_grade')),
    sa.UniqueConstraint('user_id', 'course_key', name=op.f('uq_grades_course_grade_user_id'))
    )
    with op.batch_alter_table('grades_course_grade', schema=None) as batch_op:
        batch_op.create_index('ix_grades_course_grade_course_key_percent', ['course_key', 'percent'], unique=False)

    op.create_table('grades_subsection_grade',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('usage_key', sa.String(length=255), nullable=False),
    sa.Column('earned_all', sa.Float(), nullable=False),
    sa.Column('possible_all', sa.Float(), nullable=False),
    sa.Column('earned_graded', sa.Float(), nullable=False),
    sa.Column('possible_graded', sa.Float(), nullable=False),
    sa.Column('first_attempted', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_subsection_grade_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_subsection_grade')),
    sa.UniqueConstraint('user_id', 'usage_key', name=op.f('uq_grades_subsection_grade_user_id'))
    )
    with op.batch_alter_table('grades_subsection_grade', schema=None) as batch_op:
        batch_op.create_index('ix_grades_subsection_grade_course_key_user_id', ['course_key', 'user_id'], unique=False)

    op.create_table('grades_subsection_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grade_id', sa.Integer(), nullable=False),
    sa.Column('earned_all_override', sa.Float(), nullable=True),
    sa.Column('possible_all_override', sa.Float(), nullable=True),
    sa.Column('earned_graded_override', sa.Float(), nullable=True),
    sa.Column('possible_graded_override', sa.Float(), nullable=True),
    sa.Column('override_reason', sa.String(length=300), nullable=True),
    sa.Column('system', sa.String(length=100), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grade_id'], ['grades_subsection_grade.id'], name=op.f('fk_grades_subsection_override_grade_id_grades_subsection_grade'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_subsection_override')),
    sa.UniqueConstraint('grade_id', name=op.f('uq_grades_subsection_override_grade_id'))
    )
    op.create_table('grades_subsection_override_history',
    sa.Column('history_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grade_id', sa.Integer(), nullable=False),
    sa.Column('earned_all_override', sa.Float(), nullable=True),
    sa.Column('possible_all_override', sa.Float(), nullable=True),
    sa.Column('earned_graded_override', sa.Float(), nullable=True),
    sa.Column('possible_graded_override', sa.Float(), nullable=True),
    sa.Column('override_reason', sa.String(length=300), nullable=True),
    sa.Column('system', sa.String(length=100), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('history_date', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('history_type', sa.String(length=1), nullable=False),
    sa.Column('history_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['grade_id'], ['grades_subsection_grade.id'], name=op.f('fk_grades_subsection_override_history_grade_id_grades_subsection_grade'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['history_user_id'], ['lms_user.id'], name=op.f('fk_grades_subsection_override_history_history_user_id_lms_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('history_id', name=op.f('pk_grades_subsection_override_history'))
    )
    with op.batch_alter_table('grades_subsection_override_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grades_subsection_override_history_grade_id'), ['grade_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grades_subsection_override_history_id'), ['id'], unique=False)


def downgrade():
    with op.batch_alter_table('grades_subsection_override_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grades_subsection_override_history_id'))
        batch_op.drop_index(batch_op.f('ix_grades_subsection_override_history_grade_id'))
    op.drop_table('grades_subsection_override_history')
    op.drop_table('grades_subsection_override')
    with op.batch_alter_table('grades_subsection_grade', schema=None) as batch_op:
        batch_op.drop_index('ix_grades_subsection_grade_course_key_user_id')
    op.drop_table('grades_subsection_grade')
    with op.batch_alter_table('grades_course_grade', schema=None) as batch_op:
        batch_op.drop_index('ix_grades_course_grade_course_key_percent')
    op.drop_table('grades_course_grade')
    with op.batch_alter_table('grades_recompute_job', schema=None) as batch_op:
        batch_op.drop_index('ix_grades_recompute_job_course_key')
    op.drop_table('grades_recompute_job')
