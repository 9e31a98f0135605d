"""teams tables

Revision ID: teams_0001
Revises:
Create Date: 2026-12-05 09:50:00.000000
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'teams_0001'
down_revision = None
branch_labels = ('teams',)
depends_on = 'lms'


def upgrade():
    op.create_table('teams_course_team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=100), nullable=False),
    sa.Column('discussion_topic_id', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('topic_id', sa.String(length=255), nullable=False),
    sa.Column('date_created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('last_activity_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('team_size', sa.Integer(), nullable=False),
    sa.Column('organization_protected', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams_course_team')),
    sa.UniqueConstraint('discussion_topic_id', name=op.f('uq_teams_course_team_discussion_topic_id')),
    sa.UniqueConstraint('team_id', name=op.f('uq_teams_course_team_team_id'))
    )
    op.create_index('ix_teams_course_team_course_key_topic_id', 'teams_course_team', ['course_key', 'topic_id'], unique=False)
    op.create_table('teams_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('date_joined', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_activity_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams_course_team.id'], name=op.f('fk_teams_membership_team_id_teams_course_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_teams_membership_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams_membership')),
    sa.UniqueConstraint('user_id', 'team_id', name=op.f('uq_teams_membership_user_id'))
    )
    op.create_index(op.f('ix_teams_membership_team_id'), 'teams_membership', ['team_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_teams_membership_team_id'), table_name='teams_membership')
    op.drop_table('teams_membership')
    op.drop_index('ix_teams_course_team_course_key_topic_id', table_name='teams_course_team')
    op.drop_table('teams_course_team')
