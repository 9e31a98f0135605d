"""mobile tables

Revision ID: mobile_0001
Revises:
Create Date: 2026-12-04 21:50:00.000000
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'mobile_0001'
down_revision = None
branch_labels = ('mobile',)
depends_on = 'lms'


def upgrade():
    op.create_table('mobile_position',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('parent_key', sa.String(length=255), nullable=False),
    sa.Column('child_key', sa.String(length=255), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_mobile_position_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_position')),
    sa.UniqueConstraint('user_id', 'course_key', 'parent_key', name=op.f('uq_mobile_position_user_id'))
    )
    op.create_table('mobile_user_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_mobile_user_activity_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_user_activity')),
    sa.UniqueConstraint('user_id', 'course_key', 'date', name=op.f('uq_mobile_user_activity_user_id'))
    )


def downgrade():
    op.drop_table('mobile_user_activity')
    op.drop_table('mobile_position')
