"""grades course_home tables

Revision ID: grades_0003
Revises: grades_0002
Create Date: 2026-12-05 02:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'grades_0003'
down_revision = 'grades_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grades_course_goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('days_per_week', sa.Integer(), nullable=False),
    sa.Column('subscribed_to_reminders', sa.Boolean(), nullable=False),
    sa.Column('unsubscribe_token', sa.String(length=64), nullable=False),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_course_goal_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_course_goal')),
    sa.UniqueConstraint('unsubscribe_token', name=op.f('uq_grades_course_goal_unsubscribe_token')),
    sa.UniqueConstraint('user_id', 'course_key', name=op.f('uq_grades_course_goal_user_id'))
    )

    op.create_table('grades_welcome_dismissal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_welcome_dismissal_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_welcome_dismissal')),
    sa.UniqueConstraint('user_id', 'course_key', name=op.f('uq_grades_welcome_dismissal_user_id'))
    )

    op.create_table('grades_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('start_date', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('upgrade_deadline', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_schedule_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_schedule')),
    sa.UniqueConstraint('user_id', 'course_key', name=op.f('uq_grades_schedule_user_id'))
    )


def downgrade():
    op.drop_table('grades_schedule')
    op.drop_table('grades_welcome_dismissal')
    op.drop_table('grades_course_goal')
