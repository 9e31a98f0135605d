"""course modes: expiration_datetime_is_explicit

Revision ID: enrollment_0004
Revises: enrollment_0003
"""
from alembic import op
import sqlalchemy as sa


revision = 'enrollment_0004'
down_revision = 'enrollment_0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrollment_course_mode', schema=None) as batch_op:
        # Existing rows get false; the model supplies the value for new ones.
        batch_op.add_column(sa.Column('expiration_datetime_is_explicit', sa.Boolean(),
                                      nullable=False, server_default=sa.false()))
    with op.batch_alter_table('enrollment_course_mode', schema=None) as batch_op:
        batch_op.alter_column('expiration_datetime_is_explicit', server_default=None)


def downgrade():
    with op.batch_alter_table('enrollment_course_mode', schema=None) as batch_op:
        batch_op.drop_column('expiration_datetime_is_explicit')
