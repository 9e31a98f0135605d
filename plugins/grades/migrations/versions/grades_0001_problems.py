"""grades problems tables

Revision ID: grades_0001
Revises: None
Create Date: 2026-12-05 02:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'grades_0001'
down_revision = None
branch_labels = ('grades',)
depends_on = 'lms'


def upgrade():
    op.create_table('grades_student_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('usage_key', sa.String(length=255), nullable=False),
    sa.Column('block_type', sa.String(length=64), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_student_state_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_student_state')),
    sa.UniqueConstraint('user_id', 'usage_key', name=op.f('uq_grades_student_state_user_id'))
    )
    with op.batch_alter_table('grades_student_state', schema=None) as batch_op:
        batch_op.create_index('ix_grades_student_state_course_key_user_id', ['course_key', 'user_id'], unique=False)

    op.create_table('grades_student_state_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('grade', sa.Float(), nullable=True),
    sa.Column('max_grade', sa.Float(), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['state_id'], ['grades_student_state.id'], name=op.f('fk_grades_student_state_history_state_id_grades_student_state'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_student_state_history'))
    )
    with op.batch_alter_table('grades_student_state_history', schema=None) as batch_op:
        batch_op.create_index('ix_grades_student_state_history_state_id', ['state_id'], unique=False)

    op.create_table('grades_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('usage_key', sa.String(length=255), nullable=False),
    sa.Column('earned', sa.Float(), nullable=False),
    sa.Column('possible', sa.Float(), nullable=False),
    sa.Column('first_attempted', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_score_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_score')),
    sa.UniqueConstraint('user_id', 'usage_key', name=op.f('uq_grades_score_user_id'))
    )
    with op.batch_alter_table('grades_score', schema=None) as batch_op:
        batch_op.create_index('ix_grades_score_course_key_user_id', ['course_key', 'user_id'], unique=False)

    op.create_table('grades_score_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('earned', sa.Float(), nullable=False),
    sa.Column('possible', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['lms_user.id'], name=op.f('fk_grades_score_history_actor_id_lms_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['score_id'], ['grades_score.id'], name=op.f('fk_grades_score_history_score_id_grades_score'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_score_history'))
    )
    with op.batch_alter_table('grades_score_history', schema=None) as batch_op:
        batch_op.create_index('ix_grades_score_history_score_id', ['score_id'], unique=False)


def downgrade():
    with op.batch_alter_table('grades_score_history', schema=None) as batch_op:
        batch_op.drop_index('ix_grades_score_history_score_id')
    op.drop_table('grades_score_history')
    with op.batch_alter_table('grades_score', schema=None) as batch_op:
        batch_op.drop_index('ix_grades_score_course_key_user_id')
    op.drop_table('grades_score')
    with op.batch_alter_table('grades_student_state_history', schema=None) as batch_op:
        batch_op.drop_index('ix_grades_student_state_history_state_id')
    op.drop_table('grades_student_state_history')
    with op.batch_alter_table('grades_student_state', schema=None) as batch_op:
        batch_op.drop_index('ix_grades_student_state_course_key_user_id')
    op.drop_table('grades_student_state')
