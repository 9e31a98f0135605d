"""index enrollments by (course_key, id) for per-course cursor pages

Revision ID: enrollment_0005
Revises: enrollment_0004
"""
from alembic import op


revision = 'enrollment_0005'
down_revision = 'enrollment_0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrollment_enrollment', schema=None) as batch_op:
        batch_op.create_index('ix_enrollment_enrollment_course_key_id', ['course_key', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('enrollment_enrollment', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollment_enrollment_course_key_id')
