"""lower(username) and lower(email) indexes for case-insensitive user lookups

Revision ID: lms_0002
Revises: lms_0001
Create Date: 2026-12-14 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'lms_0002'
down_revision = 'lms_0001'
branch_labels = None
depends_on = None


def upgrade():
    # The expressions of lms.users.equal_ignoring_case, which login, registration and
    # password reset use: without them each lookup scans lms_user.
    op.create_index('ix_lms_user_lower_username', 'lms_user', [sa.text('lower(username)')],
                    unique=False)
    op.create_index('ix_lms_user_lower_email', 'lms_user', [sa.text('lower(email)')],
                    unique=False)


def downgrade():
    op.drop_index('ix_lms_user_lower_email', table_name='lms_user')
    op.drop_index('ix_lms_user_lower_username', table_name='lms_user')
