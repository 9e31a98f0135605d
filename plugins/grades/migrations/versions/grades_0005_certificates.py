"""grades certificates tables

Revision ID: grades_0005
Revises: grades_0004
Create Date: 2026-12-05 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import lms.db


revision = 'grades_0005'
down_revision = 'grades_0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grades_generated_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('verify_uuid', sa.String(length=32), nullable=False),
    sa.Column('grade', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('download_uuid', sa.String(length=32), nullable=False),
    sa.Column('download_url', sa.String(length=128), nullable=False),
    sa.Column('error_reason', sa.String(length=512), nullable=False),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_generated_certificate_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_generated_certificate')),
    sa.UniqueConstraint('user_id', 'course_key', name=op.f('uq_grades_generated_certificate_user_id'))
    )
    op.create_index('ix_grades_generated_certificate_course_key', 'grades_generated_certificate', ['course_key'], unique=False)
    op.create_index('ix_grades_generated_certificate_verify_uuid', 'grades_generated_certificate', ['verify_uuid'], unique=False)
    op.create_table('grades_certificate_allowlist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_key', sa.String(length=255), nullable=False),
    sa.Column('allowlist', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_grades_certificate_allowlist_user_id_lms_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades_certificate_allowlist')),
    sa.UniqueConstraint('user_id', 'course_key', name=op.f('uq_grades_certificate_allowlist_user_id'))
    )


def downgrade():
    op.drop_table('grades_certificate_allowlist')
    op.drop_index('ix_grades_generated_certificate_verify_uuid', table_name='grades_generated_certificate')
    op.drop_index('ix_grades_generated_certificate_course_key', table_name='grades_generated_certificate')
    op.drop_table('grades_generated_certificate')
