"""grades completion table

Revision ID: grades_0004
Revises: grades_0003
Create Date: 2026-12-05 08:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'grades_0004'
down_revision = 'grades_0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grades_block_completion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('block_key', sa.String(length=255), nullable=False),
    sa.Column('block_type', sa.String(length=64), nullable=False),
    sa.Column('completion', sa.Float(), nullable=False),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_block_completion_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_block_completion')),
    sa.UniqueConstraint('user_id', 'course_key', 'block_key', name=op.f('uq_grades_block_completion_user_id'))
    )
    op.create_index('ix_grades_block_completion_resume', 'grades_block_completion', ['user_id', 'course_key', 'modified'], unique=False)


def downgrade():
    op.drop_index('ix_grades_block_completion_resume', table_name='grades_block_completion')
    op.drop_table('grades_block_completion')
